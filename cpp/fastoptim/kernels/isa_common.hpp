// Included only by sources compiled once per ISA level (optim_isa.cpp,
// random/fill_isa.cpp). Everything here lives in fastoptim::<isa> so the
// linker cannot swap one level's copy of an inline function for another's.
#pragma once

#ifndef FASTOPTIM_ISA_NS
#error "compile this file once per ISA level with -DFASTOPTIM_ISA_NS=<level>"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#define FASTOPTIM_RESTRICT __restrict__
// for_lanes and the loop bodies given to it must be inlined into the kernel:
// called out of line, a body reads its captured pointers and coefficients
// through the closure at every vector (a store through a T* may alias them),
// which made a small-tensor Adam step 1.3x slower.
#define FASTOPTIM_INLINE inline __attribute__((always_inline))
#define FASTOPTIM_INLINE_LAMBDA __attribute__((always_inline))

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

// The widest vector this level's compiler flags allow, as a GCC/Clang vector
// extension type: arithmetic on it is lane by lane IEEE arithmetic, the same
// operations in the same order as on one element (-ffp-contract=off applies).
// 0 on 32-bit ARM: its NEON flushes subnormals to zero, and Clang may use
// it for these types, so for_lanes runs element by element there. The
// random fills' vector types (random/simd.hpp) take their width from here.
#if defined(__AVX512F__)
constexpr std::size_t kVecBytes = 64;
#elif defined(__AVX2__)
constexpr std::size_t kVecBytes = 32;
#elif defined(__arm__) && !defined(__aarch64__)
constexpr std::size_t kVecBytes = 0;
#else
constexpr std::size_t kVecBytes = 16;  // SSE2, NEON on aarch64, generic
#endif

template <class T, std::size_t Bytes>
struct VecOf {
  typedef T type __attribute__((vector_size(Bytes)));
};
template <class T, std::size_t Bytes = kVecBytes>
using Vec = typename VecOf<T, Bytes>::type;

// Unaligned load and store of one V (a vector, or a scalar in the tail).
template <class V, class T>
inline V load(const T* at) {
  V x;
  std::memcpy(&x, at, sizeof x);
  return x;
}
template <class V, class T>
inline void store(T* at, const V& x) {
  std::memcpy(at, &x, sizeof x);
}

// x, held in a register from here on. A value loaded once and used twice is
// otherwise free to be re-read from memory at each use: GCC's register
// allocator substitutes the load's address (a REG_EQUIV memory operand) when
// nothing writes there in between, which costs a second load per vector.
// The empty asm makes x an opaque register value; it emits no instruction.
// On a scalar it also keeps the auto-vectorizer off for_lanes' last loop,
// which has at most 3 elements.
template <class V>
inline V in_register(V x) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
  asm("" : "+v"(x));
#elif defined(__aarch64__)
  asm("" : "+w"(x));
#endif
  return x;
}

// The tail of for_lanes: at most one vector of each narrower width down to
// 16 bytes, so at most 3 float32 or 1 float64 elements are left one by one.
template <class T, std::size_t Bytes, class Body>
FASTOPTIM_INLINE void tail_lanes(std::size_t& i, std::size_t n, Body& body) {
  if constexpr (Bytes >= 16) {
    constexpr std::size_t kLanes = Bytes / sizeof(T);
    if (n - i >= kLanes) {
      body(Vec<T, Bytes>{}, i);
      i += kLanes;
    }
    tail_lanes<T, Bytes / 2>(i, n, body);
  }
}

// Covers [0, n) once, in chunks: body(V{}, i) for the chunk starting at i,
// V a whole native vector of T first, then narrower vectors (tail_lanes),
// then single elements (V = T). Head and tail (the part before p's cache
// line, see align_head) take a large share of a small tensor's time: with
// the tail one element at a time, 100 tensors of 1,000 float32 ran Adam
// 22.8-23.3 us/step in full runs against 20.0 before. For loops the
// auto-vectorizer cannot be trusted with (see in_register).
template <class T, class Body>
FASTOPTIM_INLINE void for_lanes(std::size_t n, Body&& body) {
  std::size_t i = 0;
  if constexpr (kVecBytes > 0) {
    constexpr std::size_t kLanes = kVecBytes / sizeof(T);
    for (; n - i >= kLanes; i += kLanes) body(Vec<T>{}, i);
    tail_lanes<T, kVecBytes / 2>(i, n, body);
  }
  for (; i < n; ++i) body(T{}, i);
}

inline float sqrt_(float x) { return __builtin_sqrtf(x); }
inline double sqrt_(double x) { return __builtin_sqrt(x); }

// Lane by lane, for any vector V; GCC compiles the loop to one vector
// square root (checked in the x86 objects and the aarch64 cross-build).
template <class V, class = decltype(std::declval<V>()[0])>
inline V sqrt_(V x) {
  V r = x;
  for (std::size_t j = 0; j < sizeof(V) / sizeof(x[0]); ++j) r[j] = sqrt_(x[j]);
  return r;
}

// maximum that propagates NaN from either side, as torch.maximum and
// np.maximum do.
template <class T>
inline T nan_max(T a, T b) {
  T r = a > b ? a : b;
  return a != a ? a : r;
}

// The gradient as the rule sees it: negated when maximizing, plus L2 weight
// decay. torch.optim order: g = -g; g = g + wd * p.
template <bool L2, class V, class T>
inline V effective_grad(V g, V p, T sign, T wd) {
  V x = g * sign;
  if (L2) x = x + wd * p;
  return x;
}

// torch.lerp(a, b, w): a + w * (b - a) for w < 0.5, else b - (b - a) * (1 - w).
template <class V, class T>
inline V torch_lerp(V a, V b, T w, T w1m, bool from_end) {
  const V d = b - a;
  return from_end ? b - d * w1m : a + w * d;
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
