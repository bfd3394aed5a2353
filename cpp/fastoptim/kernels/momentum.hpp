// SGD with momentum (torch.optim.SGD, momentum > 0), buffer b:
//   first step: b <- g;  later: b <- b * momentum + (1 - dampening) * g
//   update d = g + momentum * b (nesterov) or b;  p <- p + (-lr) * d
#pragma once

#include "fastoptim/kernels/coeffs.hpp"
#include "fastoptim/kernels/isa_common.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

template <bool L2, bool First, bool Nesterov, class T>
void momentum_kernel(const Coeffs<T>& c, T* FASTOPTIM_RESTRICT p, const T* FASTOPTIM_RESTRICT g,
                     T* FASTOPTIM_RESTRICT b, std::size_t n) {
  const T sign = c.sign, wd = c.weight_decay, neg_lr = c.neg_lr;
  const T mom = c.momentum, omd = c.one_minus_dampening;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = effective_grad<L2>(g[i], p[i], sign, wd);
    const T bi = First ? gi : b[i] * mom + omd * gi;
    b[i] = bi;
    const T d = Nesterov ? gi + mom * bi : bi;
    p[i] = p[i] + neg_lr * d;
  }
}

template <bool L2, bool First, class T>
void momentum_nesterov(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.nesterov)
    momentum_kernel<L2, First, true>(c, s.p, s.g, s.s0, n);
  else
    momentum_kernel<L2, First, false>(c, s.p, s.g, s.s0, n);
}

template <class T>
void momentum(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.l2) {
    if (c.first) momentum_nesterov<true, true>(c, s, n);
    else momentum_nesterov<true, false>(c, s, n);
  } else {
    if (c.first) momentum_nesterov<false, true>(c, s, n);
    else momentum_nesterov<false, false>(c, s, n);
  }
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
