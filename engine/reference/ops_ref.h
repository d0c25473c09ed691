// Float32 reference element-wise operations of the forward pass.
#pragma once
#include <cmath>
#include <cstdint>

namespace dsinfer {

// out = w * x / sqrt(mean(x^2) + eps); out may alias x.
void rmsnorm(const float* x, const float* w, int64_t n, double eps, float* out) noexcept;
// In place, numerically stable.
void softmax_inplace(float* x, int64_t n) noexcept;
inline float silu(float x) noexcept { return x / (1.0f + std::exp(-x)); }

}  // namespace dsinfer
