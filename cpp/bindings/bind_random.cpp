// Random fills: checks the output array (no conversion: the user's array is
// the one written), then fills it without the GIL.
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "bindings/arrays.hpp"
#include "fastoptim/random/fill.hpp"

namespace py = pybind11;

namespace fastoptim_bindings {

namespace {

fastoptim::Dist parse_dist(const std::string& s) {
  if (s == "uniform") return fastoptim::Dist::uniform;
  if (s == "normal") return fastoptim::Dist::normal;
  if (s == "truncated_normal") return fastoptim::Dist::truncated_normal;
  throw py::value_error("dist must be 'uniform', 'normal' or 'truncated_normal', got '" + s + "'");
}

// Parameters each distribution reads (fill.hpp): a shorter tuple would leave
// some as 0 (uniform's high = 0 would clamp every value to 0).
std::size_t param_count(fastoptim::Dist d) {
  switch (d) {
    case fastoptim::Dist::uniform: return 3;
    case fastoptim::Dist::normal: return 2;
    case fastoptim::Dist::truncated_normal: return 6;
  }
  return 0;
}

fastoptim::FillParams make_params(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter,
                                  const py::tuple& p) {
  fastoptim::FillParams fp{};
  fp.key[0] = static_cast<std::uint32_t>(seed);
  fp.key[1] = static_cast<std::uint32_t>(seed >> 32);
  fp.stream = stream;
  fp.counter = counter;
  if (p.size() > 6) throw py::value_error("at most 6 distribution parameters");
  for (std::size_t i = 0; i < p.size(); ++i) fp.p[i] = p[i].cast<double>();
  return fp;
}

}  // namespace

void bind_random(py::module_& m) {
  m.def(
      "random_fill",
      [](py::handle out, const std::string& dist, std::uint64_t seed, std::uint64_t stream,
         std::uint64_t counter, const py::tuple& params) {
        const fastoptim::Dist d = parse_dist(dist);
        if (params.size() != param_count(d))
          throw py::value_error("dist '" + dist + "' takes " + std::to_string(param_count(d)) +
                                " parameters, got " + std::to_string(params.size()));
        const DtypeCode code = check_output_array(out.ptr(), "out");
        const fastoptim::FillParams fp = make_params(seed, stream, counter, params);
        const std::size_t n = array_size(out.ptr());
        void* data = proxy(out.ptr())->data;
        const bool f64 = code == DtypeCode::f64;
        {
          py::gil_scoped_release nogil;
          fastoptim::random_fill(d, f64 ? 1 : 0, data, n, fp);
        }
        return fastoptim::blocks_used(d, f64, n);
      },
      py::arg("out"), py::arg("dist"), py::arg("seed"), py::arg("stream"), py::arg("counter"),
      py::arg("params"), R"doc(
Fill ``out`` (float32/float64, C-contiguous, writeable) in place from the
Philox4x32-10 stream (key from ``seed``, ``stream``, first block ``counter``).
``params``: uniform (low, high - low, high), values at most high; normal
(mean, std); truncated_normal (mean, scale, Phi(lo), Phi(hi) - Phi(lo), lo,
hi). Returns the number of counter blocks used. Internal:
fastoptim.random.Generator validates and calls this.
)doc");
  m.def(
      "random_bits",
      [](py::handle out, std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
        PyObject* o = out.ptr();
        if (!is_ndarray(o))
          throw py::type_error("out must be a numpy.ndarray of uint32, got " + type_name(o));
        const auto* d = py::detail::array_descriptor_proxy(proxy(o)->descr);
        if (d->type_num != py::detail::npy_api::NPY_UINT32_ || d->byteorder == '>')
          throw py::type_error("out has dtype " + dtype_str(o) + "; expected native uint32");
        if (!c_contiguous(o) || !aligned(o) || !writeable(o))
          throw py::value_error("out must be C-contiguous, aligned and writeable");
        const fastoptim::FillParams fp = make_params(seed, stream, counter, py::tuple());
        const std::size_t n = array_size(o);
        void* data = proxy(o)->data;
        {
          py::gil_scoped_release nogil;
          fastoptim::random_fill(fastoptim::Dist::uniform, 2, data, n, fp);
        }
        return fastoptim::blocks_used(fastoptim::Dist::uniform, false, n);
      },
      py::arg("out"), py::arg("seed"), py::arg("stream"), py::arg("counter"),
      "Raw Philox4x32-10 words in the fill layout (known-answer tests).");
  m.def("get_random_parallel_threshold", &fastoptim::random_parallel_threshold,
        "Fills with fewer elements than this run on the caller's thread.");
  m.def(
      "set_random_parallel_threshold",
      [](long long n) {
        if (n < 1) throw py::value_error("n must be >= 1, got " + std::to_string(n));
        fastoptim::set_random_parallel_threshold(static_cast<std::size_t>(n));
      },
      py::arg("n"));
}

}  // namespace fastoptim_bindings
