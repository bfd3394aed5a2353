// Random fills, compiled once per ISA level: Philox4x32-10 on 16 blocks at
// a time, then the distribution transforms of random/vmath.hpp. The group
// layout (fill.hpp) is fixed at 16 blocks, independent of the vector width:
// a level with fewer lanes runs a group as several sub-groups.
#include "fastoptim/kernels/isa_common.hpp"
#include "fastoptim/random/fill.hpp"
#include "fastoptim/random/simd.hpp"
#include "fastoptim/random/vmath.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

namespace {

using simd::kLanes32;
using simd::kLanes64;
using simd::splat;
using simd::storeu;
using simd::vd;
using simd::vf;
using simd::vi;
using simd::vu;

constexpr int kSub = 16 / kLanes32;  // sub-groups per group of 16 blocks

struct Words {
  vu x[4];
};

// Lane i of c[k][h] holds, in its low half, word k of block
// (first block of the run) + h * kLanes64 + i.
struct Raw {
  simd::vu64 c[4][2];
};

// Philox4x32-10 on N runs of kLanes32 consecutive blocks, run u starting
// at block[u]. Each 32-bit word lives in the low half of a 64-bit lane (two
// vectors per word): mul_epu32 then gives hi and lo of the product without
// the shuffles and blends a 32-bit-lane layout needs, and the 64-bit block
// index carries into its high word by itself. The upper halves of the
// result lanes hold garbage. The N runs go round by round in
// lockstep, so their multiplies overlap each other's latency.
template <int N>
inline void philox_raw(const std::uint64_t* block, const FillParams& fp, Raw* out) {
  using simd::vu64;
  vu64 iota;
  for (int i = 0; i < kLanes64; ++i) iota[i] = static_cast<std::uint64_t>(i);
  vu64 c0[2 * N], c1[2 * N], c2[2 * N], c3[2 * N];
  for (int h = 0; h < 2 * N; ++h) {
    const vu64 b = iota + (block[h / 2] + static_cast<std::uint64_t>((h % 2) * kLanes64));
    c0[h] = b;
    c1[h] = b >> 32;
    c2[h] = splat<vu64>(fp.stream);
    c3[h] = splat<vu64>(fp.stream >> 32);
  }
  std::uint64_t k0 = fp.key[0], k1 = fp.key[1];
  for (int r = 0; r < 10; ++r) {
    for (int h = 0; h < 2 * N; ++h) {
      const vu64 p0 = simd::mul_lo32(c0[h], 0xD2511F53u);
      const vu64 p1 = simd::mul_lo32(c2[h], 0xCD9E8D57u);
      c0[h] = (p1 >> 32) ^ c1[h] ^ k0;
      c1[h] = p1;
      c2[h] = (p0 >> 32) ^ c3[h] ^ k1;
      c3[h] = p0;
    }
    k0 = (k0 + 0x9E3779B9u) & 0xffffffffu;
    k1 = (k1 + 0xBB67AE85u) & 0xffffffffu;
  }
  for (int u = 0; u < N; ++u)
    for (int h = 0; h < 2; ++h) {
      out[u].c[0][h] = c0[2 * u + h];
      out[u].c[1][h] = c1[2 * u + h];
      out[u].c[2][h] = c2[2 * u + h];
      out[u].c[3][h] = c3[2 * u + h];
    }
}

inline Raw philox_raw(std::uint64_t block, const FillParams& fp) {
  Raw r;
  philox_raw<1>(&block, fp, &r);
  return r;
}

// The same words packed: lane i of x[k] is word k of block `block` + i.
inline Words philox(std::uint64_t block, const FillParams& fp) {
  const Raw r = philox_raw(block, fp);
  return Words{{simd::pack_lo32(r.c[0][0], r.c[0][1]), simd::pack_lo32(r.c[1][0], r.c[1][1]),
                simd::pack_lo32(r.c[2][0], r.c[2][1]), simd::pack_lo32(r.c[3][0], r.c[3][1])}};
}

inline std::uint64_t sub_block(const FillParams& fp, std::size_t group, int sub) {
  return fp.counter + 16u * static_cast<std::uint64_t>(group) +
         static_cast<std::uint64_t>(sub * kLanes32);
}

// 24 high bits: exact in float, in [0, 1).
inline vf unit_f32(vu x) { return __builtin_convertvector((vi)(x >> 8), vf) * 5.9604644775390625e-08f; }

struct Bits {
  static constexpr std::size_t G = 64;
  const FillParams& fp;
  void operator()(std::size_t g, std::uint32_t* dst) const {
    for (int sub = 0; sub < kSub; ++sub) {
      const Words w = philox(sub_block(fp, g, sub), fp);
      for (int k = 0; k < 4; ++k) storeu(dst + 16 * k + sub * kLanes32, w.x[k]);
    }
  }
};

// low + (high - low) u, then at most high (all three rounded to float): the
// separately rounded low and span can put low + span u above high.
struct UniformF32 {
  static constexpr std::size_t G = 64;
  const FillParams& fp;
  void operator()(std::size_t g, float* dst) const {
    const float lo = static_cast<float>(fp.p[0]), span = static_cast<float>(fp.p[1]);
    const vf hi = splat<vf>(static_cast<float>(fp.p[2]));
    for (int sub = 0; sub < kSub; ++sub) {
      const Words w = philox(sub_block(fp, g, sub), fp);
      for (int k = 0; k < 4; ++k) {
        const vf v = lo + span * unit_f32(w.x[k]);
        storeu(dst + 16 * k + sub * kLanes32, v > hi ? hi : v);
      }
    }
  }
};

// 53 bits: (a >> 5) * 2^26 + (b >> 6), times 2^-53; exact in double, so
// the route to it (here straight from Philox's 64-bit lanes, no packing)
// cannot change a bit.
// Runs of kLanes32 blocks whose Philox rounds go in lockstep: one run's
// rounds are a chain of dependent multiplies, four hide each other's
// latency (uniform float64, AVX-512, in cache: 0.64 -> 0.49 ns/el; two
// runs gained less on AVX-512 and lost on AVX2 and SSE2, four gain on all).
constexpr int kRuns = 4;

struct UniformF64 {
  static constexpr std::size_t G = 32;
  const FillParams& fp;
  // Groups g .. g + ng - 1 into dst, kRuns runs of kLanes32 blocks at a time.
  void operator()(std::size_t g, std::size_t ng, double* dst) const {
    const double lo = fp.p[0], span = fp.p[1], hi = fp.p[2];
    const std::size_t units = ng * kSub;
    std::size_t u = 0;
    for (; u + kRuns <= units; u += kRuns) {
      std::uint64_t b[kRuns];
      for (int t = 0; t < kRuns; ++t) b[t] = unit_block(g, u + t);
      Raw r[kRuns];
      philox_raw<kRuns>(b, fp, r);
      for (int t = 0; t < kRuns; ++t) emit(r[t], lo, span, hi, dst, u + t);
    }
    for (; u < units; ++u) emit(philox_raw(unit_block(g, u), fp), lo, span, hi, dst, u);
  }
  std::uint64_t unit_block(std::size_t g, std::size_t u) const {
    return sub_block(fp, g + u / kSub, static_cast<int>(u % kSub));
  }
  // low + span u, at most high (a guard: no float64 case above high is known).
  static void emit(const Raw& r, double lo, double span, double hi, double* dst, std::size_t u) {
    double* d0 = dst + (u / kSub) * G + (u % kSub) * kLanes32;
    const vd vhi = splat<vd>(hi);
    for (int k = 0; k < 2; ++k)
      for (int h = 0; h < 2; ++h) {
        const vd v = lo + span * (simd::u53(r.c[2 * k][h], r.c[2 * k + 1][h]) *
                                  1.1102230246251565e-16);
        storeu(d0 + 16 * k + h * kLanes64, v > vhi ? vhi : v);
      }
  }
};

// Box-Muller: r = sqrt(-2 log u1), u1 = ((x >> 8) + 1) 2^-24 in (0, 1];
// angle 2 pi u2, u2 = (y >> 8) 2^-24.
struct NormalF32 {
  static constexpr std::size_t G = 64;
  const FillParams& fp;
  void operator()(std::size_t g, float* dst) const {
    const float mean = static_cast<float>(fp.p[0]), sd = static_cast<float>(fp.p[1]);
    for (int sub = 0; sub < kSub; ++sub) {
      const Words w = philox(sub_block(fp, g, sub), fp);
      for (int k = 0; k < 2; ++k) {
        const vf u1 = __builtin_convertvector((vi)((w.x[2 * k] >> 8) + 1u), vf) *
                      5.9604644775390625e-08f;
        const vf u2 = unit_f32(w.x[2 * k + 1]);
        const vf r = simd::sqrt(vmath::log(u1) * -2.0f);
        vf c, s;
        vmath::sincos_turns(u2, &c, &s);
        float* d = dst + 32 * k + sub * kLanes32;
        storeu(d, mean + sd * (r * c));
        storeu(d + 16, mean + sd * (r * s));
      }
    }
  }
};

// As NormalF32 in double, from the full 32-bit words:
// u1 = (x + 1) 2^-32 in (0, 1], u2 = y 2^-32.
struct NormalF64 {
  static constexpr std::size_t G = 64;
  const FillParams& fp;
  void operator()(std::size_t g, double* dst) const {
    const double mean = fp.p[0], sd = fp.p[1];
    for (int sub = 0; sub < kSub; ++sub) {
      const Words w = philox(sub_block(fp, g, sub), fp);
      for (int k = 0; k < 2; ++k) {
        vd x[2], y[2];
        simd::u32_to_f64(w.x[2 * k], &x[0], &x[1]);
        simd::u32_to_f64(w.x[2 * k + 1], &y[0], &y[1]);
        for (int h = 0; h < 2; ++h) {
          const vd u1 = (x[h] + 1.0) * 2.3283064365386963e-10;
          const vd u2 = y[h] * 2.3283064365386963e-10;
          const vd r = simd::sqrt(vmath::log(u1) * -2.0);
          vd c, s;
          vmath::sincos_turns(u2, &c, &s);
          double* d = dst + 32 * k + sub * kLanes32 + h * kLanes64;
          storeu(d, mean + sd * (r * c));
          storeu(d + 16, mean + sd * (r * s));
        }
      }
    }
  }
};

// Inverse CDF in double: u = (x + 1/2) 2^-32 in (0, 1),
// z = Phi^-1(Phi(lo) + u (Phi(hi) - Phi(lo))) clamped to [lo, hi],
// value = mean + scale z (scale = -std when the Python layer mirrored the
// interval to keep Phi's arguments in the accurate lower tail).
template <class T>
struct TruncNormal {
  static constexpr std::size_t G = 64;
  const FillParams& fp;
  void operator()(std::size_t g, T* dst) const {
    const double mean = fp.p[0], scale = fp.p[1], pa = fp.p[2], pspan = fp.p[3];
    const double zlo = fp.p[4], zhi = fp.p[5];
    for (int sub = 0; sub < kSub; ++sub) {
      const Words w = philox(sub_block(fp, g, sub), fp);
      for (int k = 0; k < 4; ++k) {
        vd x[2];
        simd::u32_to_f64(w.x[k], &x[0], &x[1]);
        for (int h = 0; h < 2; ++h) {
          const vd u = (x[h] + 0.5) * 2.3283064365386963e-10;
          vd z = vmath::normal_quantile(pa + u * pspan);
          z = z < zlo ? splat<vd>(zlo) : z;
          z = z > zhi ? splat<vd>(zhi) : z;
          const vd v = mean + scale * z;
          T* d = dst + 16 * k + sub * kLanes32 + h * kLanes64;
          for (int i = 0; i < kLanes64; ++i) d[i] = static_cast<T>(v[i]);
        }
      }
    }
  }
};

constexpr std::size_t kBufBytes = 8192;

// Groups g .. g + ng - 1 into buf: one call when the generator takes a
// range of groups (to interleave their Philox runs), else one per group.
template <class Gen, class T>
auto gen_groups(const Gen& gen, std::size_t g, std::size_t ng, T* buf, int)
    -> decltype(gen(g, ng, buf)) {
  return gen(g, ng, buf);
}
template <class Gen, class T>
void gen_groups(const Gen& gen, std::size_t g, std::size_t ng, T* buf, long) {
  for (std::size_t k = 0; k < ng; ++k) gen(g + k, buf + k * Gen::G);
}

// Generates whole groups into an L1-resident buffer and copies the part
// [begin, end) asks for; partial groups at either end are generated whole
// and cut, so no tail code path exists.
template <class T, class Gen>
void drive(const Gen& gen, T* out, std::size_t begin, std::size_t end, bool stream) {
  constexpr std::size_t G = Gen::G;
  constexpr std::size_t kGroups = kBufBytes / (G * sizeof(T));
  static_assert(kGroups >= 1, "the buffer must hold at least one group");
  alignas(64) T buf[kGroups * G];
  std::size_t i = begin;
  const std::size_t gend = (end + G - 1) / G;
  while (i < end) {
    const std::size_t g0 = i / G;
    const std::size_t ng = gend - g0 < kGroups ? gend - g0 : kGroups;
    gen_groups(gen, g0, ng, buf, 0);
    const std::size_t lo = i - g0 * G;
    const std::size_t hi = end - g0 * G < ng * G ? end - g0 * G : ng * G;
    simd::copy_out(reinterpret_cast<char*>(out + i), reinterpret_cast<const char*>(buf + lo),
                   (hi - lo) * sizeof(T), stream);
    i = g0 * G + hi;
  }
  if (stream) simd::fence();
}

void fill_f32(Dist d, const FillParams& fp, float* out, std::size_t b, std::size_t e, bool st) {
  switch (d) {
    case Dist::uniform: drive(UniformF32{fp}, out, b, e, st); break;
    case Dist::normal: drive(NormalF32{fp}, out, b, e, st); break;
    case Dist::truncated_normal: drive(TruncNormal<float>{fp}, out, b, e, st); break;
  }
}

void fill_f64(Dist d, const FillParams& fp, double* out, std::size_t b, std::size_t e, bool st) {
  switch (d) {
    case Dist::uniform: drive(UniformF64{fp}, out, b, e, st); break;
    case Dist::normal: drive(NormalF64{fp}, out, b, e, st); break;
    case Dist::truncated_normal: drive(TruncNormal<double>{fp}, out, b, e, st); break;
  }
}

void fill_bits(const FillParams& fp, std::uint32_t* out, std::size_t b, std::size_t e, bool st) {
  drive(Bits{fp}, out, b, e, st);
}

}  // namespace

const RandomKernels& random_kernels() {
  static const RandomKernels table{&fill_f32, &fill_f64, &fill_bits};
  return table;
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
