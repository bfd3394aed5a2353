// The only place in the random fills where the instruction set shows: vector
// types of the level's native width and the few operations GCC's generic
// vector extensions do not express well (32x32->64 multiplies, packing,
// sqrt, int32->double widening, exact 53-bit int->double, non-temporal
// stores). Everything else (the Philox rounds, log, sincos, erfinv) is
// written once on these types, so every level runs the same IEEE operations
// in the same order and gives the same bits; only the number of lanes
// differs.
//
// Included only by per-ISA sources (inside namespace fastoptim::<isa>).
#pragma once

#ifndef FASTOPTIM_ISA_NS
#error "compile this file once per ISA level with -DFASTOPTIM_ISA_NS=<level>"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fastoptim/kernels/isa_common.hpp"

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {
namespace simd {

// The level's native width (kVecBytes in kernels/isa_common.hpp); 16 bytes
// where the optimizer kernels use no vector types (32-bit ARM): the fills'
// generic 16-byte vectors are what they used there before.
constexpr int kBytes = kVecBytes > 0 ? static_cast<int>(kVecBytes) : 16;

typedef std::uint32_t vu __attribute__((vector_size(kBytes)));
typedef std::int32_t vi __attribute__((vector_size(kBytes)));
typedef float vf __attribute__((vector_size(kBytes)));
typedef double vd __attribute__((vector_size(kBytes)));
typedef std::uint64_t vu64 __attribute__((vector_size(kBytes)));

constexpr int kLanes32 = kBytes / 4;  // lanes of vu / vf
constexpr int kLanes64 = kBytes / 8;  // lanes of vd

template <class V, class S>
inline V splat(S s) {
  V v = {};
  return v + s;
}

template <class To, class From>
inline To bitcast(From v) {
  static_assert(sizeof(To) == sizeof(From), "same size");
  To t;
  std::memcpy(&t, &v, sizeof(t));
  return t;
}

template <class V>
inline void storeu(void* p, V v) {
  std::memcpy(p, &v, sizeof(v));
}

// 64-bit products (a[i] & 0xffffffff) * m: the upper half of each lane of
// `a` is ignored, so Philox can keep one 32-bit word per 64-bit lane and
// carry garbage in the upper halves instead of masking it.
inline vu64 mul_lo32(vu64 a, std::uint32_t m) {
#if defined(__AVX512F__)
  return (vu64)_mm512_mul_epu32((__m512i)a, _mm512_set1_epi64(m));
#elif defined(__AVX2__)
  return (vu64)_mm256_mul_epu32((__m256i)a, _mm256_set1_epi64x(m));
#elif defined(__SSE2__)
  return (vu64)_mm_mul_epu32((__m128i)a, _mm_set1_epi64x(m));
#else
  return (a & 0xffffffffu) * m;
#endif
}

// The low 32 bits of every 64-bit lane of a, then of b, as one vector.
inline vu pack_lo32(vu64 a, vu64 b) {
#if defined(__AVX512F__)
  const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return (vu)_mm512_permutex2var_epi32((__m512i)a, idx, (__m512i)b);
#elif defined(__AVX2__)
  const __m256 s = _mm256_shuffle_ps((__m256)a, (__m256)b, _MM_SHUFFLE(2, 0, 2, 0));
  return (vu)_mm256_permute4x64_epi64(_mm256_castps_si256(s), _MM_SHUFFLE(3, 1, 2, 0));
#elif defined(__SSE2__)
  return (vu)_mm_shuffle_ps((__m128)a, (__m128)b, _MM_SHUFFLE(2, 0, 2, 0));
#else
  vu r;
  for (int i = 0; i < kLanes64; ++i) {
    r[i] = static_cast<std::uint32_t>(a[i]);
    r[i + kLanes64] = static_cast<std::uint32_t>(b[i]);
  }
  return r;
#endif
}

inline vf sqrt(vf x) {
#if defined(__AVX512F__)
  return (vf)_mm512_sqrt_ps((__m512)x);
#elif defined(__AVX2__)
  return (vf)_mm256_sqrt_ps((__m256)x);
#elif defined(__SSE2__)
  return (vf)_mm_sqrt_ps((__m128)x);
#else
  for (int i = 0; i < kLanes32; ++i) x[i] = __builtin_sqrtf(x[i]);
  return x;
#endif
}

inline vd sqrt(vd x) {
#if defined(__AVX512F__)
  return (vd)_mm512_sqrt_pd((__m512d)x);
#elif defined(__AVX2__)
  return (vd)_mm256_sqrt_pd((__m256d)x);
#elif defined(__SSE2__)
  return (vd)_mm_sqrt_pd((__m128d)x);
#else
  for (int i = 0; i < kLanes64; ++i) x[i] = __builtin_sqrt(x[i]);
  return x;
#endif
}

// Exact conversion of the low / high half of the uint32 lanes to double.
// Going through signed int32 (x ^ 2^31, then + 2^31) keeps one code shape on
// every level, including those without an unsigned conversion.
inline void u32_to_f64(vu x, vd* lo, vd* hi) {
  const vi s = (vi)(x ^ 0x80000000u);
#if defined(__AVX512F__)
  const __m512i v = (__m512i)s;
  *lo = (vd)_mm512_cvtepi32_pd(_mm512_castsi512_si256(v));
  *hi = (vd)_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(v, 1));
#elif defined(__AVX2__)
  const __m256i v = (__m256i)s;
  *lo = (vd)_mm256_cvtepi32_pd(_mm256_castsi256_si128(v));
  *hi = (vd)_mm256_cvtepi32_pd(_mm256_extracti128_si256(v, 1));
#elif defined(__SSE2__)
  const __m128i v = (__m128i)s;
  *lo = (vd)_mm_cvtepi32_pd(v);
  *hi = (vd)_mm_cvtepi32_pd(_mm_shuffle_epi32(v, 0xEE));
#else
  vd a = {}, b = {};  // initialized: lane-wise writes into an unset vector warn
  for (int i = 0; i < kLanes64; ++i) {
    a[i] = static_cast<double>(s[i]);
    b[i] = static_cast<double>(s[i + kLanes64]);
  }
  *lo = a;
  *hi = b;
#endif
  *lo += 2147483648.0;
  *hi += 2147483648.0;
}

// Whether every lane of m (all ones or all zeros per lane) is all ones.
inline bool all_set(vu64 m) {
#if defined(__AVX512F__)
  return _mm512_test_epi64_mask((__m512i)m, (__m512i)m) == 0xff;
#elif defined(__AVX2__)
  return _mm256_movemask_pd((__m256d)m) == 0xf;
#elif defined(__SSE2__)
  return _mm_movemask_pd((__m128d)m) == 0x3;
#else
  bool all = true;
  for (int i = 0; i < kLanes64; ++i) all = all && m[i] != 0;
  return all;
#endif
}

// ((a & 0xffffffff) >> 5) * 2^26 + ((b & 0xffffffff) >> 6) per 64-bit lane,
// as a double: a 53-bit integer, converted exactly (the upper halves of a
// and b are ignored).
inline vd u53(vu64 a, vu64 b) {
  const vu64 hi = (a << 32) >> 37;  // 27 bits
  const vu64 lo = (b << 32) >> 38;  // 26 bits
#if defined(__AVX512DQ__)
  return (vd)_mm512_cvtepi64_pd((__m512i)((hi << 26) | lo));
#else
  // Exponent tricks, both exact: 2^78 + hi 2^26 and 2^52 + lo.
  const vd h = bitcast<vd>(hi | 0x44D0000000000000ull) - 302231454903657293676544.0;
  const vd l = bitcast<vd>(lo | 0x4330000000000000ull) - 4503599627370496.0;
  return h + l;
#endif
}

// Copies n bytes from an L1-resident buffer to dst. With `stream`, whole
// 64-byte lines of dst are written with non-temporal stores: a write-only
// fill of a large array then skips the read-for-ownership of every line
// (PERF-NOTES: about 3x for write-only fills). Call fence() after the last.
inline void copy_out(char* dst, const char* src, std::size_t n, bool stream) {
#if defined(__SSE2__)
  if (stream && n >= 128) {
    const std::size_t head = (64 - (reinterpret_cast<std::uintptr_t>(dst) & 63)) & 63;
    std::memcpy(dst, src, head);
    dst += head;
    src += head;
    n -= head;
    for (; n >= 64; n -= 64, dst += 64, src += 64) {
#if defined(__AVX512F__)
      _mm512_stream_si512(reinterpret_cast<__m512i*>(dst), _mm512_loadu_si512(src));
#elif defined(__AVX2__)
      _mm256_stream_si256(reinterpret_cast<__m256i*>(dst),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)));
      _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + 32),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32)));
#else
      for (int k = 0; k < 64; k += 16)
        _mm_stream_si128(reinterpret_cast<__m128i*>(dst + k),
                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k)));
#endif
    }
  }
#else
  (void)stream;
#endif
  std::memcpy(dst, src, n);
}

inline void fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace simd
}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
