#include "fastoptim/probe.hpp"

#include <algorithm>

#include "fastoptim/dispatch.hpp"
#include "fastoptim/optim.hpp"
#include "fastoptim/parallel.hpp"

namespace fastoptim {

namespace {
const ProbeKernels& kernels() {
  return FASTOPTIM_ACTIVE_TABLE(probe_kernels);
}
}  // namespace

void run_probe(ProbeKind kind, bool f64, void* p, const void* g, void* a, void* b, std::size_t n,
               int nt) {
  const ProbeKernels& k = kernels();
  const std::size_t size = f64 ? 8 : 4;
  auto span = [&](std::size_t lo, std::size_t hi) {
    if (lo >= hi) return;
    auto at = [&](void* q) { return q ? static_cast<char*>(q) + lo * size : nullptr; };
    char* pp = static_cast<char*>(p) + lo * size;
    const char* gg = static_cast<const char*>(g) + lo * size;
    if (f64)
      k.f64(kind, reinterpret_cast<double*>(pp), reinterpret_cast<const double*>(gg),
            reinterpret_cast<double*>(at(a)), reinterpret_cast<double*>(at(b)), hi - lo);
    else
      k.f32(kind, reinterpret_cast<float*>(pp), reinterpret_cast<const float*>(gg),
            reinterpret_cast<float*>(at(a)), reinterpret_cast<float*>(at(b)), hi - lo);
  };
  // Threads as a step takes them: a second thread only from the parallel
  // threshold's bytes on, sharing the range in chunks (share_range). So a
  // probe differs from the kernels in its loop only, not in how it threads.
  const std::size_t bytes_per_element = update_bytes_per_element(
      size, static_cast<std::size_t>(a != nullptr) + static_cast<std::size_t>(b != nullptr));
  const int use = std::min(nt, threads_for(n * bytes_per_element, parallel_threshold()));
  if (use <= 1) {
    span(0, n);
    return;
  }
  auto tally = [](int, std::uint64_t, std::uint64_t) {};
  share_range(use, n, share_chunk(static_cast<double>(bytes_per_element)), span, tally);
}

}  // namespace fastoptim
