// A weight matrix as stored in the mapped file: [rows x cols] row-major, any storage type, or
// (Q8_0 and Q4_0 weights copied into RAM) rearranged into the kernels' row groups
// (simd/repack.h), which take the same bytes: a view's rows then start on a row group. Nothing
// else is copied; rows are dequantized a chunk at a time where a product needs floats.
#pragma once
#include <cstdint>

#include "quant/dtype.h"

namespace dsinfer {

enum class Layout : uint8_t {
  Rows,       // as GGUF stores it
  RowGroups,  // 16 rows interleaved (simd/repack.h); row_offset and rows multiples of 16
};

struct Matrix {
  DType type = DType::F32;
  Layout layout = Layout::Rows;
  int64_t rows = 0, cols = 0;
  const uint8_t* data = nullptr;   // row 0 of the whole stored tensor
  const uint8_t* scale = nullptr;  // F8_E4M3: float32 scale_inv [ceil(R/128) x scale_cols], R the stored rows
  int64_t scale_cols = 0;
  // First stored row of this view (sub-views keep block-scale indexing right). In either
  // layout the view's data start at data + row_offset * row bytes.
  int64_t row_offset = 0;

  bool empty() const { return data == nullptr; }
  // Rows a product splits on: 16 for row groups, else 1.
  int64_t row_unit() const { return layout == Layout::RowGroups ? 16 : 1; }
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
