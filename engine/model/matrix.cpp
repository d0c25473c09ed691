#include "engine/model/matrix.h"

#include <algorithm>
#include <cstring>

#include "simd/blocks.h"
#include "simd/repack.h"

namespace dsinfer {

namespace {
constexpr int64_t kFp8Block = 128;

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
  if (w.layout == Layout::RowGroups) {
    // Row i of its group, blocks [c0, c0 + n) / 32 unpacked into stored blocks on the stack.
    const int64_t g = row / kRowGroup, i = row % kRowGroup;
    const uint8_t* group = w.data + size_t(g * kRowGroup) * dtype_row_bytes(w.type, w.cols);
    for (int64_t b0 = c0 / kBlockWeights; b0 < (c0 + n) / kBlockWeights; b0 += 8) {
      const int64_t nbk = std::min<int64_t>(8, (c0 + n) / kBlockWeights - b0);
      float* o = out + (b0 * kBlockWeights - c0);
      if (w.type == DType::Q4_0) {
        BlockQ4_0 blk[8];
        unpack_q4_0_row(group + size_t(b0) * kQ4GroupBlockBytes, nbk, i, blk);
        dequantize_row_q4_0(blk, o, nbk * kBlockWeights);
      } else {
        BlockQ8_0 blk[8];
        unpack_q8_0_row(group + size_t(b0) * kQ8GroupBlockBytes, nbk, i, blk);
        dequantize_row_q8_0(blk, o, nbk * kBlockWeights);
      }
    }
    return;
  }
  // c0 is a multiple of the chunk, so of the block. Binding refuses types without to_float.
  dtype_info(w.type).to_float(p, out, n);
}

}  // namespace dsinfer
