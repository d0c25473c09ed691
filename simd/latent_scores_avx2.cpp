// The integer attention scores (simd/latent_scores.h) and the weighted sum from cached levels
// with AVX2, compiled with the AVX2, FMA and F16C flags. Before these the AVX2 table computed
// attention in float over rows converted one at a time.
//
// Scores: two 256-bit registers hold one position's 16 heads. AVX2 has no u8 x s8 dot into
// int32, so 4 cached bytes are broadcast, their absolute values go unsigned into vpmaddubsw and
// their signs move onto the query's levels (vpsignb); |levels| <= 128 against <= 127 keeps the
// pair sums within int16, and vpmaddwd with ones adds the pairs into the exact int32 dot. Then
// the scalar reference's float steps in its order, lane by lane: bit-identical to it.

#include "simd/avx2_intrinsics.h"

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

// Positions a tile keeps: two float and two int32 registers each, 16 in all.
constexpr int kTile = 4;
constexpr int64_t kBlockBytes = int64_t(sizeof(BlockQ8_0));

// Exact int32 dots of 4 levels a lane: q (signed, >= -127) times c (signed).
inline __m256i dot4(__m256i q, __m256i c_abs, __m256i c, __m256i ones) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(c_abs, _mm256_sign_epi8(q, c)), ones);
}

template <int NT>
void scores_tile(const LatentQueryQ8& q, int64_t g, const uint8_t* const* rows, float* out, int64_t ldo) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 lo[NT], hi[NT];
  for (int t = 0; t < NT; ++t) lo[t] = hi[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < q.blocks; ++b) {
    const int64_t gb = g * q.blocks + b;
    const int8_t* levels = q.q + gb * kScoreHeads * kBlockWeights;
    __m256i s_lo[NT], s_hi[NT];
    for (int t = 0; t < NT; ++t) s_lo[t] = s_hi[t] = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
      // Register k of the block: heads 0-7, then 8-15, 4 levels each.
      const __m256i q_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(levels + 64 * k));
      const __m256i q_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(levels + 64 * k + 32));
      for (int t = 0; t < NT; ++t) {
        const __m256i c = bcast4(rows[t] + b * kBlockBytes + 2 + 4 * k);
        const __m256i c_abs = _mm256_abs_epi8(c);
        s_lo[t] = _mm256_add_epi32(s_lo[t], dot4(q_lo, c_abs, c, ones));
        s_hi[t] = _mm256_add_epi32(s_hi[t], dot4(q_hi, c_abs, c, ones));
      }
    }
    const __m256 dq_lo = _mm256_loadu_ps(q.d + gb * kScoreHeads), dq_hi = _mm256_loadu_ps(q.d + gb * kScoreHeads + 8);
    for (int t = 0; t < NT; ++t) {
      uint16_t dc;
      std::memcpy(&dc, rows[t] + b * kBlockBytes, 2);
      const __m256 d = _mm256_set1_ps(_cvtsh_ss(dc));
      lo[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s_lo[t]), _mm256_mul_ps(dq_lo, d), lo[t]);
      hi[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s_hi[t]), _mm256_mul_ps(dq_hi, d), hi[t]);
    }
  }
  const int64_t key_offset = q.blocks * kBlockBytes;
  const float* rq = q.rope_q + g * q.rope * kScoreHeads;
  for (int64_t j = 0; j < q.rope; ++j) {
    const __m256 qj_lo = _mm256_loadu_ps(rq + j * kScoreHeads), qj_hi = _mm256_loadu_ps(rq + j * kScoreHeads + 8);
    for (int t = 0; t < NT; ++t) {
      float k;
      std::memcpy(&k, rows[t] + key_offset + 4 * j, 4);
      lo[t] = _mm256_fmadd_ps(qj_lo, _mm256_set1_ps(k), lo[t]);
      hi[t] = _mm256_fmadd_ps(qj_hi, _mm256_set1_ps(k), hi[t]);
    }
  }
  // Heads to rows of out: the tile transposed through memory.
  alignas(32) float tile[NT][kScoreHeads];
  const __m256 sc = _mm256_set1_ps(q.scale);
  for (int t = 0; t < NT; ++t) {
    _mm256_store_ps(tile[t], _mm256_mul_ps(lo[t], sc));
    _mm256_store_ps(tile[t] + 8, _mm256_mul_ps(hi[t], sc));
  }
  store_head_rows(tile, q, g, out, ldo);
}

void latent_scores_q8_avx2(const LatentQueryQ8& q, const uint8_t* const* rows, int64_t ns, float* out,
                           int64_t ldo) noexcept {
  for (int64_t g = 0; g < q.groups; ++g)
    for_token_groups<kTile>(ns, [&](auto c, int64_t s0) {
      scores_tile<decltype(c)::value>(q, g, rows + s0, out + s0, ldo);
    });
}

// The scalar packing's steps on 8 values at a time: the same maximum, scale, products and
// round-to-nearest-even, so the same bytes.
void latent_pack_q8_avx2(const float* lat, int64_t lat_stride, const float* rope, int64_t rope_stride, float scale,
                         LatentQueryQ8& q) noexcept {
  q.scale = scale;
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  // vpackssdw and vpacksswb interleave the two 128-bit lanes; this puts the dwords back in order.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t h = 0; h < q.groups * kScoreHeads; ++h) {
    for (int64_t b = 0; b < q.blocks; ++b) {
      alignas(32) int8_t l[kBlockWeights] = {};
      float d = 0.0f;
      int32_t sum = 0;
      if (h < q.heads) {
        const float* x = lat + h * lat_stride + b * kBlockWeights;
        __m256 v[4];
        __m256 m = _mm256_setzero_ps();
        for (int i = 0; i < 4; ++i) {
          v[i] = _mm256_loadu_ps(x + 8 * i);
          m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
        }
        alignas(32) float mx[8];
        _mm256_store_ps(mx, m);
        const float amax = *std::max_element(mx, mx + 8);
        d = amax / 127.0f;
        const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        __m256i n[4];
        __m256i total = _mm256_setzero_si256();
        for (int i = 0; i < 4; ++i) {
          const __m256 r = _mm256_round_ps(_mm256_mul_ps(v[i], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          n[i] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));
          total = _mm256_add_epi32(total, n[i]);
        }
        const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(n[0], n[1]), _mm256_packs_epi32(n[2], n[3]));
        _mm256_store_si256(reinterpret_cast<__m256i*>(l), _mm256_permutevar8x32_epi32(bytes, order));
        alignas(32) int32_t parts[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(parts), total);
        for (int32_t part : parts) sum += part;
      }
      store_packed_block(q, h, b, l, d, sum);
    }
    store_packed_rope(q, h, rope, rope_stride);
  }
}

// NH heads' weighted sums over 8 columns at a time: each position's 8 levels converted once and
// multiplied by the block scale (the float the scalar reference multiplies by), then one fma
// per head, positions in order: the scalar reference's chain.
template <int NH>
void wsum_heads(const float* p, int64_t ldp, const uint8_t* const* rows, int64_t ns, int64_t n, float* o) {
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t off = (i / kBlockWeights) * kBlockBytes, lev = off + 2 + i % kBlockWeights;
    __m256 acc[NH];
    for (int h = 0; h < NH; ++h) acc[h] = _mm256_setzero_ps();
    for (int64_t s = 0; s < ns; ++s) {
      uint16_t dc;
      std::memcpy(&dc, rows[s] + off, 2);
      const __m128i l = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[s] + lev));
      const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(l)), _mm256_set1_ps(_cvtsh_ss(dc)));
      for (int h = 0; h < NH; ++h) acc[h] = _mm256_fmadd_ps(_mm256_set1_ps(p[h * ldp + s]), v, acc[h]);
    }
    for (int h = 0; h < NH; ++h) _mm256_storeu_ps(o + h * n + i, acc[h]);
  }
}

void latent_wsum_q8_avx2(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns, int64_t n,
                         float* o) noexcept {
  // Heads 8 at most at a time: 16 registers in all.
  int64_t h = 0;
  for (; h + 8 <= nh; h += 8) wsum_heads<8>(p + h * ldp, ldp, rows, ns, n, o + h * n);
  for_head_groups(nh - h, [&](auto g, int64_t hh) {
    wsum_heads<decltype(g)::value>(p + (h + hh) * ldp, ldp, rows, ns, n, o + (h + hh) * n);
  });
}

}  // namespace

void add_latent_scores_avx2(Kernels& k) noexcept {
  k.latent_pack_q8 = latent_pack_q8_avx2;
  k.latent_scores_q8 = latent_scores_q8_avx2;
  k.latent_wsum_q8 = latent_wsum_q8_avx2;
  k.latent_scores_native = true;
}

}  // namespace dsinfer::simd::detail
