// NEON dot-product kernels (aarch64, compiled with -march=armv8.2-a+dotprod; only called when
// the CPU has asimddp). sdot multiplies signed by signed bytes, so no sign trick is needed:
// 4 products per int32 lane, at most 4 * 127 * 127, exact.
#include <arm_neon.h>

#include <algorithm>
#include <cstdint>

#include "simd/gemm_driver.h"
#include "simd/kernels_isa.h"
#include "simd/neon_half.h"

namespace dsinfer::simd::detail {
namespace {

struct Levels {
  int8x16_t lo, hi;  // elements 0..15 and 16..31
};
Levels levels(const BlockQ8_0& b) { return {vld1q_s8(b.qs), vld1q_s8(b.qs + 16)}; }
Levels levels(const BlockQ4_0& b) {
  const uint8x16_t v = vld1q_u8(b.qs);
  const int8x16_t eight = vdupq_n_s8(8);
  return {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F))), eight),
          vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), eight)};
}

// NT tokens against rows [row0, row1), the NT accumulators in registers.
template <class Block>
struct Rows {
  template <int NT>
  static void run(const Block* W, int64_t rows, int64_t nb, const BlockQ8_0* Xc, float* Yc, int64_t row0,
                  int64_t row1) noexcept;
};

template <class Block>
template <int NT>
void Rows<Block>::run(const Block* W, int64_t rows, int64_t nb, const BlockQ8_0* Xc, float* Yc, int64_t row0,
                      int64_t row1) noexcept {
  for (int64_t r = row0; r < row1; ++r) {
    const Block* w = W + r * nb;
    float32x4_t acc[NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) acc[t] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; ++b) {
      const Levels l = levels(w[b]);
      const float dw = half_to_f32(w[b].d);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_0& x = Xc[t * nb + b];
        int32x4_t p = vdotq_s32(vdupq_n_s32(0), l.lo, vld1q_s8(x.qs));
        p = vdotq_s32(p, l.hi, vld1q_s8(x.qs + 16));
        acc[t] = vfmaq_n_f32(acc[t], vcvtq_f32_s32(p), dw * half_to_f32(x.d));
      }
    }
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) Yc[t * rows + r] = vaddvq_f32(acc[t]);
  }
}

// quantize_row_q8_0's float operations; vrndaq rounds halves away from zero like std::round.
void quantize_act(const float* x, BlockQ8_0* y, int64_t n) noexcept {
  const float32x4_t lim = vdupq_n_f32(127.0f), nlim = vdupq_n_f32(-127.0f);
  for (int64_t i = 0; i < n / kBlockWeights; ++i) {
    const float* xb = x + i * kBlockWeights;
    float32x4_t v[8];
    float32x4_t amax = vdupq_n_f32(0.0f);
    for (int k = 0; k < 8; ++k) {
      v[k] = vld1q_f32(xb + 4 * k);
      amax = vmaxq_f32(amax, vabsq_f32(v[k]));
    }
    const float d = vmaxvq_f32(amax) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    // vcvt_f16_f32 rounds to nearest even (the default FPCR mode), as f32_to_fp16 does.
    y[i].d = vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(d))), 0);
    for (int k = 0; k < 8; k += 2) {
      const float32x4_t r0 = vminq_f32(vmaxq_f32(vrndaq_f32(vmulq_n_f32(v[k], id)), nlim), lim);
      const float32x4_t r1 = vminq_f32(vmaxq_f32(vrndaq_f32(vmulq_n_f32(v[k + 1], id)), nlim), lim);
      const int16x8_t s = vcombine_s16(vmovn_s32(vcvtq_s32_f32(r0)), vmovn_s32(vcvtq_s32_f32(r1)));
      vst1_s8(y[i].qs + 4 * k, vmovn_s16(s));
    }
  }
}

}  // namespace

void add_quant_neon(Kernels& k) noexcept {
  set_quant_kernels<gemm_by_token_groups<Rows<BlockQ8_0>, BlockQ8_0>, gemm_by_token_groups<Rows<BlockQ4_0>, BlockQ4_0>,
                    quantize_act>(k);
}

}  // namespace dsinfer::simd::detail
