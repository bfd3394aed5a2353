// Random fills on the Philox4x32-10 counter-based generator.
//
// Stream policy (part of the API; fastoptim/random.py documents it for
// users, fastoptim/reference/random.py computes it in NumPy):
// - key = (seed & 0xffffffff, seed >> 32); a 128-bit counter block
//   (c0, c1, c2, c3) = (block & 0xffffffff, block >> 32,
//   stream & 0xffffffff, stream >> 32). Each block gives 4 words x0..x3.
// - A fill of n values starting at block offset `counter` is cut into
//   groups of G values; group g uses the 16 blocks counter + 16 g + j,
//   j = 0..15 (block index modulo 2^64). Value 16 k + j of the group
//   comes from block j, word(s) k (below). A fill uses 16 * ceil(n / G)
//   blocks; the Generator then moves its counter past them.
// - bits (uint32), uniform float32, normal, truncated normal: G = 64; value
//   16 k + j of a group is built from word k of block j (normals: words
//   (0, 1) give values j (cos) and 16 + j (sin), words (2, 3) give 32 + j
//   and 48 + j).
// - uniform float64: G = 32; value 16 k + j uses words (2k, 2k + 1).
// Value i of a fill is thus a pure function of (key, stream, counter, i):
// the same for any thread count and instruction set.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastoptim {

enum class Dist : int { uniform = 0, normal = 1, truncated_normal = 2 };

struct FillParams {
  std::uint32_t key[2];
  std::uint64_t stream;
  std::uint64_t counter;  // first block of the fill
  // uniform: low, high - low, high (values are min(low + (high - low) u, high),
  // each rounded to the output type). normal: mean, std.
  // truncated_normal: mean, scale (+-std), Phi(lo), Phi(hi) - Phi(lo), lo, hi
  // (lo, hi in units of std, in the frame where the quantile is taken).
  double p[6];
};

using FillF32 = void (*)(Dist, const FillParams&, float* out, std::size_t begin, std::size_t end,
                         bool stream_stores);
using FillF64 = void (*)(Dist, const FillParams&, double* out, std::size_t begin,
                         std::size_t end, bool stream_stores);
using FillU32 = void (*)(const FillParams&, std::uint32_t* out, std::size_t begin,
                         std::size_t end, bool stream_stores);

// One table per ISA level (random/fill_isa.cpp).
struct RandomKernels {
  FillF32 fill_f32;
  FillF64 fill_f64;
  FillU32 fill_bits;
};

// Values per group of 16 blocks.
inline std::size_t group_size(Dist d, bool f64) {
  return (d == Dist::uniform && f64) ? 32 : 64;
}
// Blocks a fill of n values uses.
inline std::uint64_t blocks_used(Dist d, bool f64, std::size_t n) {
  const std::size_t g = group_size(d, f64);
  return 16u * static_cast<std::uint64_t>((n + g - 1) / g);
}

// Fill out[0:n] (threaded for large n, GIL-free). dtype: 0 float32,
// 1 float64, 2 uint32 raw words (Dist ignored).
void random_fill(Dist d, int dtype, void* out, std::size_t n, const FillParams& params);

std::size_t random_parallel_threshold();
void set_random_parallel_threshold(std::size_t n);

}  // namespace fastoptim
