// The scalar reference: plain integer loops, blocks accumulated in order in one float.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "simd/half.h"
#include "simd/kernels_isa.h"
#include "simd/repack.h"

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

// Row i of block group g as levels and scale.
void r16_levels(const uint8_t* g, int64_t i, bool q4, int32_t* l, uint16_t& d) {
  std::memcpy(&d, g + 2 * i, 2);
  if (q4) {
    for (int p = 0; p < 4; ++p)
      for (int j = 0; j < 4; ++j) {
        const uint8_t v = g[32 + 64 * p + 4 * i + j];
        l[4 * p + j] = int32_t(v & 0x0F) - 8;
        l[16 + 4 * p + j] = int32_t(v >> 4) - 8;
      }
  } else {
    for (int k = 0; k < 8; ++k)
      for (int j = 0; j < 4; ++j) l[4 * k + j] = int8_t(g[32 + 64 * k + 4 * i + j]);
  }
}

// The reference of the row-group products: per row and token an exact int32 dot per block,
// then acc = fma(float(dot), d_w * d_x, acc) in block order (the fused step the SIMD kernels
// take, so they agree bit for bit).
template <bool kQ4>
void gemm_r16(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy, int64_t g0,
              int64_t g1) noexcept {
  const size_t gb = kQ4 ? kQ4GroupBlockBytes : kQ8GroupBlockBytes;
  int32_t l[kBlockWeights];
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t i = 0; i < kRowGroup; ++i)
      for (int64_t t = 0; t < n_tok; ++t) {
        float acc = 0.0f;
        for (int64_t b = 0; b < nb; ++b) {
          uint16_t d;
          r16_levels(W + (size_t(g) * size_t(nb) + size_t(b)) * gb, i, kQ4, l, d);
          const BlockQ8_0& x = X[t * nb + b];
          int32_t s = 0;
          for (int j = 0; j < kBlockWeights; ++j) s += l[j] * int32_t(x.qs[j]);
          acc = std::fma(float(s), fp16_to_f32(d) * fp16_to_f32(x.d), acc);
        }
        Y[t * ldy + g * kRowGroup + i] = acc;
      }
}


}  // namespace

void add_quant_scalar(Kernels& k) noexcept {
  set_quant_kernels<gemm<BlockQ8_0>, gemm<BlockQ4_0>, quantize_act>(k);
  k.gemm_q4_0_r16 = gemm_r16<true>;
  k.gemm_q8_0_r16 = gemm_r16<false>;
}

}  // namespace dsinfer::simd::detail
