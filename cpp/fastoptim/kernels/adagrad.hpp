// AdaGrad (torch.optim.Adagrad), state sum:
//   sum <- sum + g * g;  p <- p + ((-clr) * g) / (sqrt(sum) + eps)
//   clr = lr / (1 + (step - 1) * lr_decay)
#pragma once

#include "fastoptim/kernels/coeffs.hpp"
#include "fastoptim/kernels/isa_common.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

template <bool L2, class T>
void adagrad_kernel(const Coeffs<T>& c, T* FASTOPTIM_RESTRICT p, const T* FASTOPTIM_RESTRICT g,
                    T* FASTOPTIM_RESTRICT sum, std::size_t n) {
  const T sign = c.sign, wd = c.weight_decay, neg_clr = c.neg_lr, eps = c.eps;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = effective_grad<L2>(g[i], p[i], sign, wd);
    const T si = sum[i] + gi * gi;
    sum[i] = si;
    const T std_ = sqrt_(si) + eps;
    p[i] = p[i] + (neg_clr * gi) / std_;
  }
}

template <class T>
void adagrad(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.l2)
    adagrad_kernel<true>(c, s.p, s.g, s.s0, n);
  else
    adagrad_kernel<false>(c, s.p, s.g, s.s0, n);
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
