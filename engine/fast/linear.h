// Matrix products of the fast path: weights as stored (Q8_0/Q4_0 through the integer kernels,
// other types dequantized row by row) against the activations of T tokens, several products
// run as one balanced piece of work on the OpenMP team.
#pragma once
#include <cstdint>
#include <span>

#include "engine/model/matrix.h"
#include "simd/blocks.h"

namespace dsinfer {

// The activations of T tokens: float rows [T][cols] and, when the weight is Q8_0 or Q4_0,
// the same rows quantized to Q8_0 blocks [T][cols / 32].
struct Acts {
  const float* f = nullptr;
  const BlockQ8_0* q = nullptr;
  int64_t T = 0;
};

// One product: y [T][w.rows] = W . x.
struct LinearJob {
  const Matrix* w = nullptr;
  Acts x;
  float* y = nullptr;
};

// True when W multiplies Q8_0 activations (Q8_0 and Q4_0 weights).
bool uses_q8_acts(const Matrix& w) noexcept;

// Rows [r0, r1) of one product (on row groups for a RowGroups matrix). Each output element is
// computed by one call in an order that depends only on the shapes, never on how rows were split.
void linear_rows(const LinearJob& j, int64_t r0, int64_t r1) noexcept;

// All jobs on the OpenMP team: the concatenated rows are split into equal shares of work
// (bytes x tokens), so a thread that finishes one matrix continues in the next, and the ends of
// the shares into pieces a thread done early takes over (stealing_shares.h). Results are
// identical for any thread count and whichever thread runs a piece.
void run_linear(std::span<const LinearJob> jobs);

// One transposed product: y [T][w.cols] = W^T . x for float rows x [T][w.rows] (the absorbed
// key projection when W_UK sits untransposed inside kv_b).
struct TransposedJob {
  const Matrix* w = nullptr;
  const float* x = nullptr;
  int64_t T = 0;
  float* y = nullptr;
};

// All transposed jobs on the OpenMP team, split by column chunks; each output element sums
// the rows in order, so results do not depend on the thread count.
void run_linear_transposed(std::span<const TransposedJob> jobs);

// Splits `total` units of work into `parts` contiguous shares; share i is [begin(i), begin(i+1)).
inline int64_t share_begin(int64_t total, int64_t parts, int64_t i) noexcept {
  return int64_t((__int128)total * i / parts);
}

}  // namespace dsinfer
