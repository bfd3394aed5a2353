// Roofline probes for the benchmarks, compiled once per ISA level like the
// kernels: for each rule the plainest fused loop with the same bytes and the
// same divides and square roots (the speed a hand-written loop gets), and a
// "stream" loop that moves the same bytes with one add per array (the memory
// limit). Not used by the library itself.
#include "fastoptim/kernels/isa_common.hpp"
#include "fastoptim/probe.hpp"

namespace fastoptim {
namespace FASTOPTIM_ISA_NS {

namespace {

// 1, read at run time: the rule probes multiply g by it once, as every kernel
// multiplies g by the maximize sign (effective_grad). Besides being the
// kernels' work, the product keeps g in a register: with g[i] used directly,
// GCC folded the load into each of Adam's and RMSProp's three multiplies, and
// with a grad that starts at another offset within a cache line than the
// param, the three split loads made the probe 25-40% slower than the kernel
// at 1M in cache (Adam float32, 1 thread).
volatile float g_sign = 1.0f;

template <class T>
void probe_span(ProbeKind kind, T* FASTOPTIM_RESTRICT p, const T* FASTOPTIM_RESTRICT g,
           T* FASTOPTIM_RESTRICT a, T* FASTOPTIM_RESTRICT b, std::size_t n) {
  const T lr = T(1e-3), mom = T(0.9), b1 = T(0.9), b2 = T(0.999), eps = T(1e-8);
  const T step = T(1e-3) / T(0.1), bc2 = T(0.0316), decay = T(1) - T(1e-5);
  const T sign = static_cast<T>(g_sign);
  switch (kind) {
    case ProbeKind::sgd:
      for (std::size_t i = 0; i < n; ++i) p[i] -= lr * (sign * g[i]);
      break;
    case ProbeKind::momentum:
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = mom * a[i] + sign * g[i];
        p[i] -= lr * a[i];
      }
      break;
    case ProbeKind::adagrad:
      for (std::size_t i = 0; i < n; ++i) {
        const T gi = sign * g[i];
        a[i] += gi * gi;
        p[i] -= lr * gi / (sqrt_(a[i]) + eps);
      }
      break;
    case ProbeKind::rmsprop:
      for (std::size_t i = 0; i < n; ++i) {
        const T gi = sign * g[i];
        a[i] = b2 * a[i] + (T(1) - b2) * gi * gi;
        p[i] -= lr * gi / (sqrt_(a[i]) + eps);
      }
      break;
    case ProbeKind::adam:
      for (std::size_t i = 0; i < n; ++i) {
        const T gi = sign * g[i];
        a[i] = b1 * a[i] + (T(1) - b1) * gi;
        b[i] = b2 * b[i] + (T(1) - b2) * gi * gi;
        p[i] -= step * a[i] / (sqrt_(b[i]) / bc2 + eps);
      }
      break;
    case ProbeKind::adamw:
      for (std::size_t i = 0; i < n; ++i) {
        const T gi = sign * g[i];
        const T pi = p[i] * decay;
        a[i] = b1 * a[i] + (T(1) - b1) * gi;
        b[i] = b2 * b[i] + (T(1) - b2) * gi * gi;
        p[i] = pi - step * a[i] / (sqrt_(b[i]) / bc2 + eps);
      }
      break;
    case ProbeKind::stream1:
      for (std::size_t i = 0; i < n; ++i) p[i] += g[i];
      break;
    case ProbeKind::stream2:
      for (std::size_t i = 0; i < n; ++i) {
        a[i] += g[i];
        p[i] += g[i];
      }
      break;
    case ProbeKind::stream3:
      for (std::size_t i = 0; i < n; ++i) {
        a[i] += g[i];
        b[i] += g[i];
        p[i] += g[i];
      }
      break;
  }
}

// Aligned like the kernels (optim_isa.cpp): head to p's cache line, then the rest.
template <class T>
void probe(ProbeKind kind, T* p, const T* g, T* a, T* b, std::size_t n) {
  const std::size_t h = align_head(p, n);
  auto at = [h](T* q) { return q ? q + h : nullptr; };
  if (h) probe_span(kind, p, g, a, b, h);
  if (n > h) probe_span(kind, p + h, g + h, at(a), at(b), n - h);
}

void probe_f32(ProbeKind k, float* p, const float* g, float* a, float* b, std::size_t n) {
  probe(k, p, g, a, b, n);
}
void probe_f64(ProbeKind k, double* p, const double* g, double* a, double* b, std::size_t n) {
  probe(k, p, g, a, b, n);
}

}  // namespace

const ProbeKernels& probe_kernels() {
  static const ProbeKernels table{&probe_f32, &probe_f64};
  return table;
}

}  // namespace FASTOPTIM_ISA_NS
}  // namespace fastoptim
