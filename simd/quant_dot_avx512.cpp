// AVX-512 VNNI kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mf16c; only
// called when the CPU has all of them). Two blocks per 512-bit step.
//
// vpdpbusd multiplies unsigned by signed bytes. Weights are turned into |w| (unsigned) once per
// block and w's sign is moved onto the activation levels per token (a masked negate). Exact
// because both operands are in -127..127 (Q4_0 levels q - 8 are in -8..7): negating never
// meets -128, and a 4-product group sums to at most 4 * 127 * 127, far inside int32.
#include "simd/avx512_intrinsics.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "simd/gemm_driver.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd::detail {
namespace {

float half(uint16_t h) { return _cvtsh_ss(h); }

__m256i levels(const BlockQ8_0& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }

__m256i act(const BlockQ8_0& x) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs)); }

// Lanes 0..7 = a, lanes 8..15 = b.
__m512 pair(float a, float b) { return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(a), _mm512_set1_ps(b)); }
__m512i pair(__m256i a, __m256i b) { return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1); }

// The signed levels of blocks b and b + 1 (only b when !two: the high half is then unused, its
// activations and scales being zero).
__m512i levels2(const BlockQ8_0* w, bool two) {
  return pair(levels(w[0]), two ? levels(w[1]) : _mm256_setzero_si256());
}
// Q4_0: both blocks' nibbles unpacked at once, then 128-bit lanes reordered to lo0 hi0 lo1 hi1.
__m512i levels2(const BlockQ4_0* w, bool two) {
  const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[0].qs));
  const __m128i q1 = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[1].qs)) : _mm_setzero_si128();
  const __m256i v = _mm256_set_m128i(q1, q0);
  const __m256i m = _mm256_set1_epi8(0x0F);
  const __m512i z = pair(_mm256_and_si256(v, m), _mm256_and_si256(_mm256_srli_epi16(v, 4), m));
  return _mm512_sub_epi8(_mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0)), _mm512_set1_epi8(8));
}

// NT tokens against rows [row0, row1). NT is a compile-time constant so the NT accumulators
// live in registers (a runtime count would keep them on the stack, a load and store per fma).
// With kPre, dx holds the NT * nb activation scales already converted (plus one zero slot), so
// each row skips NT * nb fp16 conversions.
template <class Block, int NT, bool kPre>
void rows_kernel(const Block* W, int64_t rows, int64_t nb, const BlockQ8_0* Xc, const float* dx,
                 float* Yc, int64_t row0, int64_t row1) noexcept {
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t r = row0; r < row1; ++r) {
    const Block* w = W + r * nb;
    __m512 acc[NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b += 2) {
      // An odd tail block rides in the low half; the high half is zero (weights and scale),
      // and the activation beyond the row is never read.
      const bool two = b + 1 < nb;
      const __m512i ws = levels2(w + b, two);
      const __m512i wa = _mm512_abs_epi8(ws);
      const __mmask64 neg = _mm512_movepi8_mask(ws);
      const float dw0 = half(w[b].d), dw1 = two ? half(w[b + 1].d) : 0.0f;
      const __m512 dw = pair(dw0, dw1);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_0* x = Xc + t * nb + b;
        __m512i xv = pair(act(x[0]), two ? act(x[1]) : _mm256_setzero_si256());
        xv = _mm512_mask_sub_epi8(xv, neg, zero, xv);
        const __m512i p = _mm512_dpbusd_epi32(zero, wa, xv);
        __m512 scale;
        if constexpr (kPre)  // a tail block's high half takes the zero slot (never a NaN)
          scale = _mm512_mul_ps(dw, pair(dx[t * nb + b], dx[two ? t * nb + b + 1 : NT * nb]));
        else
          scale = pair(dw0 * half(x[0].d), two ? dw1 * half(x[1].d) : 0.0f);
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), scale, acc[t]);
      }
    }
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) Yc[t * rows + r] = _mm512_reduce_add_ps(acc[t]);
  }
}

// Stack room for converted activation scales: 16 tokens of rows up to 768 blocks (24576
// weights), 48 KiB. Wider rows convert per row instead.
constexpr int64_t kScaleSlots = kGemmMaxTokens * 768;

// Q4_0 without the sign moves: the unsigned nibbles q (0..15) go straight into vpdpbusd
// against the signed activations, and a second vpdpbusd with bytes of 8 takes the offset back
// out, so each lane holds sum (q - 8) x exactly, as in the general kernel. The activation scales
// come from a per-token table (stride nb + 1, the last slot zero for an odd tail's empty half),
// and two accumulators per token halve the fma dependency chain.
__m512i nibbles2(const BlockQ4_0* w, bool two) {
  __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[0].qs)));
  v = two ? _mm512_mask_broadcast_i32x4(v, 0xFF00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[1].qs)))
          : _mm512_maskz_mov_epi32(0x00FF, v);
  // 128-bit lanes: low nibbles of block b, its high nibbles, then the same for block b + 1.
  v = _mm512_mask_srli_epi32(v, 0xF0F0, v, 4);
  return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

// Lanes 0..7 = p[0], lanes 8..15 = p[1].
__m512 pair_at(const float* p) {
  const __m512i idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
}

template <int NT>
void q4_rows_kernel(const BlockQ4_0* W, int64_t rows, int64_t nb, const BlockQ8_0* Xc, const float* dx,
                    float* Yc, int64_t row0, int64_t row1) noexcept {
  const __m512i zero = _mm512_setzero_si512(), eight = _mm512_set1_epi8(8);
  const int64_t ld = nb + 1;
  for (int64_t r = row0; r < row1; ++r) {
    const BlockQ4_0* w = W + r * nb;
    __m512 acc[2][NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b += 2) {
      const bool two = b + 1 < nb;
      const __m512i wq = nibbles2(w + b, two);
      const __m512 dw = pair(half(w[b].d), two ? half(w[b + 1].d) : 0.0f);
      const int k = int(b >> 1) & 1;
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_0* x = Xc + t * nb + b;
        const __m512i xv = pair(act(x[0]), two ? act(x[1]) : _mm256_setzero_si256());
        const __m512i p = _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, wq, xv), _mm512_dpbusd_epi32(zero, eight, xv));
        acc[k][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw, pair_at(dx + t * ld + b)), acc[k][t]);
      }
    }
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) Yc[t * rows + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][t], acc[1][t]));
  }
}

// Widest rows the Q4_0 tables serve (blocks); wider ones take the general kernel.
constexpr int64_t kQ4MaxBlocks = 768;

void gemm_q4(const BlockQ4_0* W, int64_t rows, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y,
             int64_t row0, int64_t row1) noexcept;

// ---- Sixteen tokens at once: activations transposed, weights as stored. ----
// For a group of up to 16 tokens the activation levels are regrouped per block into 8 vectors,
// vector k holding bytes 4k..4k+3 of every token's block (lane = token). Each 4-byte group of a
// weight row is broadcast to all lanes, so one vpdpbusd advances 16 tokens by 4 products, and a
// block's exact int32 sums for all 16 tokens end in one register: one conversion and one fma
// per block and row instead of one per token. Weights must be the unsigned operand: Q4_0
// nibbles (0..15) are, and -8 sum x comes back through the tokens' level sums; Q8_0 rows use
// activations + 128 as the unsigned operand, and 128 sum w comes back through the row's
// level sums (accumulated by the same broadcasts).
constexpr int64_t kPackMaxBlocks = 256;  // 160 KiB of stack; wider rows take the kernels above
// Below these token counts the per-token kernels are cheaper (measured with quant_dot_bench:
// at 8 tokens the packed path wins for Q4_0 and loses for Q8_0; at 64 it is 1.4-2.3x faster).
constexpr int64_t kPackMinTokensQ4 = 6, kPackMinTokensQ8 = 12;

struct PackedBlock {
  __m512i x[8];   // lane t: levels 4k..4k+3 of token t (u8 = level + 128 for Q8_0 weights)
  __m512 dx;      // lane t: token t's scale (0 beyond the group)
  __m512i sum8;   // lane t: 8 * sum of token t's levels (Q4_0 only)
};

template <bool kQ8>
void pack_group(const BlockQ8_0* X, int64_t nb, int64_t nt, PackedBlock* pb) noexcept {
  const __mmask16 live = __mmask16((1u << nt) - 1);
  const __m512i tok = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32(int(nb * sizeof(BlockQ8_0))));
  const __m512i ones = _mm512_set1_epi8(1), flip = _mm512_set1_epi8(char(0x80));
  for (int64_t b = 0; b < nb; ++b) {
    const auto* base = reinterpret_cast<const uint8_t*>(X + b);
    __m512i sum = _mm512_setzero_si512();
    for (int k = 0; k < 8; ++k) {
      __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, tok, base + 2 + 4 * k, 1);
      if constexpr (kQ8) {
        v = _mm512_maskz_xor_epi32(live, v, flip);
      } else {
        sum = _mm512_dpbusd_epi32(sum, ones, v);
      }
      pb[b].x[k] = v;
    }
    const __m512i d32 = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, tok, base, 1);
    pb[b].dx = _mm512_maskz_mov_ps(live, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d32)));
    pb[b].sum8 = _mm512_slli_epi32(sum, 3);
  }
}

// R rows from r, one packed group: acc[i] lane t = row r + i against token t.
template <bool kQ8, int R>
void packed_rows(const uint8_t* W, int64_t row_bytes, int64_t r, int64_t nb, const PackedBlock* pb,
                 __m512* acc) noexcept {
  const __m512i lo = _mm512_set1_epi8(0x0F), ones = _mm512_set1_epi8(1);
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const PackedBlock& p = pb[b];
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      __m512i s = _mm512_setzero_si512();
      float dw;
      if constexpr (kQ8) {
        const auto* w = reinterpret_cast<const BlockQ8_0*>(W + (r + i) * row_bytes) + b;
        __m512i sw = _mm512_setzero_si512();
        int32_t g[8];
        std::memcpy(g, w->qs, 32);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          const __m512i wb = _mm512_set1_epi32(g[k]);
          s = _mm512_dpbusd_epi32(s, p.x[k], wb);
          sw = _mm512_dpbusd_epi32(sw, ones, wb);
        }
        s = _mm512_sub_epi32(s, _mm512_slli_epi32(sw, 7));
        dw = half(w->d);
      } else {
        const auto* w = reinterpret_cast<const BlockQ4_0*>(W + (r + i) * row_bytes) + b;
        int32_t g[4];
        std::memcpy(g, w->qs, 16);
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
          const __m512i wb = _mm512_set1_epi32(g[k]);
          s = _mm512_dpbusd_epi32(s, _mm512_and_si512(wb, lo), p.x[k]);
          s = _mm512_dpbusd_epi32(s, _mm512_and_si512(_mm512_srli_epi16(wb, 4), lo), p.x[k + 4]);
        }
        s = _mm512_sub_epi32(s, p.sum8);
        dw = half(w->d);
      }
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(_mm512_set1_ps(dw), p.dx), acc[i]);
    }
  }
}

template <bool kQ8, int R>
void packed_store(const uint8_t* W, int64_t row_bytes, int64_t rows, int64_t r, int64_t nb, const PackedBlock* pb,
                  int64_t nt, float* Yg) noexcept {
  __m512 acc[R];
  packed_rows<kQ8, R>(W, row_bytes, r, nb, pb, acc);
  alignas(64) float out[16];
  for (int i = 0; i < R; ++i) {
    _mm512_store_ps(out, acc[i]);
    for (int64_t t = 0; t < nt; ++t) Yg[t * rows + r + i] = out[t];
  }
}

// Rows [row0, row1) for tokens [t0, t0 + nt) (nt <= 16) through the packed path.
template <bool kQ8>
void packed_group(const uint8_t* W, int64_t row_bytes, int64_t rows, int64_t nb, const BlockQ8_0* Xg, int64_t nt,
                  float* Yg, int64_t row0, int64_t row1) noexcept {
  PackedBlock pb[kPackMaxBlocks];
  pack_group<kQ8>(Xg, nb, nt, pb);
  int64_t r = row0;
  for (; r + 4 <= row1; r += 4) packed_store<kQ8, 4>(W, row_bytes, rows, r, nb, pb, nt, Yg);
  for (; r < row1; ++r) packed_store<kQ8, 1>(W, row_bytes, rows, r, nb, pb, nt, Yg);
}

template <class Block>
void gemm(const Block* W, int64_t rows, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y,
          int64_t row0, int64_t row1) noexcept {
  constexpr bool q8 = std::is_same_v<Block, BlockQ8_0>;
  alignas(64) float dx[kScaleSlots + 1];
  for_token_groups(n_tok, [&](auto c, int64_t t0) {
    constexpr int nt = decltype(c)::value;
    const BlockQ8_0* Xc = X + t0 * nb;
    if (nt >= (q8 ? kPackMinTokensQ8 : kPackMinTokensQ4) && nb <= kPackMaxBlocks) {
      packed_group<q8>(reinterpret_cast<const uint8_t*>(W), nb * int64_t(sizeof(Block)), rows, nb, Xc, nt,
                       Y + t0 * rows, row0, row1);
    } else if (nt * nb <= kScaleSlots && row1 - row0 > 1) {
      for (int64_t i = 0; i < nt * nb; ++i) dx[i] = half(Xc[i].d);
      dx[nt * nb] = 0.0f;
      rows_kernel<Block, nt, true>(W, rows, nb, Xc, dx, Y + t0 * rows, row0, row1);
    } else {
      rows_kernel<Block, nt, false>(W, rows, nb, Xc, nullptr, Y + t0 * rows, row0, row1);
    }
  });
}

void gemm_q4(const BlockQ4_0* W, int64_t rows, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y,
             int64_t row0, int64_t row1) noexcept {
  if (nb > kQ4MaxBlocks) return gemm<BlockQ4_0>(W, rows, nb, X, n_tok, Y, row0, row1);
  alignas(64) float dx[kGemmMaxTokens * (kQ4MaxBlocks + 1)];
  const int64_t ld = nb + 1;
  for_token_groups(n_tok, [&](auto c, int64_t t0) {
    constexpr int nt = decltype(c)::value;
    const BlockQ8_0* Xc = X + t0 * nb;
    if (nt >= kPackMinTokensQ4 && nb <= kPackMaxBlocks) {
      packed_group<false>(reinterpret_cast<const uint8_t*>(W), nb * int64_t(sizeof(BlockQ4_0)), rows, nb, Xc, nt,
                          Y + t0 * rows, row0, row1);
      return;
    }
    for (int64_t t = 0; t < nt; ++t) {
      for (int64_t b = 0; b < nb; ++b) dx[t * ld + b] = half(Xc[t * nb + b].d);
      dx[t * ld + nb] = 0.0f;
    }
    q4_rows_kernel<nt>(W, rows, nb, Xc, dx, Y + t0 * rows, row0, row1);
  });
}

// As the AVX2 version (see there): quantize_row_q8_0's float operations, rounding halves away
// from zero via truncation. One block is two 16-float vectors.
void quantize_act(const float* x, BlockQ8_0* y, int64_t n) noexcept {
  const __m512 half_v = _mm512_set1_ps(0.5f);
  const __m512 lim = _mm512_set1_ps(127.0f), nlim = _mm512_set1_ps(-127.0f);
  for (int64_t i = 0; i < n / kBlockWeights; ++i) {
    const float* xb = x + i * kBlockWeights;
    const __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = uint16_t(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
    const __m512 idv = _mm512_set1_ps(id);
    for (int k = 0; k < 2; ++k) {
      const __m512 s = _mm512_mul_ps(k ? v1 : v0, idv);
      const __m512 t = _mm512_roundscale_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(s, t));  // exact
      const __mmask16 up = _mm512_cmp_ps_mask(frac, half_v, _CMP_GE_OQ);
      // t + copysign(1, s) where the fraction is at least one half.
      const __mmask16 negs = _mm512_cmp_ps_mask(s, _mm512_setzero_ps(), _CMP_LT_OQ);
      const __m512 step = _mm512_mask_blend_ps(negs, _mm512_set1_ps(1.0f), _mm512_set1_ps(-1.0f));
      const __m512 r = _mm512_mask_add_ps(t, up, t, step);
      const __m512i q = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(r, nlim), lim));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs + 16 * k), _mm512_cvtepi32_epi8(q));
    }
  }
}

}  // namespace

void add_quant_avx512(Kernels& k) noexcept { set_quant_kernels<gemm<BlockQ8_0>, gemm_q4, quantize_act>(k); }

}  // namespace dsinfer::simd::detail
