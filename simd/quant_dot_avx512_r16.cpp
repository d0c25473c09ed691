// AVX-512 VNNI products over row groups (simd/repack.h), compiled with the AVX-512 flags.
//
// One register holds 4 consecutive weights of each of 16 rows, so a block of 16 rows is 4
// (Q4_0) or 8 (Q8_0) registers, unpacked once and shared by every token of a tile: per token a
// block costs 8 broadcasts of 4 activation bytes and 8 vpdpbusd, which leave the block's exact
// integer dot of all 16 rows in one register, then one conversion and one fma with the 16 row
// scales times the token's scale. Per row and token that is the scalar reference's arithmetic
// in the same order (exact int32 per block, float(dot) * (d_w * d_x) fused into one float
// accumulator, blocks in order), so results are bit-identical to it for any tile size.
//
// Q4_0 nibbles (0..15) are the unsigned operand and the activations the signed one; the -8
// offset comes back as 8 * sum(x) per token and block. Q8_0 levels are signed, so the
// activations go unsigned (x + 128, a flip of the top bit) and 128 * sum(w) per row and block,
// computed once per block for the tile, is taken back out.

#include "simd/avx512_intrinsics.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "simd/gemm_driver.h"
#include "simd/kernels_isa.h"
#include "simd/prefetch_lines.h"
#include "simd/repack.h"

namespace dsinfer::simd::detail {
namespace {

// Tokens a tile keeps in registers: NT float accumulators of 16 rows each.
constexpr int kTile = 4;
// Row groups a pass keeps in cache while every token tile goes over them (8 groups of a
// 2048-wide Q4_0 matrix: 147 KB).
constexpr int64_t kPassGroups = 8;

// Per token and block: the scale as float and 8 * sum of the levels, at [token * nb + block].
// Prepared once a call when every token fits (a decode step, a verify, a batch step, an expert's
// share of a prefill chunk); a pass per tile otherwise. Once a pass cost ~5% of a 4-token product
// from cache (quant_dot_bench 2048x1408, one core of an AMD EPYC family 26: 43-45 -> 46-47 GB/s).
constexpr int64_t kPrepEntries = 8192;
struct Prep {
  alignas(64) float dx[kPrepEntries];
  alignas(64) int32_t sum8[kPrepEntries];
};

// A tile's prepared tokens: token t's block b at [t * nb + b].
struct TilePrep {
  const float* dx;
  const int32_t* sum8;
};

// Read-ahead (the tiles below). Q4_0: the first token tile of a pass reads into L2 what it will
// compute after the group (or pair of groups) it is on: the same block of the next group (pair). The
// hardware prefetcher alone does not keep the stream ahead: out of cache (quant_dot_bench,
// 65536x2048, one core, AMD EPYC family 26) 3 and 4 tokens ran at 16.6-19.6 GB/s against 40-50
// from cache, as if reading and computing took turns, and with this 31.8-33.7; 1 and 2 tokens
// 32.4-34.8 and 29.5-29.9 -> 36.0-36.8 and 34.9-36.2 (from cache 1 token 72-73 -> 64-68). A group
// ahead beat two and four at 1-2 tokens; the earlier prefetch, 4 blocks ahead into L1 and only
// at 3+ tokens (family 25: 4 tokens 12.3 -> 14.3-15.4), slowed 1-2 tokens. Q8_0: the two-group
// tiles (3+ tokens) only, every tile: 4 and 8 tokens out of cache 17.1-17.7 and 10.2-13.4 ->
// 24.8-25.8 and 16.4-17.3 GB/s; at 1-2 tokens it gained nothing out of cache and lost a third
// from cache.

// A pass of more tokens than one tile holds computes its later tiles from L2, and memory idled
// meanwhile: now each tile streams its share of the next pass's weights into L2 as it goes, a
// few lines a block. Measured (quant_dot_bench, 65536x2048 Q4_0, one core, AMD EPYC family 26):
// 8 tokens 16.6-17.4 -> 21.6-22.0 GB/s.
struct NextPass {
  const uint8_t* at = nullptr;
  const uint8_t* end = nullptr;
  size_t per_block = 0;

  void step() noexcept {
    for (size_t l = 0; l < per_block && at < end; l += 64, at += 64)
      _mm_prefetch(reinterpret_cast<const char*>(at), _MM_HINT_T1);
  }
};

// One row group G against tokens [0, NT) of X (rows of nb blocks): acc[t] gathers token t's
// 16 rows (`ahead`: the first tile of a pass, prefetching).
template <int NT, bool kNext>
void q4_tile(const uint8_t* G, int64_t nb, const BlockQ8_0* X, const TilePrep& p, bool ahead, NextPass* next,
             __m512* acc) {
  const __m512i lo = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* g = G + size_t(b) * kQ4GroupBlockBytes;
    if (ahead) prefetch_lines<_MM_HINT_T1>(g + size_t(nb) * kQ4GroupBlockBytes, kQ4GroupBlockBytes);
    if constexpr (kNext) next->step();
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g)));
    __m512i wl[4], wh[4];
    for (int s = 0; s < 4; ++s) {
      const __m512i v = _mm512_loadu_si512(g + 32 + 64 * s);
      wl[s] = _mm512_and_si512(v, lo);
      wh[s] = _mm512_and_si512(_mm512_srli_epi16(v, 4), lo);
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = X[t * nb + b].qs;
      // Two chains of four: vpdpbusd's latency, not its throughput, would bound one chain of 8.
      __m512i s = _mm512_set1_epi32(-p.sum8[t * nb + b]), s2 = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k) {
        s = _mm512_dpbusd_epi32(s, wl[k], bcast4(x + 4 * k));
        s2 = _mm512_dpbusd_epi32(s2, wh[k], bcast4(x + 16 + 4 * k));
      }
      s = _mm512_add_epi32(s, s2);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(p.dx[t * nb + b])), acc[t]);
    }
  }
}

// Two row groups at once: each broadcast of 4 activation bytes feeds both groups' vpdpbusd.
template <int NT, bool kNext>
void q4_tile2(const uint8_t* G0, const uint8_t* G1, int64_t nb, const BlockQ8_0* X, const TilePrep& p, bool ahead,
              NextPass* next, __m512* acc0, __m512* acc1) {
  const __m512i lo = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* g0 = G0 + size_t(b) * kQ4GroupBlockBytes;
    const uint8_t* g1 = G1 + size_t(b) * kQ4GroupBlockBytes;
    if (ahead) {
      prefetch_lines<_MM_HINT_T1>(g0 + 2 * size_t(nb) * kQ4GroupBlockBytes, kQ4GroupBlockBytes);
      prefetch_lines<_MM_HINT_T1>(g1 + 2 * size_t(nb) * kQ4GroupBlockBytes, kQ4GroupBlockBytes);
    }
    if constexpr (kNext) {
      next->step();
      next->step();
    }
    const __m512 dw0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g0)));
    const __m512 dw1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g1)));
    __m512i a[8], c[8];
    for (int s = 0; s < 4; ++s) {
      const __m512i v0 = _mm512_loadu_si512(g0 + 32 + 64 * s), v1 = _mm512_loadu_si512(g1 + 32 + 64 * s);
      a[s] = _mm512_and_si512(v0, lo);
      a[s + 4] = _mm512_and_si512(_mm512_srli_epi16(v0, 4), lo);
      c[s] = _mm512_and_si512(v1, lo);
      c[s + 4] = _mm512_and_si512(_mm512_srli_epi16(v1, 4), lo);
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = X[t * nb + b].qs;
      const __m512i init = _mm512_set1_epi32(-p.sum8[t * nb + b]);
      __m512i s0 = init, s1 = init;
      for (int k = 0; k < 8; ++k) {
        const __m512i xb = bcast4(x + (k < 4 ? 4 * k : 16 + 4 * (k - 4)));
        s0 = _mm512_dpbusd_epi32(s0, a[k], xb);
        s1 = _mm512_dpbusd_epi32(s1, c[k], xb);
      }
      const __m512 dx = _mm512_set1_ps(p.dx[t * nb + b]);
      acc0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), _mm512_mul_ps(dw0, dx), acc0[t]);
      acc1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), _mm512_mul_ps(dw1, dx), acc1[t]);
    }
  }
}

template <int NT>
void q8_tile(const uint8_t* G, int64_t nb, const BlockQ8_0* X, const TilePrep& p, __m512* acc) {
  const __m512i ones = _mm512_set1_epi8(1), flip = _mm512_set1_epi8(char(0x80));
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* g = G + size_t(b) * kQ8GroupBlockBytes;
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g)));
    __m512i w[8];
    __m512i sw = _mm512_setzero_si512();
    for (int k = 0; k < 8; ++k) {
      w[k] = _mm512_loadu_si512(g + 32 + 64 * k);
      sw = _mm512_dpbusd_epi32(sw, ones, w[k]);
    }
    const __m512i corr = _mm512_slli_epi32(sw, 7);  // 128 * sum(w) per row
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = X[t * nb + b].qs;
      __m512i s = _mm512_setzero_si512(), s2 = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k) {
        s = _mm512_dpbusd_epi32(s, _mm512_xor_si512(bcast4(x + 4 * k), flip), w[k]);
        s2 = _mm512_dpbusd_epi32(s2, _mm512_xor_si512(bcast4(x + 16 + 4 * k), flip), w[k + 4]);
      }
      s = _mm512_sub_epi32(_mm512_add_epi32(s, s2), corr);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(p.dx[t * nb + b])), acc[t]);
    }
  }
}

template <int NT>
void q8_tile2(const uint8_t* G0, const uint8_t* G1, int64_t nb, const BlockQ8_0* X, const TilePrep& p, __m512* acc0,
              __m512* acc1) {
  const __m512i ones = _mm512_set1_epi8(1), flip = _mm512_set1_epi8(char(0x80));
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* g0 = G0 + size_t(b) * kQ8GroupBlockBytes;
    const uint8_t* g1 = G1 + size_t(b) * kQ8GroupBlockBytes;
    prefetch_lines<_MM_HINT_T1>(g0 + 2 * size_t(nb) * kQ8GroupBlockBytes, kQ8GroupBlockBytes);
    prefetch_lines<_MM_HINT_T1>(g1 + 2 * size_t(nb) * kQ8GroupBlockBytes, kQ8GroupBlockBytes);
    __m512i a[8], c[8];
    __m512i sa = _mm512_setzero_si512(), sc = _mm512_setzero_si512();
    for (int k = 0; k < 8; ++k) {
      a[k] = _mm512_loadu_si512(g0 + 32 + 64 * k);
      c[k] = _mm512_loadu_si512(g1 + 32 + 64 * k);
      sa = _mm512_dpbusd_epi32(sa, ones, a[k]);
      sc = _mm512_dpbusd_epi32(sc, ones, c[k]);
    }
    // 128 * sum(w) per row, taken back out by starting each token's sum at its negative.
    const __m512i ca = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sa, 7));
    const __m512i cc = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sc, 7));
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = X[t * nb + b].qs;
      __m512i s0 = ca, s1 = cc;
      for (int k = 0; k < 8; ++k) {
        const __m512i xb = _mm512_xor_si512(bcast4(x + 4 * k), flip);
        s0 = _mm512_dpbusd_epi32(s0, xb, a[k]);
        s1 = _mm512_dpbusd_epi32(s1, xb, c[k]);
      }
      const __m512 dx = _mm512_set1_ps(p.dx[t * nb + b]);
      const __m512 dw0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g0)));
      const __m512 dw1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g1)));
      acc0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), _mm512_mul_ps(dw0, dx), acc0[t]);
      acc1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), _mm512_mul_ps(dw1, dx), acc1[t]);
    }
  }
}

// kNext: the Q4_0 passes have several token tiles, which stream the next pass (NextPass). A
// template parameter, not a flag, so the one-tile code is what it was.
template <bool kQ4, bool kNext>
void gemm_r16_passes(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy,
                     int64_t g0, int64_t g1) noexcept {
  const size_t group_bytes = size_t(nb) * (kQ4 ? kQ4GroupBlockBytes : kQ8GroupBlockBytes);
  const int64_t tiles = (n_tok + kTile - 1) / kTile;
  Prep prepared;
  const bool all = n_tok * nb <= kPrepEntries;
  if (all) prep_q8_scales_sums(X, n_tok * nb, prepared.dx, prepared.sum8);
  for (int64_t gc = g0; gc < g1; gc += kPassGroups) {
    const int64_t ge = std::min(g1, gc + kPassGroups);
    const uint8_t* next_begin = W + size_t(ge) * group_bytes;
    const size_t next_bytes = size_t(std::min(g1, ge + kPassGroups) - ge) * group_bytes;
    const size_t share = (next_bytes + size_t(tiles) - 1) / size_t(tiles);
    const size_t steps = size_t(ge - gc) * size_t(nb);
    for_token_groups<kTile>(n_tok, [&](auto c, int64_t t0) {
      constexpr int nt = decltype(c)::value;
      const BlockQ8_0* Xt = X + t0 * nb;
      TilePrep p{prepared.dx, prepared.sum8};
      if (all) {
        p.dx += t0 * nb;
        p.sum8 += t0 * nb;
      } else {
        prep_q8_scales_sums(Xt, nt * nb, prepared.dx, prepared.sum8);
      }
      NextPass next;
      if constexpr (kNext) {
        const size_t from = std::min(next_bytes, size_t(t0 / kTile) * share);
        next.at = next_begin + from;
        next.end = next_begin + std::min(next_bytes, from + share);
        next.per_block = (share / steps + 64) & ~size_t(63);
      }
      // With the next pass streamed by the tiles, only the first pass reads ahead of itself.
      const bool ahead = t0 == 0 && (!kNext || gc == g0);
      int64_t g = gc;
      // Two groups at a time once there are tokens enough to be compute-bound; with one or two
      // tokens a product streams from memory, and one sequential stream keeps the hardware
      // prefetcher ahead where two interleaved ones do not (measured: 27 against 20 GB/s a core).
      if constexpr (nt >= 3) {
        for (; g + 2 <= ge; g += 2) {
          __m512 a0[nt], a1[nt];
          for (int t = 0; t < nt; ++t) a0[t] = a1[t] = _mm512_setzero_ps();
          if constexpr (kQ4)
            q4_tile2<nt, kNext>(W + size_t(g) * group_bytes, W + size_t(g + 1) * group_bytes, nb, Xt, p, ahead,
                                kNext ? &next : nullptr, a0, a1);
          else
            q8_tile2<nt>(W + size_t(g) * group_bytes, W + size_t(g + 1) * group_bytes, nb, Xt, p, a0, a1);
          for (int t = 0; t < nt; ++t) {
            _mm512_storeu_ps(Y + (t0 + t) * ldy + g * kRowGroup, a0[t]);
            _mm512_storeu_ps(Y + (t0 + t) * ldy + (g + 1) * kRowGroup, a1[t]);
          }
        }
      }
      for (; g < ge; ++g) {
        __m512 acc[nt];
        for (int t = 0; t < nt; ++t) acc[t] = _mm512_setzero_ps();
        if constexpr (kQ4)
          q4_tile<nt, kNext>(W + size_t(g) * group_bytes, nb, Xt, p, ahead, kNext ? &next : nullptr, acc);
        else
          q8_tile<nt>(W + size_t(g) * group_bytes, nb, Xt, p, acc);
        for (int t = 0; t < nt; ++t) _mm512_storeu_ps(Y + (t0 + t) * ldy + g * kRowGroup, acc[t]);
      }
    });
  }
}

template <bool kQ4>
void gemm_r16(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy, int64_t g0,
              int64_t g1) noexcept {
  if (kQ4 && n_tok > kTile)
    gemm_r16_passes<kQ4, true>(W, nb, X, n_tok, Y, ldy, g0, g1);
  else
    gemm_r16_passes<kQ4, false>(W, nb, X, n_tok, Y, ldy, g0, g1);
}

}  // namespace

void gemm_q4_0_r16_vnni(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy,
                        int64_t g0, int64_t g1) noexcept {
  gemm_r16<true>(W, nb, X, n_tok, Y, ldy, g0, g1);
}
void gemm_q8_0_r16_vnni(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy,
                        int64_t g0, int64_t g1) noexcept {
  gemm_r16<false>(W, nb, X, n_tok, Y, ldy, g0, g1);
}

void add_r16_avx512(Kernels& k) noexcept {
  k.gemm_q4_0_r16 = gemm_q4_0_r16_vnni;
  k.gemm_q8_0_r16 = gemm_q8_0_r16_vnni;
  k.r16_native = true;
}

}  // namespace dsinfer::simd::detail
