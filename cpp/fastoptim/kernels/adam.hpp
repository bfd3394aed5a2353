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

template <bool L2, bool Decoupled, bool Amsgrad, bool Bc2, class T>
void adam_kernel(const Coeffs<T>& c, T* FASTOPTIM_RESTRICT p, const T* FASTOPTIM_RESTRICT g,
                 T* FASTOPTIM_RESTRICT m, T* FASTOPTIM_RESTRICT v, T* FASTOPTIM_RESTRICT vmax,
                 std::size_t n) {
  const T sign = c.sign, wd = c.weight_decay, decay = c.decay;
  const T w = c.lerp_w, w1m = c.lerp_w1m;
  const bool from_end = c.lerp_from_end;
  const T beta2 = c.beta2, omb2 = c.one_minus_beta2;
  const T bc2_sqrt = c.bc2_sqrt, eps = c.eps, neg_step = c.neg_lr;
  for (std::size_t i = 0; i < n; ++i) {
    T pi = p[i];
    if (Decoupled) pi = pi * decay;
    const T gi = effective_grad<L2>(g[i], pi, sign, wd);
    const T mi = torch_lerp(m[i], gi, w, w1m, from_end);
    m[i] = mi;
    const T vi = v[i] * beta2 + (omb2 * gi) * gi;
    v[i] = vi;
    T vv = vi;
    if (Amsgrad) {
      vv = nan_max(vmax[i], vi);
      vmax[i] = vv;
    }
    const T denom = (Bc2 ? sqrt_(vv) / bc2_sqrt : sqrt_(vv)) + eps;
    p[i] = pi + (neg_step * mi) / denom;
  }
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
