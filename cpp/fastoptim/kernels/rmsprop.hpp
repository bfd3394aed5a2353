// RMSProp (torch.optim.RMSprop), state square_avg [, momentum_buffer, grad_avg]:
//   square_avg <- square_avg * alpha + ((1 - alpha) * g) * g
//   centered:  grad_avg <- lerp(grad_avg, g, 1 - alpha)
//              avg = sqrt(square_avg - grad_avg * grad_avg) + eps
//   else:      avg = sqrt(square_avg) + eps
//   momentum:  b <- b * momentum + g / avg;  p <- p + (-lr) * b
//   else:      p <- p + ((-lr) * g) / avg
#pragma once

#include "fastoptim/kernels/coeffs.hpp"
#include "fastoptim/kernels/isa_common.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

template <bool L2, bool Centered, bool UseMomentum, class T>
void rmsprop_kernel(const Coeffs<T>& c, T* FASTOPTIM_RESTRICT p, const T* FASTOPTIM_RESTRICT g,
                    T* FASTOPTIM_RESTRICT sq, T* FASTOPTIM_RESTRICT buf, T* FASTOPTIM_RESTRICT ga,
                    std::size_t n) {
  const T sign = c.sign, wd = c.weight_decay, neg_lr = c.neg_lr, eps = c.eps;
  const T alpha = c.beta2, oma = c.one_minus_beta2, mom = c.momentum;
  const T w = c.lerp_w, w1m = c.lerp_w1m;
  const bool from_end = c.lerp_from_end;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = effective_grad<L2>(g[i], p[i], sign, wd);
    const T sqi = sq[i] * alpha + (oma * gi) * gi;
    sq[i] = sqi;
    T avg;
    if (Centered) {
      const T gai = torch_lerp(ga[i], gi, w, w1m, from_end);
      ga[i] = gai;
      avg = sqrt_(sqi - gai * gai) + eps;
    } else {
      avg = sqrt_(sqi) + eps;
    }
    if (UseMomentum) {
      const T bi = buf[i] * mom + gi / avg;
      buf[i] = bi;
      p[i] = p[i] + neg_lr * bi;
    } else {
      p[i] = p[i] + (neg_lr * gi) / avg;
    }
  }
}

template <bool L2, bool Centered, class T>
void rmsprop_momentum(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.use_momentum)
    rmsprop_kernel<L2, Centered, true>(c, s.p, s.g, s.s0, s.s1, s.s2, n);
  else
    rmsprop_kernel<L2, Centered, false>(c, s.p, s.g, s.s0, s.s1, s.s2, n);
}

template <class T>
void rmsprop(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.l2) {
    if (c.centered) rmsprop_momentum<true, true>(c, s, n);
    else rmsprop_momentum<true, false>(c, s, n);
  } else {
    if (c.centered) rmsprop_momentum<false, true>(c, s, n);
    else rmsprop_momentum<false, false>(c, s, n);
  }
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
