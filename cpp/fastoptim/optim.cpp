#include "fastoptim/optim.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <vector>

#include "fastoptim/dispatch.hpp"
#include "fastoptim/parallel.hpp"

namespace fastoptim {

namespace {

const OptimKernels& kernels() {
  return FASTOPTIM_ACTIVE_TABLE(optim_kernels);
}

// Bytes a step must move per thread before a second thread pays for its
// wake-up. Waking a sleeping worker costs the caller ~5-7 us on this KVM guest
// and the worker joins ~10-40 us later (it never delays the step: see
// parallel_run_shared). Measured on 2 cores, float32, with 1 ms of other work
// between steps as in training: splitting broke even at about 12 MiB moved
// (Adam 393K elements 1.06x, 524K 1.17x, 262K 0.93x; SGD 1M 1.08x, 512K
// 0.85x). 6 MiB per thread: Adam splits from 449K elements, SGD from 1.05M.
std::atomic<std::size_t> g_parallel_threshold{std::size_t(6) << 20};

template <class T>
void set_lerp(Coeffs<T>* c, double one_minus_beta) {
  c->lerp_w = static_cast<T>(one_minus_beta);
  c->lerp_w1m = T(1) - c->lerp_w;
  // torch.lerp switches formula at |w| = 0.5 (is_lerp_weight_small).
  c->lerp_from_end = !(std::abs(c->lerp_w) < T(0.5));
}

// Computes the scalars of one tensor's update for step number `step` (>= 1).
template <class T>
Coeffs<T> make_coeffs(Rule rule, const Hyper& h, std::int64_t step) {
  Coeffs<T> c{};
  c.sign = h.maximize ? T(-1) : T(1);
  c.weight_decay = static_cast<T>(h.weight_decay);
  c.l2 = h.weight_decay != 0 && !h.decoupled;
  c.neg_lr = static_cast<T>(-h.lr);
  switch (rule) {
    case Rule::sgd: break;
    case Rule::momentum:
      c.momentum = static_cast<T>(h.momentum);
      c.one_minus_dampening = static_cast<T>(1.0 - h.dampening);
      c.first = step == 1;
      c.nesterov = h.nesterov;
      break;
    case Rule::adagrad: {
      const double clr = h.lr / (1.0 + static_cast<double>(step - 1) * h.lr_decay);
      c.neg_lr = static_cast<T>(-clr);
      c.eps = static_cast<T>(h.eps);
      break;
    }
    case Rule::rmsprop:
      c.beta2 = static_cast<T>(h.alpha);
      c.one_minus_beta2 = static_cast<T>(1.0 - h.alpha);
      set_lerp(&c, 1.0 - h.alpha);
      c.eps = static_cast<T>(h.eps);
      c.momentum = static_cast<T>(h.momentum);
      c.use_momentum = h.momentum > 0;
      c.centered = h.centered;
      break;
    case Rule::adam: {
      const double s = static_cast<double>(step);
      const double bc1 = 1.0 - std::pow(h.beta1, s);
      const double bc2 = 1.0 - std::pow(h.beta2, s);
      c.neg_lr = static_cast<T>(-(h.lr / bc1));
      c.bc2_sqrt = static_cast<T>(std::sqrt(bc2));
      c.beta2 = static_cast<T>(h.beta2);
      c.one_minus_beta2 = static_cast<T>(1.0 - h.beta2);
      set_lerp(&c, 1.0 - h.beta1);
      c.eps = static_cast<T>(h.eps);
      c.amsgrad = h.amsgrad;
      c.decoupled = h.decoupled;
      c.decay = static_cast<T>(1.0 - h.lr * h.weight_decay);
      break;
    }
  }
  return c;
}

template <class T>
Slots<T> slots_at(const TensorRef& t, std::size_t off) {
  return advance(Slots<T>{static_cast<T*>(t.p), static_cast<const T*>(t.g), static_cast<T*>(t.s[0]),
                          static_cast<T*>(t.s[1]), static_cast<T*>(t.s[2])},
                 off);
}

std::size_t grad_bytes(const TensorRef& t) { return t.dtype == DType::f32 ? 4 : 8; }

// Bytes one element of a tensor moves in an update.
std::size_t update_bytes(const TensorRef& t) {
  std::size_t buffers = 0;
  for (void* s : t.s) buffers += s ? 1 : 0;
  return update_bytes_per_element(grad_bytes(t), buffers);
}

// Counters for tests and diagnostics (share_stats()); one add per thread and
// region, never per chunk.
struct {
  std::atomic<std::uint64_t> regions{0}, worker_chunks{0}, taken_from_others{0};
} g_share_stats;

// Calls piece(i, lo, hi) for pieces [lo, hi) of every tensor i, covering all
// elements once. Steps moving few bytes run on the caller's thread; larger
// ones are shared between threads in chunks of the concatenated tensors
// (results never depend on the split: every rule is elementwise).
template <class Piece>
void for_each_piece(const TensorRef* tensors, std::size_t count, Piece& piece,
                    std::size_t (*bytes_per_element)(const TensorRef&)) {
  std::size_t total = 0, bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    total += tensors[i].n;
    bytes += tensors[i].n * bytes_per_element(tensors[i]);
  }
  const int nt = threads_for(bytes, parallel_threshold());
  if (nt <= 1) {
    for (std::size_t i = 0; i < count; ++i)
      if (tensors[i].n) piece(i, 0, tensors[i].n);
    return;
  }
  // Per-thread scratch, reused: a step allocates nothing once warm. Bound to
  // a local reference: the workers must read the caller's copy, and a lambda
  // naming a thread_local directly would read the worker's own.
  static thread_local std::vector<std::size_t> prefix_scratch;
  std::vector<std::size_t>& prefix = prefix_scratch;
  prefix.resize(count + 1);
  prefix[0] = 0;
  for (std::size_t i = 0; i < count; ++i) prefix[i + 1] = prefix[i] + tensors[i].n;
  auto span = [&](std::size_t begin, std::size_t end) {
    // First tensor whose elements reach past `begin`.
    auto i = static_cast<std::size_t>(
        std::upper_bound(prefix.begin(), prefix.end(), begin) - prefix.begin() - 1);
    for (; i < count && prefix[i] < end; ++i) {
      const std::size_t lo = std::max(begin, prefix[i]) - prefix[i];
      const std::size_t hi = std::min(end, prefix[i] + tensors[i].n) - prefix[i];
      if (lo < hi) piece(i, lo, hi);
    }
  };
  // Shared in chunks of the concatenated tensors (share_range), so a late
  // worker delays the step by at most a chunk.
  const std::size_t chunk =
      share_chunk(static_cast<double>(bytes) / static_cast<double>(total));
  auto tally = [](int t, std::uint64_t taken, std::uint64_t from_others) {
    if (t != 0) g_share_stats.worker_chunks.fetch_add(taken, std::memory_order_relaxed);
    if (from_others)
      g_share_stats.taken_from_others.fetch_add(from_others, std::memory_order_relaxed);
  };
  g_share_stats.regions.fetch_add(1, std::memory_order_relaxed);
  share_range(nt, total, chunk, span, tally);
}

}  // namespace

ShareStats share_stats() {
  return ShareStats{g_share_stats.regions.load(), g_share_stats.worker_chunks.load(),
                    g_share_stats.taken_from_others.load()};
}

std::size_t parallel_threshold() { return g_parallel_threshold.load(std::memory_order_relaxed); }
void set_parallel_threshold(std::size_t n) {
  g_parallel_threshold.store(n, std::memory_order_relaxed);
}

// Every scalar finite: the hyperparameters are (the Python side checks
// them), so an infinite one overflowed T (or, in a derived scalar, double).
template <class T>
bool coeffs_finite(const Coeffs<T>& c) {
  for (T x : {c.sign, c.weight_decay, c.neg_lr, c.momentum, c.one_minus_dampening, c.eps,
              c.beta2, c.one_minus_beta2, c.lerp_w, c.lerp_w1m, c.bc2_sqrt, c.decay})
    if (!std::isfinite(x)) return false;
  return true;
}

std::size_t run_step(Rule rule, const TensorRef* tensors, std::size_t count,
                     const Hyper* hypers) {
  static thread_local std::vector<Coeffs<float>> c32_scratch;
  static thread_local std::vector<Coeffs<double>> c64_scratch;
  std::vector<Coeffs<float>>& c32 = c32_scratch;  // see for_each_piece
  std::vector<Coeffs<double>>& c64 = c64_scratch;
  c32.resize(count);
  c64.resize(count);
  std::int64_t prev_step = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const TensorRef& t = tensors[i];
    const std::int64_t step = *t.step + 1;
    // make_coeffs is pure: a tensor with the previous one's group, step and
    // dtype (the common case) takes its coefficients as they are.
    const bool same = i > 0 && t.group == tensors[i - 1].group && step == prev_step &&
                      t.dtype == tensors[i - 1].dtype;
    prev_step = step;
    if (t.dtype == DType::f32) {
      c32[i] = same ? c32[i - 1] : make_coeffs<float>(rule, hypers[t.group], step);
      if (!same && !coeffs_finite(c32[i])) return i;
    } else {
      c64[i] = same ? c64[i - 1] : make_coeffs<double>(rule, hypers[t.group], step);
      if (!same && !coeffs_finite(c64[i])) return i;
    }
  }
  for (std::size_t i = 0; i < count; ++i) ++*tensors[i].step;
  const OptimKernels& k = kernels();
  auto piece = [&](std::size_t i, std::size_t lo, std::size_t hi) {
    const TensorRef& t = tensors[i];
    if (t.dtype == DType::f32)
      k.update_f32(rule, c32[i], slots_at<float>(t, lo), hi - lo);
    else
      k.update_f64(rule, c64[i], slots_at<double>(t, lo), hi - lo);
  };
  for_each_piece(tensors, count, piece, &update_bytes);
  return count;
}

bool grads_finite(const TensorRef* tensors, std::size_t count) {
  const OptimKernels& k = kernels();
  std::atomic<bool> finite{true};
  auto piece = [&](std::size_t i, std::size_t lo, std::size_t hi) {
    if (!finite.load(std::memory_order_relaxed)) return;
    const TensorRef& t = tensors[i];
    const bool ok = t.dtype == DType::f32
                        ? k.all_finite_f32(static_cast<const float*>(t.g) + lo, hi - lo)
                        : k.all_finite_f64(static_cast<const double*>(t.g) + lo, hi - lo);
    if (!ok) finite.store(false, std::memory_order_relaxed);
  };
  for_each_piece(tensors, count, piece, &grad_bytes);
  return finite.load();
}

}  // namespace fastoptim
