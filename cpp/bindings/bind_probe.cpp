// fastoptim._core.probe: roofline probes for the benchmarks.
#include <pybind11/pybind11.h>

#include <iterator>
#include <string>

#include "arrays.hpp"
#include "fastoptim/probe.hpp"

namespace py = pybind11;

namespace fastoptim_bindings {

void bind_probe(py::module_& m) {
  m.def(
      "probe",
      [](const std::string& kind, py::object p, py::object g, py::object a, py::object b,
         int nthreads) {
        using fastoptim::ProbeKind;
        static const char* const kNames[] = {"sgd",     "momentum", "adagrad", "rmsprop",
                                             "adam",    "stream1",  "stream2", "stream3",
                                             "adamw"};
        static const int kBuffers[] = {0, 1, 1, 1, 2, 0, 1, 2, 2};
        static_assert(std::size(kNames) == std::size(kBuffers), "one buffer count per kind");
        int k = -1;
        for (int i = 0; i < static_cast<int>(std::size(kNames)); ++i)
          if (kind == kNames[i]) k = i;
        if (k < 0) throw py::value_error("kind must be a rule name or stream1/2/3, got " + kind);
        const DtypeCode code = check_output_array(p.ptr(), "p");
        const std::size_t n = array_size(p.ptr());
        auto check = [&](py::object& o, const char* name, bool needed) -> void* {
          if (!needed) return nullptr;
          if (check_output_array(o.ptr(), name) != code || array_size(o.ptr()) != n)
            throw py::value_error(std::string(name) + " must match p in dtype and size");
          return proxy(o.ptr())->data;
        };
        if (!is_ndarray(g.ptr()) || dtype_code(g.ptr()) != code || array_size(g.ptr()) != n ||
            !c_contiguous(g.ptr()))
          throw py::value_error("g must be a contiguous array matching p");
        void* pa = check(a, "a", kBuffers[k] >= 1);
        void* pb = check(b, "b", kBuffers[k] >= 2);
        void* pp = proxy(p.ptr())->data;
        const void* pg = proxy(g.ptr())->data;
        if (nthreads < 1) throw py::value_error("nthreads must be >= 1");
        py::gil_scoped_release nogil;
        fastoptim::run_probe(static_cast<ProbeKind>(k), code == DtypeCode::f64, pp, pg, pa, pb, n,
                             nthreads);
      },
      py::arg("kind"), py::arg("p"), py::arg("g"), py::arg("a") = py::none(),
      py::arg("b") = py::none(), py::arg("nthreads") = 1,
      "Roofline probe (benchmarks): a plain fused loop of a rule, or a stream loop moving the "
      "same bytes; updates p (and a, b) in place, on up to nthreads threads taken as a step "
      "takes them (a second one only from the parallel threshold on).");
}

}  // namespace fastoptim_bindings
