// Attention's weighted sum over Q8_0 latent cache rows with AVX512_BF16 (vdpbf16ps), compiled
// with the AVX-512 and BF16 flags.
//
// One vdpbf16ps takes two positions of 16 columns at once: the two rows' levels interleaved
// (exact in bf16: |level| <= 128), against the head's weights for the two positions, each
// weight p times its row's block scale rounded to bf16 (8 significant bits: a relative error
// of at most 2^-8 a weight); the products are exact and summed in float. That is twice the
// work of a float fma a cycle, and prefill's attention over a deep cache spends most of its
// time here. Not bit-identical to the float kernels (Kernels::latent_wsum_exact is false).

#include "simd/avx512_intrinsics.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "simd/blocks.h"
#include "simd/gemm_driver.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd::detail {
namespace {

// Rows a call takes at most in bf16 (attention's chunk); more go to the float kernel.
constexpr int64_t kMaxRows = 256;
constexpr int64_t kBlockBytes = int64_t(sizeof(BlockQ8_0));

// 16 levels of row r from byte `lev` as float.
inline __m512 levels(const uint8_t* r, int64_t lev) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + lev))));
}

// A block of every pair of rows (32 levels each) as the bf16 pairs vdpbf16ps takes, for columns
// [0, 16) and [16, 32): converted once for every head group (V3's 128 heads are 8 groups of 16,
// which each converted the rows again).
struct PairBlock {
  alignas(64) __m512i v[2][kMaxRows / 2];
};

void convert_pairs(const uint8_t* const* rows, int64_t ns, int64_t pairs, int64_t off, PairBlock& pb) {
  // Word k of the result: word k / 2 of the first row's 16 for even k, of the second's for odd.
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                              22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int64_t q = 0; q < pairs; ++q) {
    const uint8_t* r0 = rows[2 * q];
    const uint8_t* r1 = rows[std::min(2 * q + 1, ns - 1)];  // an odd last row pairs with itself, weight 0
    for (int64_t c = 0; c < 2; ++c) {
      const int64_t lev = off + 2 + 16 * c;
      pb.v[c][q] = _mm512_permutexvar_epi16(interleave, __m512i(_mm512_cvtne2ps_pbh(levels(r1, lev), levels(r0, lev))));
    }
  }
}

// Heads [0, NH) of p over one block (scales d, pairs pb) into o[h * n + c].
template <int NH>
void wsum_block(const float* p, int64_t ldp, const float* d, const PairBlock& pb, int64_t ns, int64_t n, float* o) {
  const int64_t pairs = (ns + 1) / 2, padded = 2 * pairs;
  // Per head, the block's weights of each pair of positions as two bf16 (the even one low).
  alignas(64) uint32_t w[NH][kMaxRows / 2];
  for (int h = 0; h < NH; ++h)
    for (int64_t s = 0; s < padded; s += 32) {
      const int64_t left = ns - s;
      const __mmask16 m0 = left >= 16 ? 0xFFFF : left > 0 ? __mmask16((1u << left) - 1) : 0;
      const __mmask16 m1 = left >= 32 ? 0xFFFF : left > 16 ? __mmask16((1u << (left - 16)) - 1) : 0;
      const __m512 lo = _mm512_mul_ps(_mm512_maskz_loadu_ps(m0, p + h * ldp + s), _mm512_maskz_loadu_ps(m0, d + s));
      const __m512 hi =
          _mm512_mul_ps(_mm512_maskz_loadu_ps(m1, p + h * ldp + s + 16), _mm512_maskz_loadu_ps(m1, d + s + 16));
      const __m512i packed = __m512i(_mm512_cvtne2ps_pbh(hi, lo));
      const __mmask16 pm = padded - s >= 32 ? 0xFFFF : __mmask16((1u << ((padded - s) / 2)) - 1);
      _mm512_mask_storeu_epi32(w[h] + s / 2, pm, packed);
    }
  for (int64_t c = 0; c < 2; ++c) {
    __m512 acc[NH];
    for (int h = 0; h < NH; ++h) acc[h] = _mm512_setzero_ps();
    for (int64_t q = 0; q < pairs; ++q) {
      const __m512bh v = __m512bh(pb.v[c][q]);
#pragma GCC unroll 16
      for (int h = 0; h < NH; ++h) acc[h] = _mm512_dpbf16_ps(acc[h], v, __m512bh(_mm512_set1_epi32(int(w[h][q]))));
    }
    for (int h = 0; h < NH; ++h) _mm512_storeu_ps(o + h * n + 16 * c, acc[h]);
  }
}

void latent_wsum_q8_bf16(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns, int64_t n,
                         float* o) noexcept {
  if (ns > kMaxRows || ns == 0) return latent_wsum_q8_avx512(p, ldp, nh, rows, ns, n, o);
  const int64_t pairs = (ns + 1) / 2, padded = 2 * pairs;
  PairBlock pb;
  alignas(64) float d[kMaxRows];
  for (int64_t b = 0; b < n / kBlockWeights; ++b) {
    const int64_t off = b * kBlockBytes;
    for (int64_t s = 0; s < padded; ++s) {
      uint16_t h;
      std::memcpy(&h, rows[std::min(s, ns - 1)] + off, 2);
      d[s] = s < ns ? _cvtsh_ss(h) : 0.0f;
    }
    convert_pairs(rows, ns, pairs, off, pb);
    for_head_groups(nh, [&](auto g, int64_t h) {
      wsum_block<decltype(g)::value>(p + h * ldp, ldp, d, pb, ns, n, o + h * n + b * kBlockWeights);
    });
  }
}

}  // namespace

void add_latent_wsum_bf16(Kernels& k) noexcept {
  k.latent_wsum_q8 = latent_wsum_q8_bf16;
  k.latent_wsum_exact = false;
}

}  // namespace dsinfer::simd::detail
