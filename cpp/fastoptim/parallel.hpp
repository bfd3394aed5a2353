// A small persistent thread pool for large kernels.
//
// Why our own pool rather than OpenMP: OpenMP runtimes spin after a parallel
// region and compete with NumPy's BLAS threads (and torch's) on a 2-core
// machine (PERF-NOTES, "Threads"). These workers sleep between regions.
#pragma once

#include <cstddef>

namespace fastoptim {

// Number of threads a parallel region may use (>= 1). Initially the number
// of CPUs this process may run on.
int num_threads();
// n >= 1. Takes effect for the next parallel region.
void set_num_threads(int n);

// Threads for `work` units when each thread should get at least `per_thread`
// of them (0 counts as 1): min(num_threads(), work / per_thread), at least 1.
inline int threads_for(std::size_t work, std::size_t per_thread) {
  const std::size_t want = work / (per_thread ? per_thread : 1);
  const auto limit = static_cast<std::size_t>(num_threads());
  return static_cast<int>(want < 1 ? 1 : want < limit ? want : limit);
}

// fn(ctx, t, nt) is called once for every t in [0, nt), concurrently, with
// t == 0 on the calling thread; returns when all calls have returned.
// nt is clamped to [1, num_threads()]. If another thread is inside a parallel
// region already, nt is 1 and everything runs on the caller: regions never
// wait on each other and never oversubscribe. fn must not throw.
using ParallelFn = void (*)(void* ctx, int t, int nt);
void parallel_run(int nt, ParallelFn fn, void* ctx);

// Like parallel_run, for work that threads share (each takes pieces until
// none is left, so any subset of the threads, the caller included, completes
// all of it). Returns once the caller's fn(ctx, 0, nt) has returned and every
// worker that joined has finished; a worker that wakes after the caller's fn
// returned does not call fn at all, so a slow wake-up never delays the
// region.
void parallel_run_shared(int nt, ParallelFn fn, void* ctx);

// Convenience: runs f(t, nt) for a callable f.
template <class F>
void parallel_for_threads(int nt, F& f) {
  parallel_run(
      nt, [](void* ctx, int t, int n) { (*static_cast<F*>(ctx))(t, n); }, &f);
}

// The same for shared work (see parallel_run_shared).
template <class F>
void parallel_share(int nt, F& f) {
  parallel_run_shared(
      nt, [](void* ctx, int t, int n) { (*static_cast<F*>(ctx))(t, n); }, &f);
}

// Splits [0, n) into nt nearly equal parts whose inner boundaries are
// multiples of `align` elements (so threads never share a cache line).
inline void split_range(std::size_t n, int t, int nt, std::size_t align, std::size_t* begin,
                        std::size_t* end) {
  const std::size_t units = (n + align - 1) / align;
  const std::size_t b = units * static_cast<std::size_t>(t) / static_cast<std::size_t>(nt) * align;
  const std::size_t e =
      units * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(nt) * align;
  *begin = b < n ? b : n;
  *end = e < n ? e : n;
}

}  // namespace fastoptim
