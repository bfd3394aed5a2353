// fastoptim._core: the only place (with bind_*.cpp) where Python meets C++.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fastoptim/dispatch.hpp"
#include "fastoptim/optim.hpp"
#include "fastoptim/parallel.hpp"

namespace py = pybind11;

namespace fastoptim_bindings {
void bind_optim(py::module_& m);
void bind_random(py::module_& m);
void bind_probe(py::module_& m);
}  // namespace fastoptim_bindings

namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

fastoptim::Isa parse_isa_arg(const std::string& name) {
  fastoptim::Isa isa;
  if (!fastoptim::parse_isa(name, &isa))
    throw py::value_error("isa must be one of 'baseline', 'avx2', 'avx512', got '" + name + "'");
  return isa;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastoptim compiled core: fused optimizer kernels and random fills";
#ifdef FASTOPTIM_VERSION
  m.attr("__version__") = FASTOPTIM_VERSION;
#endif

  m.def("best_isa", [] { return std::string(fastoptim::isa_name(fastoptim::best_isa())); },
        "Highest ISA level this CPU supports (and this build contains).");
  m.def("active_isa", [] { return std::string(fastoptim::isa_name(fastoptim::active_isa())); },
        "ISA level the kernels use now.");
  m.def(
      "supported_isas",
      [] {
        std::vector<std::string> out;
        for (auto isa : fastoptim::supported_isas()) out.emplace_back(fastoptim::isa_name(isa));
        return out;
      },
      "ISA levels this CPU can run, lowest first.");
  m.def(
      "set_isa",
      [](const std::string& name) {
        const auto isa = parse_isa_arg(name);
        if (!fastoptim::set_active_isa(isa))
          throw py::value_error("isa '" + name + "' is not supported by this CPU (best: '" +
                                fastoptim::isa_name(fastoptim::best_isa()) + "')");
      },
      py::arg("isa"), "Use the given ISA level from now on (for tests and benchmarks).");
  m.def("get_num_threads", &fastoptim::num_threads);
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1 || n > 4096)
          throw py::value_error("n must be between 1 and 4096, got " + std::to_string(n));
        fastoptim::set_num_threads(n);
      },
      py::arg("n"));
  m.def("get_parallel_threshold", &fastoptim::parallel_threshold,
        "Bytes a step must move per thread to use more than one thread (default 6 MiB).");
  m.def(
      "set_parallel_threshold",
      [](long long n) {
        if (n < 1) throw py::value_error("n must be >= 1, got " + std::to_string(n));
        fastoptim::set_parallel_threshold(static_cast<std::size_t>(n));
      },
      py::arg("n"));
  m.def(
      "_share_stats",
      [] {
        const fastoptim::ShareStats s = fastoptim::share_stats();
        py::dict d;
        d["regions"] = s.regions;
        d["worker_chunks"] = s.worker_chunks;
        d["taken_from_others"] = s.taken_from_others;
        return d;
      },
      "Counters of multi-threaded steps since start (tests and diagnostics): regions, chunks "
      "taken by pool workers, chunks taken from another thread's share.");
  m.def("compiler", [] {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("gcc ") + __VERSION__;
#else
    return std::string("unknown");
#endif
  });

  // FASTOPTIM_ISA may only lower the level; an unknown or unsupported value
  // is reported by the Python package (fastoptim/_config.py) as a warning.
  const std::string forced = env_or_empty("FASTOPTIM_ISA");
  fastoptim::Isa isa;
  m.attr("_env_isa_ok") = forced.empty() ||
                          (fastoptim::parse_isa(forced, &isa) && fastoptim::set_active_isa(isa));
  const std::string nthreads = env_or_empty("FASTOPTIM_NUM_THREADS");
  m.attr("_env_threads_ok") = true;
  if (!nthreads.empty()) {
    char* end = nullptr;
    const long n = std::strtol(nthreads.c_str(), &end, 10);
    if (end && *end == '\0' && n >= 1 && n <= 4096)
      fastoptim::set_num_threads(static_cast<int>(n));
    else
      m.attr("_env_threads_ok") = false;
  }

  fastoptim_bindings::bind_optim(m);
  fastoptim_bindings::bind_random(m);
  fastoptim_bindings::bind_probe(m);
}
