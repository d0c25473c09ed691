#include "simd/vec_ref.h"

namespace dsinfer::simd {

float dot_f32(const float* a, const float* b, size_t n) noexcept {
  // Eight independent partial sums: vectorisable without -ffast-math and a fixed order.
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  for (size_t k = 0; i < n; ++i, ++k) s[k] += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

void axpy_f32(float alpha, const float* x, float* y, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace dsinfer::simd
