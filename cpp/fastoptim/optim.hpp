// The multi-tensor optimizer step: per-step scalars in double, then one
// fused pass per tensor on the ISA level in use, split across threads when
// the step is large.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fastoptim/kernels/coeffs.hpp"

namespace fastoptim {

enum class DType : int { f32 = 0, f64 = 1 };

// Hyperparameters of one parameter group, as the Python layer holds them.
struct Hyper {
  double lr = 0, weight_decay = 0, momentum = 0, dampening = 0, alpha = 0, eps = 0;
  double beta1 = 0, beta2 = 0, lr_decay = 0;
  bool maximize = false, nesterov = false, centered = false, amsgrad = false, decoupled = false;
};

// One tensor of a step. s[k] is null where the rule does not use slot k.
struct TensorRef {
  DType dtype;
  void* p;
  const void* g;
  void* s[3];
  std::size_t n;
  std::int64_t* step;  // incremented by run_step before the update
  int group;           // index into the hypers array
};

// Increments every tensor's step and applies the rule to all tensors. All
// inputs must have been validated. Large steps use the thread pool. Returns
// count, or (changing nothing) the index of the first tensor whose update
// coefficients at its next step overflow its type (lr / (1 - beta1^step) or
// eps beyond float32's range, say): torch.optim refuses such a step too.
std::size_t run_step(Rule rule, const TensorRef* tensors, std::size_t count,
                     const Hyper* hypers);

// True if every grad element of every tensor is finite (no NaN, no Inf).
// Vectorized and threaded like run_step; reads the grads only.
bool grads_finite(const TensorRef* tensors, std::size_t count);

// A step (or grad check) runs on min(num_threads(), bytes moved / threshold)
// threads, so below this many bytes it stays on the caller's thread (waking
// a worker costs more than it saves). Default 6 MiB, measured: see optim.cpp.
std::size_t parallel_threshold();
void set_parallel_threshold(std::size_t n);

// Bytes one element moves in an update with `buffers` state buffers of
// `element_size` bytes: param read and written, grad read, each state buffer
// read and written. The parallel threshold is compared against this.
inline std::size_t update_bytes_per_element(std::size_t element_size, std::size_t buffers) {
  return (3 + 2 * buffers) * element_size;
}

// Since the process started: multi-threaded steps and grad checks, chunks
// taken by pool workers (not the caller), and chunks a thread took from
// another thread's share. For tests and diagnostics.
struct ShareStats {
  std::uint64_t regions, worker_chunks, taken_from_others;
};
ShareStats share_stats();

// Per-ISA kernel table (optim_isa.cpp).
struct OptimKernels {
  void (*update_f32)(Rule, const Coeffs<float>&, const Slots<float>&, std::size_t);
  void (*update_f64)(Rule, const Coeffs<double>&, const Slots<double>&, std::size_t);
  bool (*all_finite_f32)(const float*, std::size_t);
  bool (*all_finite_f64)(const double*, std::size_t);
};

namespace baseline { const OptimKernels& optim_kernels(); }
namespace avx2 { const OptimKernels& optim_kernels(); }    // x86 builds only
namespace avx512 { const OptimKernels& optim_kernels(); }  // x86 builds only

}  // namespace fastoptim
