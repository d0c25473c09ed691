// The scalar reference: plain integer loops, blocks accumulated in order in one float.
#include <cstdint>

#include "simd/half.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd::detail {
namespace {

int32_t block_dot(const BlockQ8_0& w, const BlockQ8_0& x) {
  int32_t s = 0;
  for (int j = 0; j < kBlockWeights; ++j) s += int32_t(w.qs[j]) * int32_t(x.qs[j]);
  return s;
}

int32_t block_dot(const BlockQ4_0& w, const BlockQ8_0& x) {
  int32_t s = 0;
  for (int j = 0; j < kBlockWeights / 2; ++j) {
    s += (int32_t(w.qs[j] & 0x0F) - 8) * int32_t(x.qs[j]);
    s += (int32_t(w.qs[j] >> 4) - 8) * int32_t(x.qs[j + kBlockWeights / 2]);
  }
  return s;
}

template <class Block>
float dot(const Block* w, const BlockQ8_0* x, int64_t nblocks) noexcept {
  float acc = 0.0f;
  for (int64_t b = 0; b < nblocks; ++b)
    acc += float(block_dot(w[b], x[b])) * (fp16_to_f32(w[b].d) * fp16_to_f32(x[b].d));
  return acc;
}

template <class Block>
void gemm(const Block* W, int64_t rows, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y,
          int64_t row0, int64_t row1) noexcept {
  for (int64_t r = row0; r < row1; ++r)
    for (int64_t t = 0; t < n_tok; ++t) Y[t * rows + r] = dot(W + r * nb, X + t * nb, nb);
}

void quantize_act(const float* x, BlockQ8_0* y, int64_t n) noexcept { quantize_row_q8_0(x, y, n); }

}  // namespace

void add_quant_scalar(Kernels& k) noexcept { set_quant_kernels<gemm<BlockQ8_0>, gemm<BlockQ4_0>, quantize_act>(k); }

}  // namespace dsinfer::simd::detail
