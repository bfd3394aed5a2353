// The update kernels of every rule, compiled once per ISA level (CMake sets
// FASTOPTIM_ISA_NS and the level's -m flags). The loops are written so GCC
// and Clang vectorize them: restrict pointers, no errno from sqrt, no
// contraction; main loop and tail run the same operations in the same order.
// Adam's is written on vector-extension types instead (for_lanes in
// kernels/isa_common.hpp), to control which loads it issues.
#include "fastoptim/kernels/adagrad.hpp"
#include "fastoptim/kernels/adam.hpp"
#include "fastoptim/kernels/momentum.hpp"
#include "fastoptim/kernels/rmsprop.hpp"
#include "fastoptim/kernels/sgd.hpp"
#include "fastoptim/optim.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

namespace {

template <class T>
void update_span(Rule rule, const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  switch (rule) {
    case Rule::sgd: sgd(c, s, n); break;
    case Rule::momentum: momentum(c, s, n); break;
    case Rule::adagrad: adagrad(c, s, n); break;
    case Rule::rmsprop: rmsprop(c, s, n); break;
    case Rule::adam: adam(c, s, n); break;
  }
}

// The head up to p's first cache-line boundary, then the rest from there.
template <class T>
void update(Rule rule, const Coeffs<T>& c, const Slots<T>& s, std::size_t n) {
  const std::size_t head = align_head(s.p, n);
  if (head) update_span(rule, c, s, head);
  if (n > head) update_span(rule, c, advance(s, head), n - head);
}

void update_f32(Rule rule, const Coeffs<float>& c, const Slots<float>& s, std::size_t n) {
  update(rule, c, s, n);
}

void update_f64(Rule rule, const Coeffs<double>& c, const Slots<double>& s, std::size_t n) {
  update(rule, c, s, n);
}

// x - x is 0 for every finite x and NaN for Inf and NaN. The OR-reduction
// over whole blocks vectorizes; a block is short enough to stay in L1 and
// stop early on the first bad block.
template <class T>
bool all_finite(const T* FASTOPTIM_RESTRICT g, std::size_t n) {
  constexpr std::size_t kBlock = 1024;
  // The first block ends where g reaches a cache line (see align_head).
  const std::size_t head = align_head(g, n);
  for (std::size_t start = 0; start < n;) {
    const std::size_t len = start == 0 && head ? head : kBlock;
    const std::size_t end = n - start < len ? n : start + len;
    int bad = 0;
    for (std::size_t i = start; i < end; ++i) bad |= !(g[i] - g[i] == T(0));
    if (bad) return false;
    start = end;
  }
  return true;
}

bool all_finite_f32(const float* g, std::size_t n) { return all_finite(g, n); }
bool all_finite_f64(const double* g, std::size_t n) { return all_finite(g, n); }

}  // namespace

const OptimKernels& optim_kernels() {
  static const OptimKernels table{&update_f32, &update_f64, &all_finite_f32, &all_finite_f64};
  return table;
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
