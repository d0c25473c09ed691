// The integer attention scores (simd/latent_scores.h) with AVX-512 VNNI: a register holds one
// position's 16 heads. Per position and block, 8 broadcasts of 4 cached bytes against the
// query's 8 level registers (vpdpbusd), which leaves the exact int32 dot of all 16 heads; the
// cached levels are signed, so they go unsigned (a flip of the top bit) and the query's
// 128 * sum, prepared at packing, starts the sum. Then the scalar reference's float steps in
// its order, lane by lane. The weighted sum reads the same rows' levels directly.

#include "simd/avx512_intrinsics.h"

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

// Positions a tile keeps in registers.
constexpr int kTile = 8;

// Bytes of one cached row: the latent's Q8_0 blocks, then the float rope key.
int64_t cache_row_bytes(const LatentQueryQ8& q) { return q.blocks * int64_t(sizeof(BlockQ8_0)) + q.rope * 4; }

// Every line of bytes [from, to) at p toward L1.
inline void prefetch_bytes(const uint8_t* p, int64_t from, int64_t to) {
  for (int64_t o = from; o < to; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + o), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(p + to - 1), _MM_HINT_T0);
}

// Positions [0, NT) at rows, into out; meanwhile the na rows at `ahead` (the next tile's) are
// prefetched, a block's share of each row per block. A decode step's cache rows come from
// memory (a layer's cache at 4096 positions is 3.3 MB, every layer's together far more than the
// last level cache), and the hardware prefetcher does not run ahead of a tile's 8 interleaved
// row streams: measured in decode after 4096 tokens (V2-Lite shape, AMD EPYC family 26, tokens
// alternating with and without within one run), a token's attention layers took 13.0-13.5 ms
// with it against 18.5-19.0 without.
template <int NT>
void scores_tile(const LatentQueryQ8& q, int64_t g, const uint8_t* const* rows, float* out, int64_t ldo,
                 const uint8_t* const* ahead, int64_t na) {
  const int64_t row_bytes = cache_row_bytes(q);
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < q.blocks; ++b) {
    const int64_t gb = g * q.blocks + b;
    const int8_t* levels = q.q + gb * kScoreHeads * kBlockWeights;
    __m512i w[8];
    for (int k = 0; k < 8; ++k) w[k] = _mm512_loadu_si512(levels + 64 * k);
    const __m512i corr = _mm512_loadu_si512(q.corr + gb * kScoreHeads);
    const __m512 dq = _mm512_loadu_ps(q.d + gb * kScoreHeads);
    // Bytes [b, b + 1) * row_bytes / blocks of each row (50 with a 512-wide latent and a 64-wide
    // rope key), so every line of the row once the blocks are done.
    const int64_t from = b * row_bytes / q.blocks, to = (b + 1) * row_bytes / q.blocks;
    for (int64_t t = 0; t < na; ++t) prefetch_bytes(ahead[t], from, to);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const uint8_t* c = rows[t] + b * int64_t(sizeof(BlockQ8_0));
      uint16_t dc;
      std::memcpy(&dc, c, 2);
      __m512i s0 = corr, s1 = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k) {
        s0 = _mm512_dpbusd_epi32(s0, _mm512_xor_si512(bcast4(c + 2 + 4 * k), flip), w[k]);
        s1 = _mm512_dpbusd_epi32(s1, _mm512_xor_si512(bcast4(c + 18 + 4 * k), flip), w[k + 4]);
      }
      const __m512 scale = _mm512_mul_ps(dq, _mm512_set1_ps(_cvtsh_ss(dc)));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), scale, acc[t]);
    }
  }
  const int64_t key_offset = q.blocks * int64_t(sizeof(BlockQ8_0));
  const float* rq = q.rope_q + g * q.rope * kScoreHeads;
  for (int64_t j = 0; j < q.rope; ++j) {
    const __m512 qj = _mm512_loadu_ps(rq + j * kScoreHeads);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      float k;
      std::memcpy(&k, rows[t] + key_offset + 4 * j, 4);
      acc[t] = _mm512_fmadd_ps(qj, _mm512_set1_ps(k), acc[t]);
    }
  }
  // Heads to rows of out: the tile transposed through memory.
  alignas(64) float tile[NT][kScoreHeads];
  const __m512 sc = _mm512_set1_ps(q.scale);
  for (int t = 0; t < NT; ++t) _mm512_store_ps(tile[t], _mm512_mul_ps(acc[t], sc));
  store_head_rows(tile, q, g, out, ldo);
}

void latent_scores_q8_avx512(const LatentQueryQ8& q, const uint8_t* const* rows, int64_t ns, float* out,
                             int64_t ldo) noexcept {
  // The first tile's rows all at once: their lines requested together, not block by block as the
  // tile reads them (latent_attention_bench, 27 layers, 1 thread: 14.4-14.8 -> 14.0-14.4 ms a
  // token, 3 alternating runs; at 2 threads within the noise).
  for (int64_t t = 0; t < std::min<int64_t>(kTile, ns); ++t) prefetch_bytes(rows[t], 0, cache_row_bytes(q));
  for (int64_t g = 0; g < q.groups; ++g)
    for_token_groups<kTile>(ns, [&](auto c, int64_t s0) {
      constexpr int64_t nt = decltype(c)::value;
      // The first head group's pass brings the rows in; the chunk's rows then stay in L2.
      const int64_t na = g == 0 ? std::min<int64_t>(kTile, ns - s0 - nt) : 0;
      scores_tile<nt>(q, g, rows + s0, out + s0, ldo, rows + s0 + nt, na);
    });
}

// The scalar packing's steps on 16 values at a time: the same maximum, scale, products and
// round-to-nearest-even, so the same bytes.
void latent_pack_q8_avx512(const float* lat, int64_t lat_stride, const float* rope, int64_t rope_stride, float scale,
                           LatentQueryQ8& q) noexcept {
  q.scale = scale;
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (int64_t h = 0; h < q.groups * kScoreHeads; ++h) {
    for (int64_t b = 0; b < q.blocks; ++b) {
      alignas(16) int8_t l[kBlockWeights] = {};
      float d = 0.0f;
      int32_t sum = 0;
      if (h < q.heads) {
        const float* x = lat + h * lat_stride + b * kBlockWeights;
        const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
        d = amax / 127.0f;
        const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
        const __m512i i0 = _mm512_cvtps_epi32(
            _mm512_min_ps(_mm512_max_ps(_mm512_roundscale_ps(_mm512_mul_ps(x0, id), kNearest), lo), hi));
        const __m512i i1 = _mm512_cvtps_epi32(
            _mm512_min_ps(_mm512_max_ps(_mm512_roundscale_ps(_mm512_mul_ps(x1, id), kNearest), lo), hi));
        _mm_store_si128(reinterpret_cast<__m128i*>(l), _mm512_cvtepi32_epi8(i0));
        _mm_store_si128(reinterpret_cast<__m128i*>(l + 16), _mm512_cvtepi32_epi8(i1));
        sum = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
      }
      store_packed_block(q, h, b, l, d, sum);
    }
    store_packed_rope(q, h, rope, rope_stride);
  }
}

// NH heads' weighted sums over 16 columns at a time: each position's 16 levels converted once
// and multiplied by the block scale (the same float as the row converted back), then one fma
// per head with the weight broadcast from memory.
template <int NH>
void wsum_heads(const float* p, int64_t ldp, const uint8_t* const* rows, int64_t ns, int64_t n, float* o) {
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t off = (i / kBlockWeights) * int64_t(sizeof(BlockQ8_0)), lev = off + 2 + i % kBlockWeights;
    __m512 acc[NH];
    for (int h = 0; h < NH; ++h) acc[h] = _mm512_setzero_ps();
    for (int64_t s = 0; s < ns; ++s) {
      uint16_t dc;
      std::memcpy(&dc, rows[s] + off, 2);
      const __m128i l = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[s] + lev));
      const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(l)), _mm512_set1_ps(_cvtsh_ss(dc)));
#pragma GCC unroll 16
      for (int h = 0; h < NH; ++h) acc[h] = _mm512_fmadd_ps(_mm512_set1_ps(p[h * ldp + s]), v, acc[h]);
    }
    for (int h = 0; h < NH; ++h) _mm512_storeu_ps(o + h * n + i, acc[h]);
  }
}

}  // namespace

void latent_wsum_q8_avx512(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns,
                           int64_t n, float* o) noexcept {
  for_head_groups(nh, [&](auto g, int64_t h) {
    wsum_heads<decltype(g)::value>(p + h * ldp, ldp, rows, ns, n, o + h * n);
  });
}

void add_latent_scores_avx512(Kernels& k) noexcept {
  k.latent_pack_q8 = latent_pack_q8_avx512;
  k.latent_scores_q8 = latent_scores_q8_avx512;
  k.latent_wsum_q8 = latent_wsum_q8_avx512;
  k.latent_scores_native = true;
}

}  // namespace dsinfer::simd::detail
