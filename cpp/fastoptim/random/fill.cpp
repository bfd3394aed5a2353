// Random fills: picks the ISA level's kernels and splits large fills across
// the thread pool. Every value is a pure function of its index (fill.hpp),
// so the split cannot change a single bit.
#include "fastoptim/random/fill.hpp"

#include <atomic>

#include "fastoptim/dispatch.hpp"
#include "fastoptim/parallel.hpp"

namespace fastoptim {

namespace baseline { const RandomKernels& random_kernels(); }
#if defined(FASTOPTIM_X86)
namespace avx2 { const RandomKernels& random_kernels(); }
namespace avx512 { const RandomKernels& random_kernels(); }
#endif

namespace {

const RandomKernels& kernels() {
  return FASTOPTIM_ACTIVE_TABLE(random_kernels);
}

// 1 << 16 normals is ~100 us on one core, far above waking a worker.
std::atomic<std::size_t> g_threshold{std::size_t(1) << 16};

// Non-temporal stores pay off once the array is far larger than the caches
// it would otherwise evict for nothing (PERF-NOTES: ~3x for write-only fills).
constexpr std::size_t kStreamBytes = std::size_t(4) << 20;

}  // namespace

std::size_t random_parallel_threshold() { return g_threshold.load(std::memory_order_relaxed); }
void set_random_parallel_threshold(std::size_t n) {
  g_threshold.store(n, std::memory_order_relaxed);
}

void random_fill(Dist d, int dtype, void* out, std::size_t n, const FillParams& params) {
  if (n == 0) return;
  const RandomKernels& k = kernels();
  const std::size_t item = dtype == 1 ? 8 : 4;
  const bool stream = n * item >= kStreamBytes;
  // Raw bits (dtype 2) use the float32 grouping: 64 words per group.
  const std::size_t g = group_size(d, dtype == 1);
  auto run = [&k, d, dtype, out, &params, stream](std::size_t b, std::size_t e) {
    if (dtype == 0)
      k.fill_f32(d, params, static_cast<float*>(out), b, e, stream);
    else if (dtype == 1)
      k.fill_f64(d, params, static_cast<double*>(out), b, e, stream);
    else
      k.fill_bits(params, static_cast<std::uint32_t*>(out), b, e, stream);
  };
  const int nt = threads_for(n, random_parallel_threshold());
  if (nt <= 1) {
    run(0, n);
    return;
  }
  auto body = [&run, n, g](int t, int m) {
    std::size_t b, e;
    // Whole groups per thread (and whole cache lines: g * 4 bytes >= 128).
    split_range(n, t, m, g, &b, &e);
    if (b < e) run(b, e);
  };
  parallel_for_threads(nt, body);
}

}  // namespace fastoptim
