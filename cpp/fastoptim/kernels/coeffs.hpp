// Per-tensor, per-step scalars of every update rule, and the pointers a
// kernel works on. Plain data shared by all ISA levels.
//
// The scalars are computed once per call in double (optim.cpp) and rounded
// to the parameter's type once, as torch.optim does; the NumPy reference
// (python/fastoptim/reference/optim.py) makes the same roundings.
#pragma once

#include <cstddef>

namespace fastoptim {

enum class Rule : int { sgd = 0, momentum = 1, adagrad = 2, rmsprop = 3, adam = 4 };

template <class T>
struct Coeffs {
  T sign;            // -1 when maximizing, else +1 (multiplying by it is exact)
  T weight_decay;    // L2: g += weight_decay * p (only when l2)
  T neg_lr;          // -lr (SGD, Momentum, RMSProp), -clr (AdaGrad), -lr/bc1 (Adam)
  T momentum;        // Momentum, RMSProp
  T one_minus_dampening;
  T eps;
  T beta2;           // Adam: beta2; RMSProp: alpha
  T one_minus_beta2; // Adam: 1 - beta2; RMSProp: 1 - alpha
  T lerp_w;          // torch's lerp(a, b, w): Adam exp_avg (w = 1 - beta1),
  T lerp_w1m;        //   RMSProp grad_avg (w = 1 - alpha); lerp_w1m = 1 - w in T
  T bc2_sqrt;        // Adam: sqrt(1 - beta2^step)
  T decay;           // AdamW: 1 - lr * weight_decay
  bool l2;           // weight_decay != 0 (and not decoupled)
  bool decoupled;    // AdamW
  bool first;        // Momentum: first step, buffer = grad
  bool nesterov;
  bool centered;     // RMSProp
  bool use_momentum; // RMSProp momentum > 0
  bool amsgrad;
  bool lerp_from_end;  // lerp weight >= 0.5: torch evaluates from the end point
};

// A tensor's memory: param, grad and up to three state buffers, n elements.
// The meaning of s0..s2 per rule:
//   sgd: -; momentum: momentum_buffer; adagrad: sum;
//   rmsprop: square_avg, momentum_buffer, grad_avg;
//   adam: exp_avg, exp_avg_sq, max_exp_avg_sq.
template <class T>
struct Slots {
  T* p;
  const T* g;
  T* s0;
  T* s1;
  T* s2;
};

// s moved k elements on: every pointer offset by k, null state slots kept null.
template <class T>
Slots<T> advance(const Slots<T>& s, std::size_t k) {
  auto at = [k](T* q) { return q ? q + k : nullptr; };
  return Slots<T>{s.p + k, s.g + k, at(s.s0), at(s.s1), at(s.s2)};
}

}  // namespace fastoptim
