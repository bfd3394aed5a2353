// A small persistent thread pool for large kernels.
//
// Why our own pool rather than OpenMP: OpenMP runtimes spin after a parallel
// region and compete with NumPy's BLAS threads (and torch's) on a 2-core
// machine (PERF-NOTES, "Threads"). These workers sleep between regions.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

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

// One thread's part of a shared range (share_range): [next, end). A cache
// line of its own, so threads contend on it only when one takes from
// another's part.
struct alignas(64) RangeShare {
  std::atomic<std::size_t> next{0};
  std::size_t end = 0;
};

// The calling thread's scratch of at least nt parts, reused across calls.
RangeShare* range_shares(int nt);

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

// Bytes moved per chunk of a shared range: small enough that a late thread's
// part is rebalanced finely (2-5 us of work on the machine it was tuned on,
// in or out of cache), large enough that the atomic per chunk costs nothing
// measurable.
constexpr std::size_t kShareChunkBytes = std::size_t(256) << 10;

// Elements per chunk for work moving `bytes_per_element` on average: about
// kShareChunkBytes, a multiple of 64 elements, at least 64.
inline std::size_t share_chunk(double bytes_per_element) {
  const auto n = static_cast<std::size_t>(static_cast<double>(kShareChunkBytes) /
                                          bytes_per_element) / 64 * 64;
  return n < 64 ? 64 : n;
}

// Calls span(begin, end) for chunks covering [0, total) once, shared by nt
// threads (parallel_run_shared): each thread owns an equal contiguous part
// (boundaries at multiples of 64 elements, a whole number of cache lines for
// float32 and float64) and takes it `chunk` elements at a time; a thread done
// with its own part takes what is left of the others'. A worker that wakes
// late or loses its core then delays the region by at most a chunk instead of
// by its whole part. tally(t, chunks, from_others) is called once per thread
// that joined, with the chunks it took (and how many of them from others).
template <class Span, class Tally>
void share_range(int nt, std::size_t total, std::size_t chunk, Span& span, Tally& tally) {
  RangeShare* shares = range_shares(nt);
  for (int t = 0; t < nt; ++t) {
    std::size_t b, e;
    split_range(total, t, nt, 64, &b, &e);
    shares[t].next.store(b, std::memory_order_relaxed);
    shares[t].end = e;
  }
  // The pool may run the region on fewer threads than asked (another region
  // busy, a worker that could not start): every thread walks all nt parts,
  // its own first, so nothing is left undone. Completion is published by the
  // pool's lock, so relaxed counters suffice.
  auto body = [&span, &tally, shares, chunk, nt](int t, int) {
    std::uint64_t taken = 0, from_others = 0;
    for (int k = 0; k < nt; ++k) {
      RangeShare& s = shares[(t + k) % nt];
      for (;;) {
        const std::size_t b = s.next.fetch_add(chunk, std::memory_order_relaxed);
        if (b >= s.end) break;
        span(b, b + chunk < s.end ? b + chunk : s.end);
        ++taken;
        from_others += k != 0;
      }
    }
    tally(t, taken, from_others);
  };
  parallel_share(nt, body);
}

}  // namespace fastoptim
