// log, sincos and erfinv on vectors, from +, -, *, / , sqrt and bit
// operations only (no libm, no libmvec, no FMA: -ffp-contract=off), so every
// ISA level and the NumPy reference (fastoptim/reference/random.py, same
// formulas in the same order) give the same bits.
//
// log: x = 2^e * m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s),
//   s = (m - 1) / (m + 1), |s| <= 0.1716, as 2 s P(s^2): for float the
//   Taylor series of atanh(s)/s (6 terms; the first dropped one is below
//   half an ulp), for double a Chebyshev fit of degree 7 (mpmath.chebyfit,
//   error 5e-18), three terms shorter than the Taylor series. e * ln2 is added as hi + lo (hi has few bits, so e * hi
//   is exact).
// sincos of 2*pi*t for t in [0, 1): t is a multiple of 2^-24 (float) or
//   2^-32 (double), so the quarter-turn reduction f = t - q/4, q = round(4t),
//   is exact; then polynomials in phi^2 for sin and cos on
//   |phi| = |2*pi*f| <= pi/4 (float: Taylor; double: Chebyshev fits of
//   degree 5 and 6, errors 2e-17 and 2e-19) and a quadrant swap / sign flip.
// erfinv: M. Giles, "Approximating the erfinv function" (GPU Computing Gems,
//   2011), single-precision coefficients, evaluated in double: the normal
//   quantile has relative error below 1.3e-7 for |z| <= 5 and 5e-7 at 5.5
//   (growing fast beyond: 6e-5 at 6 sd, 5e-3 at 7, wrong sign past ~9.5),
//   the coefficients' accuracy, not the arithmetic's. fastoptim.random
//   refuses intervals with more than 10% of their mass beyond 5.5 sd.
#pragma once

#include "fastoptim/random/simd.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {
namespace vmath {

using simd::bitcast;
using simd::splat;
using simd::vd;
using simd::vf;
using simd::vi;
using simd::vu;
using simd::vu64;

// Natural log of x, x positive and normal.
inline vf log(vf x) {
  const vu b = bitcast<vu>(x);
  // The exponent field read as a float: 2^23 + k, minus 2^23, is k exactly.
  vf e = bitcast<vf>(((b >> 23) & 0xffu) | 0x4b000000u) - 8388608.0f;
  e = e - 127.0f;
  vf m = bitcast<vf>((b & 0x007fffffu) | 0x3f800000u);
  const vu big = (vu)(m > 1.41421356f);
  m = bitcast<vf>((bitcast<vu>(m * 0.5f) & big) | (bitcast<vu>(m) & ~big));
  e = e + bitcast<vf>(big & 0x3f800000u);
  const vf s = (m - 1.0f) / (m + 1.0f);
  const vf z = s * s;
  vf p = splat<vf>(static_cast<float>(1.0 / 11.0));
  p = p * z + static_cast<float>(1.0 / 9.0);
  p = p * z + static_cast<float>(1.0 / 7.0);
  p = p * z + static_cast<float>(1.0 / 5.0);
  p = p * z + static_cast<float>(1.0 / 3.0);
  p = p * z + 1.0f;
  vf t = s * p;
  t = t + t;
  t = t + e * -2.12194440e-4f;
  return e * 0.693359375f + t;
}

inline vd log(vd x) {
  const vu64 b = bitcast<vu64>(x);
  vd e = bitcast<vd>(((b >> 52) & 0x7ffu) | 0x4330000000000000u) - 4503599627370496.0;
  e = e - 1023.0;
  vd m = bitcast<vd>((b & 0x000fffffffffffffu) | 0x3ff0000000000000u);
  const vu64 big = (vu64)(m > 1.4142135623730951);
  m = bitcast<vd>((bitcast<vu64>(m * 0.5) & big) | (bitcast<vu64>(m) & ~big));
  e = e + bitcast<vd>(big & 0x3ff0000000000000u);
  const vd s = (m - 1.0) / (m + 1.0);
  const vd z = s * s;
  vd p = splat<vd>(0.07308224842521703);
  p = p * z + 0.07665860800278021;
  p = p * z + 0.09091444562630861;
  p = p * z + 0.1111110556739754;
  p = p * z + 0.14285714312987743;
  p = p * z + 0.19999999999949752;
  p = p * z + 0.3333333333333335;
  p = p * z + 1.0;
  vd t = s * p;
  t = t + t;
  t = t + e * 1.90821492927058770002e-10;
  return e * 6.93147180369123816490e-01 + t;
}

// cos(2 pi t) and sin(2 pi t) for t in [0, 1), t a multiple of 2^-24.
inline void sincos_turns(vf t, vf* c_out, vf* s_out) {
  const vf y = t * 4.0f + 8388608.0f;
  const vu q = bitcast<vu>(y) & 3u;
  const vf f = t - (y - 8388608.0f) * 0.25f;
  const vf ph = f * static_cast<float>(6.283185307179586476925);
  const vf z = ph * ph;
  vf sp = splat<vf>(static_cast<float>(1.0 / 362880.0));
  sp = sp * z + static_cast<float>(-1.0 / 5040.0);
  sp = sp * z + static_cast<float>(1.0 / 120.0);
  sp = sp * z + static_cast<float>(-1.0 / 6.0);
  const vf s = ph + ph * (z * sp);
  vf cp = splat<vf>(static_cast<float>(-1.0 / 3628800.0));
  cp = cp * z + static_cast<float>(1.0 / 40320.0);
  cp = cp * z + static_cast<float>(-1.0 / 720.0);
  cp = cp * z + static_cast<float>(1.0 / 24.0);
  cp = cp * z + -0.5f;
  const vf c = 1.0f + z * cp;
  const vu swap = -(q & 1u);
  const vu cb = bitcast<vu>(c), sb = bitcast<vu>(s);
  const vu rc = ((sb & swap) | (cb & ~swap)) ^ (((q + 1u) & 2u) << 30);
  const vu rs = ((cb & swap) | (sb & ~swap)) ^ ((q & 2u) << 30);
  *c_out = bitcast<vf>(rc);
  *s_out = bitcast<vf>(rs);
}

// cos(2 pi t) and sin(2 pi t) for t in [0, 1), t a multiple of 2^-32.
inline void sincos_turns(vd t, vd* c_out, vd* s_out) {
  const vd y = t * 4.0 + 4503599627370496.0;
  const vu64 q = bitcast<vu64>(y) & 3u;
  const vd f = t - (y - 4503599627370496.0) * 0.25;
  const vd ph = f * 6.283185307179586476925;
  const vd z = ph * ph;
  vd sp = splat<vd>(1.5918129294866608e-10);
  sp = sp * z + -2.5051131845003624e-08;
  sp = sp * z + 2.755731610255244e-06;
  sp = sp * z + -0.00019841269836758574;
  sp = sp * z + 0.008333333333330948;
  sp = sp * z + -0.16666666666666666;
  const vd s = ph + ph * (z * sp);
  vd cp = splat<vd>(-1.1367998654022494e-11);
  cp = cp * z + 2.0875886738047052e-09;
  cp = cp * z + -2.7557315566341895e-07;
  cp = cp * z + 2.480158729369346e-05;
  cp = cp * z + -0.0013888888888880775;
  cp = cp * z + 0.04166666666666664;
  cp = cp * z + -0.5;
  const vd c = 1.0 + z * cp;
  const vu64 swap = -(q & 1u);
  const vu64 cb = bitcast<vu64>(c), sb = bitcast<vu64>(s);
  const vu64 rc = ((sb & swap) | (cb & ~swap)) ^ (((q + 1u) & 2u) << 62);
  const vu64 rs = ((cb & swap) | (sb & ~swap)) ^ ((q & 2u) << 62);
  *c_out = bitcast<vd>(rc);
  *s_out = bitcast<vd>(rs);
}

// Standard normal quantile Phi^-1(p) for p in (0, 1):
// sqrt(2) * erfinv(2p - 1), with 1 - x^2 = 4 p (1 - p) formed from p so it
// keeps its relative precision when p is small.
inline vd normal_quantile(vd p) {
  const vd x = p * 2.0 - 1.0;
  const vd q = p * (1.0 - p);
  const vd w = -log(q * 4.0);
  const vd w1 = w - 2.5;
  vd a = splat<vd>(2.81022636e-08);
  a = a * w1 + 3.43273939e-07;
  a = a * w1 + -3.5233877e-06;
  a = a * w1 + -4.39150654e-06;
  a = a * w1 + 0.00021858087;
  a = a * w1 + -0.00125372503;
  a = a * w1 + -0.00417768164;
  a = a * w1 + 0.246640727;
  a = a * w1 + 1.50140941;
  const vu64 near = (vu64)(w < 5.0);
  vd r = a;
  // The tail branch (sqrt and a second polynomial) only when a lane needs
  // it: p in (0.0017, 0.9983) never does, so a truncation within about
  // +-2.9 sd skips it always. Lanes choose the same value either way.
  if (!simd::all_set(near)) {
    const vd w2 = simd::sqrt(w) - 3.0;
    vd b = splat<vd>(-0.000200214257);
    b = b * w2 + 0.000100950558;
    b = b * w2 + 0.00134934322;
    b = b * w2 + -0.00367342844;
    b = b * w2 + 0.00573950773;
    b = b * w2 + -0.0076224613;
    b = b * w2 + 0.00943887047;
    b = b * w2 + 1.00167406;
    b = b * w2 + 2.83297682;
    r = bitcast<vd>((bitcast<vu64>(a) & near) | (bitcast<vu64>(b) & ~near));
  }
  return (r * x) * 1.4142135623730950488;
}

}  // namespace vmath
}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
