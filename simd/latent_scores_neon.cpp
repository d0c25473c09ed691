// The integer attention scores (simd/latent_scores.h) and the weighted sum from cached levels
// with NEON dot products, compiled with -march=armv8.2-a+dotprod. Before these the NEON table
// computed attention in float over rows converted one at a time.
//
// Scores: four 128-bit registers hold one position's 16 heads. Register k of a packed query
// block holds levels 4k..4k+3 of each head, so a quarter of it (4 heads) and sdot by element
// against the cached row's bytes 4k..4k+3 give each head's exact int32 dot in its lane; sdot is
// signed by signed, so the query's -128 * sum correction (for x86's unsigned operand) is not
// needed. Then the scalar reference's float steps in its order, lane by lane: bit-identical to it.

#include <arm_neon.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "simd/blocks.h"
#include "simd/gemm_driver.h"
#include "simd/kernels_isa.h"
#include "simd/latent_scores.h"
#include "simd/score_tile_store.h"

namespace dsinfer::simd::detail {
namespace {

// Positions a tile keeps: 4 float and 4 int32 registers each.
constexpr int kTile = 2;
constexpr int64_t kBlockBytes = int64_t(sizeof(BlockQ8_0));

inline float half1(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

template <int NT>
void scores_tile(const LatentQueryQ8& q, int64_t g, const uint8_t* const* rows, float* out, int64_t ldo) {
  float32x4_t acc[NT][4];
  for (auto& a : acc)
    for (auto& r : a) r = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < q.blocks; ++b) {
    const int64_t gb = g * q.blocks + b;
    const int8_t* levels = q.q + gb * kScoreHeads * kBlockWeights;
    int8x16_t c[NT][2];
    int32x4_t s[NT][4];
    for (int t = 0; t < NT; ++t) {
      const int8_t* qs = reinterpret_cast<const int8_t*>(rows[t] + b * kBlockBytes + 2);
      c[t][0] = vld1q_s8(qs);
      c[t][1] = vld1q_s8(qs + 16);
      for (auto& r : s[t]) r = vdupq_n_s32(0);
    }
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k)
      for (int quad = 0; quad < 4; ++quad) {
        const int8x16_t lv = vld1q_s8(levels + 64 * k + 16 * quad);
        for (int t = 0; t < NT; ++t) {
          const int8x16_t ct = c[t][k / 4];
          switch (k % 4) {  // the lane must be a constant
            case 0: s[t][quad] = vdotq_laneq_s32(s[t][quad], lv, ct, 0); break;
            case 1: s[t][quad] = vdotq_laneq_s32(s[t][quad], lv, ct, 1); break;
            case 2: s[t][quad] = vdotq_laneq_s32(s[t][quad], lv, ct, 2); break;
            default: s[t][quad] = vdotq_laneq_s32(s[t][quad], lv, ct, 3); break;
          }
        }
      }
    for (int t = 0; t < NT; ++t) {
      const float dc = half1(rows[t] + b * kBlockBytes);
      for (int quad = 0; quad < 4; ++quad) {
        const float32x4_t dq = vld1q_f32(q.d + gb * kScoreHeads + 4 * quad);
        acc[t][quad] = vfmaq_f32(acc[t][quad], vcvtq_f32_s32(s[t][quad]), vmulq_n_f32(dq, dc));
      }
    }
  }
  const int64_t key_offset = q.blocks * kBlockBytes;
  const float* rq = q.rope_q + g * q.rope * kScoreHeads;
  for (int64_t j = 0; j < q.rope; ++j)
    for (int t = 0; t < NT; ++t) {
      float k;
      std::memcpy(&k, rows[t] + key_offset + 4 * j, 4);
      for (int quad = 0; quad < 4; ++quad)
        acc[t][quad] = vfmaq_n_f32(acc[t][quad], vld1q_f32(rq + j * kScoreHeads + 4 * quad), k);
    }
  // Heads to rows of out: the tile transposed through memory.
  float tile[NT][kScoreHeads];
  for (int t = 0; t < NT; ++t)
    for (int quad = 0; quad < 4; ++quad) vst1q_f32(tile[t] + 4 * quad, vmulq_n_f32(acc[t][quad], q.scale));
  store_head_rows(tile, q, g, out, ldo);
}

void latent_scores_q8_neon(const LatentQueryQ8& q, const uint8_t* const* rows, int64_t ns, float* out,
                           int64_t ldo) noexcept {
  for (int64_t g = 0; g < q.groups; ++g)
    for_token_groups<kTile>(ns, [&](auto c, int64_t s0) {
      scores_tile<decltype(c)::value>(q, g, rows + s0, out + s0, ldo);
    });
}

// NH heads' weighted sums over 16 columns at a time: each position's 16 levels converted once and
// multiplied by the block scale (the float the scalar reference multiplies by), then one fma
// per head, positions in order: the scalar reference's chain.
template <int NH>
void wsum_heads(const float* p, int64_t ldp, const uint8_t* const* rows, int64_t ns, int64_t n, float* o) {
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t off = (i / kBlockWeights) * kBlockBytes, lev = off + 2 + i % kBlockWeights;
    float32x4_t acc[NH][4];
    for (auto& a : acc)
      for (auto& r : a) r = vdupq_n_f32(0.0f);
    for (int64_t s = 0; s < ns; ++s) {
      const float dc = half1(rows[s] + off);
      const int8x16_t l = vld1q_s8(reinterpret_cast<const int8_t*>(rows[s] + lev));
      const int16x8_t l0 = vmovl_s8(vget_low_s8(l)), l1 = vmovl_s8(vget_high_s8(l));
      const float32x4_t v[4] = {vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(l0))), dc),
                                vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(l0))), dc),
                                vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(l1))), dc),
                                vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(l1))), dc)};
      for (int h = 0; h < NH; ++h) {
        const float ph = p[h * ldp + s];
        for (int r = 0; r < 4; ++r) acc[h][r] = vfmaq_n_f32(acc[h][r], v[r], ph);
      }
    }
    for (int h = 0; h < NH; ++h)
      for (int r = 0; r < 4; ++r) vst1q_f32(o + h * n + i + 4 * r, acc[h][r]);
  }
}

void latent_wsum_q8_neon(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns, int64_t n,
                         float* o) noexcept {
  // Heads 4 at most at a time: 16 accumulators.
  int64_t h = 0;
  for (; h + 4 <= nh; h += 4) wsum_heads<4>(p + h * ldp, ldp, rows, ns, n, o + h * n);
  if (h + 2 <= nh) wsum_heads<2>(p + h * ldp, ldp, rows, ns, n, o + h * n), h += 2;
  if (h < nh) wsum_heads<1>(p + h * ldp, ldp, rows, ns, n, o + h * n);
}

}  // namespace

void add_latent_scores_neon(Kernels& k) noexcept {
  k.latent_scores_q8 = latent_scores_q8_neon;
  k.latent_wsum_q8 = latent_wsum_q8_neon;
  k.latent_scores_native = true;
}

}  // namespace dsinfer::simd::detail
