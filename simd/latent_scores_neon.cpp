// The integer attention scores (simd/latent_scores.h), their query packing and the weighted sum
// from cached levels with NEON, compiled with -march=armv8.2-a+dotprod. Before these the NEON table
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
#include "simd/neon_half.h"
#include "simd/score_tile_store.h"

namespace dsinfer::simd::detail {
namespace {

// Positions a tile keeps: 4 float and 4 int32 registers each.
constexpr int kTile = 2;
constexpr int64_t kBlockBytes = int64_t(sizeof(BlockQ8_0));

// A cache block's fp16 scale (unaligned in the row).
inline float block_scale(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return half_to_f32(h);
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
      const float dc = block_scale(rows[t] + b * kBlockBytes);
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

// The weighted sum: for each strip of 16 columns, a chunk of positions' levels converted once and
// multiplied by their block scale (the float the scalar reference multiplies by) into a buffer,
// then every head's fma chain over it, positions in order: the scalar reference's chain, carried
// from chunk to chunk through o. Converting once a strip and chunk, not once a group of heads,
// halves the vector instructions of a few-head call (a thread's share of the heads).
constexpr int64_t kWsumChunk = 256;  // positions a buffer holds (the attention's chunk): 16 KB

// NH heads over one strip: o[h * n + 0..15] continued (or started, `first`) over m positions.
template <int NH>
void wsum_strip(const float* p, int64_t ldp, const float* buf, int64_t m, float* o, int64_t n, bool first) {
  float32x4_t acc[NH][4];
  for (int h = 0; h < NH; ++h)
    for (int r = 0; r < 4; ++r) acc[h][r] = first ? vdupq_n_f32(0.0f) : vld1q_f32(o + h * n + 4 * r);
  for (int64_t s = 0; s < m; ++s) {
    float32x4_t v[4];
    for (int r = 0; r < 4; ++r) v[r] = vld1q_f32(buf + 16 * s + 4 * r);
    for (int h = 0; h < NH; ++h) {
      const float ph = p[h * ldp + s];
      for (int r = 0; r < 4; ++r) acc[h][r] = vfmaq_n_f32(acc[h][r], v[r], ph);
    }
  }
  for (int h = 0; h < NH; ++h)
    for (int r = 0; r < 4; ++r) vst1q_f32(o + h * n + 4 * r, acc[h][r]);
}

void latent_wsum_q8_neon(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns, int64_t n,
                         float* o) noexcept {
  float buf[kWsumChunk * 16];
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t off = (i / kBlockWeights) * kBlockBytes, lev = off + 2 + i % kBlockWeights;
    for (int64_t s0 = 0; s0 == 0 || s0 < ns; s0 += kWsumChunk) {  // once with no position: zeros
      const int64_t m = std::min(kWsumChunk, ns - s0);
      for (int64_t s = 0; s < m; ++s) {
        const uint8_t* row = rows[s0 + s];
        const float dc = block_scale(row + off);
        const int8x16_t l = vld1q_s8(reinterpret_cast<const int8_t*>(row + lev));
        const int16x8_t l0 = vmovl_s8(vget_low_s8(l)), l1 = vmovl_s8(vget_high_s8(l));
        vst1q_f32(buf + 16 * s, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(l0))), dc));
        vst1q_f32(buf + 16 * s + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(l0))), dc));
        vst1q_f32(buf + 16 * s + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(l1))), dc));
        vst1q_f32(buf + 16 * s + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(l1))), dc));
      }
      const bool first = s0 == 0;
      const float* ps = p + s0;
      float* os = o + i;
      // Heads 4 at most at a time: 16 accumulators.
      int64_t h = 0;
      for (; h + 4 <= nh; h += 4) wsum_strip<4>(ps + h * ldp, ldp, buf, m, os + h * n, n, first);
      if (h + 2 <= nh) wsum_strip<2>(ps + h * ldp, ldp, buf, m, os + h * n, n, first), h += 2;
      if (h < nh) wsum_strip<1>(ps + h * ldp, ldp, buf, m, os + h * n, n, first);
    }
  }
}

// The scalar packing's steps on 4 values at a time: the same maximum, scale, products and
// round-to-nearest-even (vrndnq, the default rounding mode's nearbyint), so the same bytes.
void latent_pack_q8_neon(const float* lat, int64_t lat_stride, const float* rope, int64_t rope_stride, float scale,
                         LatentQueryQ8& q) noexcept {
  q.scale = scale;
  const float32x4_t lo = vdupq_n_f32(-127.0f), hi = vdupq_n_f32(127.0f);
  for (int64_t h = 0; h < q.groups * kScoreHeads; ++h) {
    for (int64_t b = 0; b < q.blocks; ++b) {
      int8_t l[kBlockWeights] = {};
      float d = 0.0f;
      int32_t sum = 0;
      if (h < q.heads) {
        const float* x = lat + h * lat_stride + b * kBlockWeights;
        float32x4_t v[8];
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int k = 0; k < 8; ++k) {
          v[k] = vld1q_f32(x + 4 * k);
          m = vmaxq_f32(m, vabsq_f32(v[k]));
        }
        d = vmaxvq_f32(m) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int32x4_t total = vdupq_n_s32(0);
        for (int k = 0; k < 8; k += 2) {
          const int32x4_t n0 = vcvtq_s32_f32(vminq_f32(vmaxq_f32(vrndnq_f32(vmulq_n_f32(v[k], id)), lo), hi));
          const int32x4_t n1 = vcvtq_s32_f32(vminq_f32(vmaxq_f32(vrndnq_f32(vmulq_n_f32(v[k + 1], id)), lo), hi));
          total = vaddq_s32(total, vaddq_s32(n0, n1));
          vst1_s8(l + 4 * k, vmovn_s16(vcombine_s16(vmovn_s32(n0), vmovn_s32(n1))));
        }
        sum = vaddvq_s32(total);
      }
      store_packed_block(q, h, b, l, d, sum);
    }
    store_packed_rope(q, h, rope, rope_stride);
  }
}

}  // namespace

void add_latent_scores_neon(Kernels& k) noexcept {
  k.latent_pack_q8 = latent_pack_q8_neon;
  k.latent_scores_q8 = latent_scores_q8_neon;
  k.latent_wsum_q8 = latent_wsum_q8_neon;
  k.latent_scores_native = true;
}

}  // namespace dsinfer::simd::detail
