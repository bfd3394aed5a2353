#include "fastoptim/probe.hpp"

#include "fastoptim/dispatch.hpp"
#include "fastoptim/parallel.hpp"

namespace fastoptim {

namespace {
const ProbeKernels& kernels() {
#if defined(FASTOPTIM_X86)
  switch (active_isa()) {
    case Isa::avx512: return avx512::probe_kernels();
    case Isa::avx2: return avx2::probe_kernels();
    case Isa::baseline: break;
  }
#endif
  return baseline::probe_kernels();
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
  if (nt <= 1) {
    span(0, n);
    return;
  }
  // Threads share the range in chunks as a threaded step does (share_range),
  // so a 2-thread probe differs from the kernels in its loop only.
  const std::size_t arrays = 3 + 2 * static_cast<std::size_t>((a != nullptr) + (b != nullptr));
  auto tally = [](int, std::uint64_t, std::uint64_t) {};
  share_range(nt, n, share_chunk(static_cast<double>(arrays * size)), span, tally);
}

}  // namespace fastoptim
