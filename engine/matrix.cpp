#include "engine/matrix.h"

#include <algorithm>
#include <cstring>

#include "simd/blocks.h"
#include "simd/scalar_ops.h"

namespace dsinfer {

namespace {
constexpr int64_t kChunk = 256;  // columns dequantized at a time, on the stack
constexpr int64_t kFp8Block = 128;
// Below this many multiply-adds a parallel region costs more than it saves.
constexpr int64_t kParallelWork = 1 << 16;

inline float load_f32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}
}  // namespace

void dequant_row_chunk(const Matrix& w, int64_t r, int64_t c0, int64_t n, float* out) noexcept {
  const int64_t row = w.row_offset + r;
  const uint8_t* p = w.data + size_t(row) * dtype_row_bytes(w.type, w.cols) + dtype_row_bytes(w.type, c0);
  if (w.type == DType::F8_E4M3) {
    const uint8_t* srow = w.scale + size_t(row / kFp8Block) * size_t(w.scale_cols) * 4;
    for (int64_t i = 0; i < n; ++i) {
      const float s = load_f32(srow + size_t((c0 + i) / kFp8Block) * 4);
      out[i] = fp8_e4m3_to_f32(p[i]) * s;
    }
    return;
  }
  // c0 is a multiple of the chunk, so of the block. Binding refuses types without to_float.
  dtype_info(w.type).to_float(p, out, n);
}

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
