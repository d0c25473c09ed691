#include "engine/reference/matmul_ref.h"

#include <algorithm>

#include "simd/scalar_ops.h"

namespace dsinfer {

namespace {
constexpr int64_t kChunk = 256;  // columns dequantized at a time, on the stack
// Below this many multiply-adds a parallel region costs more than it saves.
constexpr int64_t kParallelWork = 1 << 16;
}  // namespace

void matmul_ref(const Matrix& w, const float* x, int64_t T, float* y) {
  const int64_t R = w.rows, C = w.cols;
#pragma omp parallel for schedule(static) if (R * C * T > kParallelWork)
  for (int64_t r = 0; r < R; ++r) {
    float buf[kChunk];
    for (int64_t t = 0; t < T; ++t) y[t * R + r] = 0.0f;
    for (int64_t c0 = 0; c0 < C; c0 += kChunk) {
      const int64_t n = std::min(kChunk, C - c0);
      dequant_row_chunk(w, r, c0, n, buf);
      for (int64_t t = 0; t < T; ++t) y[t * R + r] += simd::dot_f32(buf, x + t * C + c0, size_t(n));
    }
  }
}

void matvec_t_ref(const Matrix& w, const float* x, float* y) {
  const int64_t R = w.rows, C = w.cols;
  const int64_t nchunks = (C + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (R * C > kParallelWork)
  for (int64_t ci = 0; ci < nchunks; ++ci) {
    const int64_t c0 = ci * kChunk, n = std::min(kChunk, C - c0);
    float buf[kChunk];
    std::fill(y + c0, y + c0 + n, 0.0f);
    for (int64_t r = 0; r < R; ++r) {
      dequant_row_chunk(w, r, c0, n, buf);
      simd::axpy_f32(x[r], buf, y + c0, size_t(n));
    }
  }
}

}  // namespace dsinfer
