// NEON dot-product products over row groups (simd/repack.h), compiled with
// -march=armv8.2-a+dotprod.
//
// A 64-byte slice of a block group holds 4 consecutive weights of each of 16 rows; its four
// 16-byte quarters are 4 weights of 4 rows each, and sdot by element (vdotq_laneq_s32) multiplies
// such a quarter by 4 bytes of a token's activations, leaving each row's partial dot in one int32
// lane. A quarter of rows ("quad") takes 8 of them a block and token, then one conversion and one
// fma with its 4 row scales times the token's scale: per row and token the scalar reference's
// arithmetic in its order (exact int32 per block, float(dot) * (d_w * d_x) fused into one float
// accumulator, blocks in order), so results are bit-identical to it.
//
// sdot multiplies signed by signed bytes. Q4_0's nibbles (0..15) go in as they are and the -8
// offset comes back as 8 * sum(x) per token and block (the sum starts at its negative), which
// saves 8 subtractions a quad and block; Q8_0's levels go in as they are.

#include <arm_neon.h>

#include <algorithm>
#include <cstdint>

#include "simd/gemm_driver.h"
#include "simd/kernels_isa.h"
#include "simd/neon_half.h"
#include "simd/repack.h"

namespace dsinfer::simd::detail {
namespace {

// Tokens a tile keeps: 4 quads' float accumulators each, 16 registers.
constexpr int kTile = 4;
// Row groups a pass keeps in cache while every token tile goes over them (4 groups of a
// 2048-wide Q4_0 matrix: 72 KB).
constexpr int64_t kPassGroups = 4;

// Per token and block: the scale as float and 8 * sum of the levels, at [token * nb + block];
// for a whole call when it fits (decode, verify and batch steps), else a tile at a time.
constexpr int64_t kPrepEntries = 4096;
static_assert(kTile * kR16MaxBlocks <= kPrepEntries, "a tile of the widest repacked rows must fit");
struct Prep {
  float dx[kPrepEntries];
  int32_t sum8[kPrepEntries];
};

template <bool kQ4>
void prep(const BlockQ8_0* X, int64_t n, float* dx, int32_t* sum8) {
  for (int64_t i = 0; i < n; ++i) {
    dx[i] = half_to_f32(X[i].d);
    if constexpr (kQ4)
      sum8[i] = 8 * (int32_t(vaddlvq_s8(vld1q_s8(X[i].qs))) + int32_t(vaddlvq_s8(vld1q_s8(X[i].qs + 16))));
  }
}

// Weights [k < 8] of rows 4 * quad .. 4 * quad + 3 of one block: register k holds elements
// 4k..4k+3 of each of the 4 rows (Q4_0: nibbles, without the offset).
template <bool kQ4>
inline void quad_levels(const uint8_t* gb, int quad, int8x16_t* w) {
  if constexpr (kQ4) {
    const uint8x16_t lo = vdupq_n_u8(0x0F);
    for (int p = 0; p < 4; ++p) {
      const uint8x16_t v = vld1q_u8(gb + 32 + 64 * p + 16 * quad);
      w[p] = vreinterpretq_s8_u8(vandq_u8(v, lo));
      w[p + 4] = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
    }
  } else {
    for (int k = 0; k < 8; ++k) w[k] = vld1q_s8(reinterpret_cast<const int8_t*>(gb + 32 + 64 * k + 16 * quad));
  }
}

// One row group against tokens [0, NT) of X: acc[quad * NT + t] gathers token t's 4 rows.
template <bool kQ4, int NT>
void group_tile(const uint8_t* G, int64_t nb, const BlockQ8_0* X, const float* dx, const int32_t* sum8,
                float32x4_t* acc) {
  constexpr size_t kGroupBlock = kQ4 ? kQ4GroupBlockBytes : kQ8GroupBlockBytes;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* gb = G + size_t(b) * kGroupBlock;
    for (int quad = 0; quad < 4; ++quad) {
      int8x16_t w[8];
      quad_levels<kQ4>(gb, quad, w);
      const float32x4_t dw = half4_to_f32(gb + 8 * quad);
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_0& x = X[t * nb + b];
        const int8x16_t x0 = vld1q_s8(x.qs), x1 = vld1q_s8(x.qs + 16);
        int32x4_t s = vdupq_n_s32(kQ4 ? -sum8[t * nb + b] : 0);
        s = vdotq_laneq_s32(s, w[0], x0, 0);
        s = vdotq_laneq_s32(s, w[1], x0, 1);
        s = vdotq_laneq_s32(s, w[2], x0, 2);
        s = vdotq_laneq_s32(s, w[3], x0, 3);
        s = vdotq_laneq_s32(s, w[4], x1, 0);
        s = vdotq_laneq_s32(s, w[5], x1, 1);
        s = vdotq_laneq_s32(s, w[6], x1, 2);
        s = vdotq_laneq_s32(s, w[7], x1, 3);
        float32x4_t& a = acc[quad * NT + t];
        a = vfmaq_f32(a, vcvtq_f32_s32(s), vmulq_n_f32(dw, dx[t * nb + b]));
      }
    }
  }
}

template <bool kQ4>
void gemm_r16(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy, int64_t g0,
              int64_t g1) noexcept {
  const size_t group_bytes = size_t(nb) * (kQ4 ? kQ4GroupBlockBytes : kQ8GroupBlockBytes);
  Prep p;
  const bool all = n_tok * nb <= kPrepEntries;
  if (all) prep<kQ4>(X, n_tok * nb, p.dx, p.sum8);
  for (int64_t gc = g0; gc < g1; gc += kPassGroups) {
    const int64_t ge = std::min(g1, gc + kPassGroups);
    for_token_groups<kTile>(n_tok, [&](auto c, int64_t t0) {
      constexpr int nt = decltype(c)::value;
      const int64_t at = all ? t0 * nb : 0;
      if (!all) prep<kQ4>(X + t0 * nb, nt * nb, p.dx, p.sum8);
      for (int64_t g = gc; g < ge; ++g) {
        float32x4_t acc[4 * nt];
        for (auto& a : acc) a = vdupq_n_f32(0.0f);
        group_tile<kQ4, nt>(W + size_t(g) * group_bytes, nb, X + t0 * nb, p.dx + at, p.sum8 + at, acc);
        for (int quad = 0; quad < 4; ++quad)
          for (int t = 0; t < nt; ++t) vst1q_f32(Y + (t0 + t) * ldy + g * kRowGroup + 4 * quad, acc[quad * nt + t]);
      }
    });
  }
}

}  // namespace

void add_r16_neon(Kernels& k) noexcept {
  k.gemm_q4_0_r16 = gemm_r16<true>;
  k.gemm_q8_0_r16 = gemm_r16<false>;
  k.r16_native = true;
}

}  // namespace dsinfer::simd::detail
