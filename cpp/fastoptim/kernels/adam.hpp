// Adam and AdamW (torch.optim.Adam / AdamW), state exp_avg, exp_avg_sq
// [, max_exp_avg_sq]:
//   AdamW:     p <- p * (1 - lr * weight_decay)
//   exp_avg    <- lerp(exp_avg, g, 1 - beta1)
//   exp_avg_sq <- exp_avg_sq * beta2 + ((1 - beta2) * g) * g
//   amsgrad:   max_exp_avg_sq <- maximum(max_exp_avg_sq, exp_avg_sq), used below
//   denom = sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + eps
//   p <- p + ((-lr / (1 - beta1^step)) * exp_avg) / denom
#pragma once

#include "fastoptim/kernels/coeffs.hpp"
#include "fastoptim/kernels/isa_common.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

// Written on whole vectors (for_lanes) rather than left to the
// auto-vectorizer, to control two loads (benchmarks/README.md, "AdamW's
// lerp"). AdamW's param is loaded with an instruction of its own before the
// second moment, as in its probe; Adam's is left to the compiler, which
// folds it into the final add. Measured on Zen 4 at 1M float32 elements on
// one thread, the early load made AdamW ~2% faster and Adam ~5% slower. The
// lerp reads exp_avg twice, and GCC would load it from memory at both reads;
// in_register keeps one load (no difference measured, one load fewer). With
// L2 weight decay GCC folds the param into both the decay's multiply and the
// final add (two loads of one cache line); loading it once with in_register
// measured ~2% slower (Adam, weight_decay 0.01, 1M float32, 1 thread: paired
// against the Adam probe 1.019-1.041 vs 0.997-1.033, 4 processes each), so
// it stays folded.
template <bool L2, bool Decoupled, bool Amsgrad, bool Bc2, bool FromEnd, class T>
void adam_loop(const Coeffs<T>& c, T* FASTOPTIM_RESTRICT p, const T* FASTOPTIM_RESTRICT g,
               T* FASTOPTIM_RESTRICT m, T* FASTOPTIM_RESTRICT v, T* FASTOPTIM_RESTRICT vmax,
               std::size_t n) {
  const T sign = c.sign, wd = c.weight_decay, decay = c.decay;
  const T w = c.lerp_w, w1m = c.lerp_w1m;
  const T beta2 = c.beta2, omb2 = c.one_minus_beta2;
  const T bc2_sqrt = c.bc2_sqrt, eps = c.eps, neg_step = c.neg_lr;
  for_lanes<T>(n, [=](auto lanes, std::size_t i) FASTOPTIM_INLINE_LAMBDA {
    using V = decltype(lanes);
    V pi = load<V>(p + i);
    if (Decoupled) pi = in_register(pi) * decay;
    const V gi = effective_grad<L2>(load<V>(g + i), pi, sign, wd);
    const V mi = torch_lerp(in_register(load<V>(m + i)), gi, w, w1m, FromEnd);
    store(m + i, mi);
    const V vi = load<V>(v + i) * beta2 + (omb2 * gi) * gi;
    store(v + i, vi);
    V vv = vi;
    if (Amsgrad) {
      vv = nan_max(load<V>(vmax + i), vi);
      store(vmax + i, vv);
    }
    const V denom = (Bc2 ? sqrt_(vv) / bc2_sqrt : sqrt_(vv)) + eps;
    store(p + i, pi + (neg_step * mi) / denom);
  });
}

// The lerp's direction as a constant, so each loop has one.
template <bool L2, bool Decoupled, bool Amsgrad, bool Bc2, class T>
void adam_kernel(const Coeffs<T>& c, T* p, const T* g, T* m, T* v, T* vmax, std::size_t n) {
  if (c.lerp_from_end)
    adam_loop<L2, Decoupled, Amsgrad, Bc2, true>(c, p, g, m, v, vmax, n);
  else
    adam_loop<L2, Decoupled, Amsgrad, Bc2, false>(c, p, g, m, v, vmax, n);
}

// Once sqrt(1 - beta2^step), rounded to T, is exactly 1 (from step 16,628 in
// float32 and 37,412 in float64 at beta2 = 0.999), dividing by it
// changes no bit of any value (x / 1 is x for every x, NaN, Inf and signed
// zeros included), so the kernel skips that divide: one of Adam's two divides
// per element, in a loop bound by them when in cache.
template <bool L2, bool Decoupled, bool Amsgrad, class T>
void adam_bc2(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.bc2_sqrt == T(1))
    adam_kernel<L2, Decoupled, Amsgrad, false>(c, s.p, s.g, s.s0, s.s1, s.s2, n);
  else
    adam_kernel<L2, Decoupled, Amsgrad, true>(c, s.p, s.g, s.s0, s.s1, s.s2, n);
}

template <bool L2, bool Decoupled, class T>
void adam_amsgrad(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.amsgrad)
    adam_bc2<L2, Decoupled, true>(c, s, n);
  else
    adam_bc2<L2, Decoupled, false>(c, s, n);
}

template <class T>
void adam(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.decoupled) adam_amsgrad<false, true>(c, s, n);
  else if (c.l2) adam_amsgrad<true, false>(c, s, n);
  else adam_amsgrad<false, false>(c, s, n);
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
