#include "engine/fast/row_ops.h"

#include <cmath>

#include "simd/kernels.h"

namespace dsinfer {

namespace {
constexpr int64_t kParallelElems = 1 << 16;
}

void rmsnorm_rows(const float* x, const float* w, int64_t T, int64_t n, double eps, float* out) noexcept {
  const auto& vk = simd::kernels();
#pragma omp parallel for schedule(static) if (T * n >= kParallelElems)
  for (int64_t t = 0; t < T; ++t) {
    const float* xr = x + t * n;
    float* o = out + t * n;
    const float inv = 1.0f / std::sqrt(vk.dot(xr, xr, n) / float(n) + float(eps));
    for (int64_t i = 0; i < n; ++i) o[i] = w[i] * (xr[i] * inv);
  }
}

void add_rows(float* x, const float* y, int64_t n) noexcept {
#pragma omp parallel for schedule(static) if (n >= 4 * kParallelElems)
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void quantize_rows(const float* x, int64_t T, int64_t n, BlockQ8_0* q) noexcept {
  const auto& k = simd::kernels();
  const int64_t nb = n / kBlockWeights;
#pragma omp parallel for schedule(static) if (T * n >= kParallelElems)
  for (int64_t t = 0; t < T; ++t) k.quantize_row_q8_0_act(x + t * n, q + t * nb, n);
}

}  // namespace dsinfer
