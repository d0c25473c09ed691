#include "engine/reference/ops_ref.h"

#include <cmath>

#include "simd/scalar_ops.h"

namespace dsinfer {

void rmsnorm(const float* x, const float* w, int64_t n, double eps, float* out) noexcept {
  const float ms = simd::dot_f32(x, x, size_t(n)) / float(n);
  const float inv = 1.0f / std::sqrt(ms + float(eps));
  for (int64_t i = 0; i < n; ++i) out[i] = w[i] * (x[i] * inv);
}

void softmax_inplace(float* x, int64_t n) noexcept {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    s += x[i];
  }
  const float inv = 1.0f / s;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace dsinfer
