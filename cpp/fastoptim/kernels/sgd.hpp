// SGD without momentum (torch.optim.SGD, momentum=0).
//   g <- sign * g (+ wd * p);  p <- p + (-lr) * g
#pragma once

#include "fastoptim/kernels/coeffs.hpp"
#include "fastoptim/kernels/isa_common.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

template <bool L2, class T>
void sgd_kernel(const Coeffs<T>& c, T* FASTOPTIM_RESTRICT p, const T* FASTOPTIM_RESTRICT g,
                std::size_t n) {
  const T sign = c.sign, wd = c.weight_decay, neg_lr = c.neg_lr;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = effective_grad<L2>(g[i], p[i], sign, wd);
    p[i] = p[i] + neg_lr * gi;
  }
}

template <class T>
void sgd(const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  if (c.l2)
    sgd_kernel<true>(c, s.p, s.g, n);
  else
    sgd_kernel<false>(c, s.p, s.g, n);
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
