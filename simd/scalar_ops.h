// The scalar float dot product and axpy: the float32 reference engine computes with them, and
// the scalar kernel table is built on them. Eight independent partial sums make the loop
// vectorisable without -ffast-math while keeping one fixed order on every machine.
#pragma once
#include <cstdint>

namespace dsinfer::simd {

inline float dot_f32(const float* a, const float* b, int64_t n) noexcept {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  for (int k = 0; i < n; ++i, ++k) s[k] += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

inline void axpy_f32(float alpha, const float* x, float* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace dsinfer::simd
