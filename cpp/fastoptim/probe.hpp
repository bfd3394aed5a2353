// Roofline probes (benchmarks only): see probe_isa.cpp.
#pragma once

#include <cstddef>

namespace fastoptim {

enum class ProbeKind : int {
  sgd, momentum, adagrad, rmsprop, adam,  // plain fused loops of each rule
  stream1, stream2, stream3,              // p (+ 1 or 2 buffers) += g: memory only
  adamw                                   // adam, p first scaled by 1 - lr * wd
};

struct ProbeKernels {
  void (*f32)(ProbeKind, float*, const float*, float*, float*, std::size_t);
  void (*f64)(ProbeKind, double*, const double*, double*, double*, std::size_t);
};

namespace baseline { const ProbeKernels& probe_kernels(); }
namespace avx2 { const ProbeKernels& probe_kernels(); }    // x86 builds only
namespace avx512 { const ProbeKernels& probe_kernels(); }  // x86 builds only

// Runs the probe over [0, n) split across nt threads of the pool, on the
// ISA level in use. p, a, b are written; a and b may be null when unused.
void run_probe(ProbeKind kind, bool f64, void* p, const void* g, void* a, void* b, std::size_t n,
               int nt);

}  // namespace fastoptim
