// A weight matrix as stored in the mapped file: [rows x cols] row-major, any storage type.
// Nothing is copied; rows are dequantized a chunk at a time where a product needs floats.
#pragma once
#include <cstdint>

#include "quant/dtype.h"

namespace dsinfer {

struct Matrix {
  DType type = DType::F32;
  int64_t rows = 0, cols = 0;
  const uint8_t* data = nullptr;   // row 0 of the whole stored tensor
  const uint8_t* scale = nullptr;  // F8_E4M3: float32 scale_inv [ceil(R/128) x scale_cols], R the stored rows
  int64_t scale_cols = 0;
  int64_t row_offset = 0;  // first stored row of this view (sub-views keep block-scale indexing right)

  bool empty() const { return data == nullptr; }
  Matrix row_slice(int64_t r0, int64_t n) const {
    Matrix m = *this;
    m.row_offset += r0;
    m.rows = n;
    return m;
  }
};

// out[0..n) = columns [c0, c0+n) of row r, as float32.
void dequant_row_chunk(const Matrix& w, int64_t r, int64_t c0, int64_t n, float* out) noexcept;
inline void dequant_row(const Matrix& w, int64_t r, float* out) noexcept { dequant_row_chunk(w, r, 0, w.cols, out); }

}  // namespace dsinfer
