// The AVX2 row-group products (simd/repack.h) as templates, for the two files that compile them:
// quant_dot_avx2_r16.cpp (AVX2, FMA, F16C) and quant_dot_avxvnni_r16.cpp (the same and AVX-VNNI).
//
// A 256-bit register holds 4 consecutive weights of 8 rows: half a 64-byte slice, so a row
// group is computed as two halves of 8 rows. The int32 dots of 4-byte groups:
// - with AVX-VNNI (kVnni), vpdpbusd: Q4_0 nibbles (0..15) unsigned against the activations,
//   starting from -8 * sum(x) for the offset; Q8_0 weights' absolute values against the
//   activations with the weights' signs (vpsignb).
// - without, vpmaddubsw on the same operands: Q4_0 pair sums are at most 15 * 128 * 2 = 3840, so
//   a block's 8 products add in int16 (30720 at most) before one vpmaddwd with ones; Q8_0 pair
//   sums reach 32258, so one vpmaddwd per product.
// Integer sums are exact either way. Then the scalar reference's float step per row, token and
// block in its order, so results are bit-identical to it for any tile or split.
// Everything here has internal linkage: the two files' copies differ in their instructions.
#pragma once
#include "simd/avx2_intrinsics.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "simd/gemm_driver.h"
#include "simd/kernels_isa.h"
#include "simd/prefetch_lines.h"
#include "simd/repack.h"

namespace dsinfer::simd::detail {
namespace {

constexpr int kTile = 4;                 // tokens a tile keeps in registers (per half group)
constexpr int64_t kPrepEntries = 8192;  // token blocks whose scales and sums are prepared at once

// Block b, half hf (rows 8hf..8hf+7) of a row group against tokens [0, NT) of X into acc.
template <bool kVnni, bool kQ4, int NT>
inline __attribute__((always_inline)) void block_half(const uint8_t* g, int64_t nb, int64_t b, int hf,
                                                      const BlockQ8_0* X, const float* dx, const int32_t* sum8,
                                                      __m256* acc) {
  const __m256i ones = _mm256_set1_epi16(1), lo = _mm256_set1_epi8(0x0F);
  const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g + 16 * hf)));
  __m256i w[8];
  for (int k = 0; k < (kQ4 ? 4 : 8); ++k) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + 32 + 64 * k + 32 * hf));
    if constexpr (kQ4) {
      w[k] = _mm256_and_si256(v, lo);
      w[k + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), lo);
    } else {
      w[k] = v;
    }
  }
  __m256i wabs[8];
  if constexpr (!kQ4)
    for (int k = 0; k < 8; ++k) wabs[k] = _mm256_abs_epi8(w[k]);
  for (int t = 0; t < NT; ++t) {
    const int8_t* x = X[t * nb + b].qs;
    __m256i s;
    // Q4_0 register k < 4: low nibbles, elements 4k..4k+3; k >= 4: high nibbles, 16 + 4(k-4)...
    const auto elem = [](int k) { return kQ4 ? (k < 4 ? 4 * k : 16 + 4 * (k - 4)) : 4 * k; };
    if constexpr (kVnni && kQ4) {
      s = _mm256_set1_epi32(-sum8[t * nb + b]);
      for (int k = 0; k < 8; ++k) s = _mm256_dpbusd_avx_epi32(s, w[k], bcast4(x + elem(k)));
    } else if constexpr (kVnni) {
      s = _mm256_setzero_si256();
      for (int k = 0; k < 8; ++k)
        s = _mm256_dpbusd_avx_epi32(s, wabs[k], _mm256_sign_epi8(bcast4(x + elem(k)), w[k]));
    } else if constexpr (kQ4) {
      __m256i p = _mm256_maddubs_epi16(w[0], bcast4(x));
      for (int k = 1; k < 8; ++k) p = _mm256_add_epi16(p, _mm256_maddubs_epi16(w[k], bcast4(x + elem(k))));
      s = _mm256_sub_epi32(_mm256_madd_epi16(p, ones), _mm256_set1_epi32(sum8[t * nb + b]));
    } else {
      s = _mm256_setzero_si256();
      for (int k = 0; k < 8; ++k)
        s = _mm256_add_epi32(
            s, _mm256_madd_epi16(_mm256_maddubs_epi16(wabs[k], _mm256_sign_epi8(bcast4(x + elem(k)), w[k])), ones));
    }
    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(dx[t * nb + b])), acc[t]);
  }
}

// Row group G against tokens [0, NT) of X: acc[hf][t] gathers token t's rows 8hf..8hf+7. With
// one or two tokens the product streams from memory, and both halves go block by block so the
// group streams once, in order (half by half, one core read Q4_0 out of cache at 13.6 GB/s
// against 25.1, 1 token; quant_dot_bench 65536x2048, AMD EPYC family 26); with more, the
// registers of both halves do not fit, and the second half rereads the group from L1 (in cache,
// 4 tokens: 14.0 GB/s against 8.9). Memory idled during that second half; now the last token
// tile of a group fetches the next group into L1 meanwhile (fetch_next): out of cache, 3, 4 and
// 8 tokens ran at 8-12, 6-11 and 5-7 GB/s, now 17-21, 13-21 and 6-12 (quant_dot_bench
// 65536x2048, one core, AMD EPYC family 26; both tables, Q4_0 and Q8_0). With one or two tokens
// the same tile reads the next group into L2 (a group ahead, as the AVX-512 products do): out of
// cache 1 token Q4_0 24.4-25.3 -> 37.8-39.1 GB/s, Q8_0 2 tokens 11.9-18.3 -> 31.2-31.4; from
// cache 1 token Q4_0 45-52 -> 38-39 (no decode product is in cache).
template <bool kVnni, bool kQ4, int NT>
void group_tile(const uint8_t* G, int64_t nb, const BlockQ8_0* X, const float* dx, const int32_t* sum8,
                bool fetch_next, __m256 (*acc)[NT]) {
  const size_t block_bytes = kQ4 ? kQ4GroupBlockBytes : kQ8GroupBlockBytes;
  const uint8_t* next = G + size_t(nb) * block_bytes;  // the next group, block b at the same offset
  if constexpr (NT <= 2) {
    for (int64_t b = 0; b < nb; ++b) {
      if (fetch_next) prefetch_lines<_MM_HINT_T1>(next + size_t(b) * block_bytes, block_bytes);
      for (int hf = 0; hf < 2; ++hf)
        block_half<kVnni, kQ4, NT>(G + size_t(b) * block_bytes, nb, b, hf, X, dx, sum8, acc[hf]);
    }
  } else {
    for (int64_t b = 0; b < nb; ++b)
      block_half<kVnni, kQ4, NT>(G + size_t(b) * block_bytes, nb, b, 0, X, dx, sum8, acc[0]);
    for (int64_t b = 0; b < nb; ++b) {
      if (fetch_next) prefetch_lines<_MM_HINT_T0>(next + size_t(b) * block_bytes, block_bytes);
      block_half<kVnni, kQ4, NT>(G + size_t(b) * block_bytes, nb, b, 1, X, dx, sum8, acc[1]);
    }
  }
}

template <bool kVnni, bool kQ4>
void gemm_r16(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy, int64_t g0,
              int64_t g1) noexcept {
  const size_t group_bytes = size_t(nb) * (kQ4 ? kQ4GroupBlockBytes : kQ8GroupBlockBytes);
  alignas(32) float dx[kPrepEntries];
  alignas(32) int32_t sum8[kPrepEntries];
  // Tokens in chunks whose scales and sums fit (every token of a decode step or a verify), each
  // chunk over every row group in turn.
  const int64_t chunk = std::max<int64_t>(kTile, kPrepEntries / nb / kTile * kTile);
  for (int64_t c0 = 0; c0 < n_tok; c0 += chunk) {
    const int64_t nc = std::min(chunk, n_tok - c0);
    prep_q8_scales_sums(X + c0 * nb, nc * nb, dx, sum8);
    for (int64_t g = g0; g < g1; ++g)
      for_token_groups<kTile>(nc, [&](auto c, int64_t t0) {
        constexpr int nt = decltype(c)::value;
        __m256 acc[2][nt];
        for (int t = 0; t < nt; ++t) acc[0][t] = acc[1][t] = _mm256_setzero_ps();
        group_tile<kVnni, kQ4, nt>(W + size_t(g) * group_bytes, nb, X + (c0 + t0) * nb, dx + t0 * nb, sum8 + t0 * nb,
                                   t0 + nt == nc, acc);
        for (int hf = 0; hf < 2; ++hf)
          for (int t = 0; t < nt; ++t) _mm256_storeu_ps(Y + (c0 + t0 + t) * ldy + g * kRowGroup + 8 * hf, acc[hf][t]);
      });
  }
}

}  // namespace
}  // namespace dsinfer::simd::detail
