// Row-wise element operations of the fast path (RMSNorm, activation quantization), vectorized
// through simd::kernels() and, for many rows, spread over the OpenMP team. Row results do
// not depend on the thread count.
#pragma once
#include <cstdint>

#include "engine/fast/linear.h"
#include "simd/blocks.h"

namespace dsinfer {

// out[t] = w * x[t] / sqrt(mean(x[t]^2) + eps) for T rows of n; out may alias x.
void rmsnorm_rows(const float* x, const float* w, int64_t T, int64_t n, double eps, float* out) noexcept;
// x[0..n) += y[0..n) (the residual adds).
void add_rows(float* x, const float* y, int64_t n) noexcept;
// T rows of n floats (n a multiple of 32) to Q8_0 activation blocks [T][n / 32].
void quantize_rows(const float* x, int64_t T, int64_t n, BlockQ8_0* q) noexcept;
// The activations of T rows for the products: the floats and their Q8_0 blocks, quantized here.
inline Acts q8_acts(const float* x, int64_t T, int64_t n, BlockQ8_0* q) noexcept {
  quantize_rows(x, T, n, q);
  return Acts{x, q, T};
}

}  // namespace dsinfer
