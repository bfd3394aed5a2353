// AdaGrad (torch.optim.Adagrad), state sum:
//   sum <- sum + g * g;  p <- p + ((-clr) * g) / (sqrt(sum) + eps)
//   clr = lr / (1 + (step - 1) * lr_decay)
#pragma once

#include "fastoptim/kernels/coeffs.hpp"
#include "fastoptim/kernels/isa_common.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

// The update is computed as p - (clr * g) / std, the same number as
// p + ((-clr) * g) / std (torch's formula, and the NumPy reference's) bit for
// bit: rounding to nearest is symmetric, so (-clr) * g == -(clr * g) and
// (-a) / b == -(a / b), and IEEE 754 defines p - y as p + (-y), signed zeros
// included. Where p and the update are both NaN, which of the two NaNs comes
// out is the hardware's choice (x86 returns the first operand's); NaNs stay
// where they were either way. The subtraction gives the load of p an
// instruction of its own: GCC folds p into an add as a memory operand
// (vaddps (mem), ...), which it cannot do for the first operand of a
// subtraction. On Zen 4 the folded form ran AdaGrad float32 at 1M elements
// up to 12% slower than its roofline probe (median 3%) in a process that had
// run other benchmarks first, and the subtraction 0.97-1.01x (benchmarks/README.md,
// "AdaGrad's final add"). The other rules keep the add: with the subtraction,
// Adam float32 was 1% slower and SGD, Momentum and RMSProp showed no clear
// difference.
template <bool L2, class T>
void adagrad_kernel(const Coeffs<T>& c, T* FASTOPTIM_RESTRICT p, const T* FASTOPTIM_RESTRICT g,
                    T* FASTOPTIM_RESTRICT sum, std::size_t n) {
  const T sign = c.sign, wd = c.weight_decay, clr = -c.neg_lr, eps = c.eps;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = effective_grad<L2>(g[i], p[i], sign, wd);
    const T si = sum[i] + gi * gi;
    sum[i] = si;
    const T std_ = sqrt_(si) + eps;
    p[i] = p[i] - (clr * gi) / std_;
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
