// Included only by sources compiled once per ISA level (optim_isa.cpp,
// random/fill_isa.cpp). Everything here lives in fastoptim::<isa> so the
// linker cannot swap one level's copy of an inline function for another's.
#pragma once

#ifndef FASTOPTIM_ISA_NS
#error "compile this file once per ISA level with -DFASTOPTIM_ISA_NS=<level>"
#endif

#include <cstddef>
#include <cstdint>

#define FASTOPTIM_RESTRICT __restrict__

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

// Elements before p reaches a 64-byte boundary (at most n; 0 if p is not even
// aligned to its element size). Kernels run these few elements on their own
// so the vector loop's loads and stores of p start on a cache line: an
// AVX-512 access at any other offset spans two lines, and measured on
// Zen 4 (benchmarks/README.md, "Alignment") that made an in-cache Adam step
// up to 1.9x slower and an out-of-cache one 1.35x slower. The optimizers
// allocate their state at p's offset, so the peel aligns those streams too.
constexpr std::size_t kAlignBytes = 64;

template <class T>
inline std::size_t align_head(const T* p, std::size_t n) {
  const auto addr = reinterpret_cast<std::uintptr_t>(p);
  if (addr % sizeof(T) != 0) return 0;
  const std::size_t head = (kAlignBytes - addr % kAlignBytes) % kAlignBytes / sizeof(T);
  return head < n ? head : n;
}

inline float sqrt_(float x) { return __builtin_sqrtf(x); }
inline double sqrt_(double x) { return __builtin_sqrt(x); }

// maximum that propagates NaN from either side, as torch.maximum and
// np.maximum do.
template <class T>
inline T nan_max(T a, T b) {
  T r = a > b ? a : b;
  return a != a ? a : r;
}

// The gradient as the rule sees it: negated when maximizing, plus L2 weight
// decay. torch.optim order: g = -g; g = g + wd * p.
template <bool L2, class T>
inline T effective_grad(T g, T p, T sign, T wd) {
  T x = g * sign;
  if (L2) x = x + wd * p;
  return x;
}

// torch.lerp(a, b, w): a + w * (b - a) for w < 0.5, else b - (b - a) * (1 - w).
template <class T>
inline T torch_lerp(T a, T b, T w, T w1m, bool from_end) {
  const T d = b - a;
  return from_end ? b - d * w1m : a + w * d;
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
