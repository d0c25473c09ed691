// AVX2 + FMA + F16C kernels (compiled with -mavx2 -mfma -mf16c; only called when the CPU has
// them). No VNNI here: products go through maddubs (u8 x s8 -> s16 pairs) then madd (-> s32).
// The sign trick makes the weight operand unsigned: |w| times x with w's sign applied. With both
// operands in -127..127 a pair sum is at most 2 * 127 * 127 = 32258, so maddubs never saturates.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "simd/gemm_driver.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd::detail {
namespace {

float half(uint16_t h) { return _cvtsh_ss(h); }

// The 32 signed weight levels of a block.
__m256i levels(const BlockQ8_0& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }
__m256i levels(const BlockQ4_0& b) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m128i m = _mm_set1_epi8(0x0F);
  const __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
  return _mm256_sub_epi8(q, _mm256_set1_epi8(8));
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
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
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t r = row0; r < row1; ++r) {
    const Block* w = W + r * nb;
    __m256 acc[NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      // Weight work done once per block, shared by all tokens.
      const __m256i ws = levels(w[b]);
      const __m256i wa = _mm256_sign_epi8(ws, ws);  // |w|
      const float dw = half(w[b].d);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_0& x = Xc[t * nb + b];
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
        const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(wa, _mm256_sign_epi8(xv, ws)), ones);
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * half(x.d)), acc[t]);
      }
    }
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) Yc[t * rows + r] = hsum(acc[t]);
  }
}

// Same float operations as quantize_row_q8_0, vectorised: amax (exact in any order), the scalar
// d = amax / 127 and 1 / d, then round(x * id) with halves away from zero, built from a
// truncation because no SSE/AVX rounding mode rounds halves away.
void quantize_act(const float* x, BlockQ8_0* y, int64_t n) noexcept {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  const __m256 half_v = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 lim = _mm256_set1_ps(127.0f), nlim = _mm256_set1_ps(-127.0f);
  for (int64_t i = 0; i < n / kBlockWeights; ++i) {
    const float* xb = x + i * kBlockWeights;
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(xb + 8 * k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[k]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float d = _mm_cvtss_f32(m) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = uint16_t(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) {
      const __m256 s = _mm256_mul_ps(v[k], idv);
      const __m256 t = _mm256_round_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __m256 frac = _mm256_andnot_ps(sign_mask, _mm256_sub_ps(s, t));  // exact
      const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, half_v, _CMP_GE_OQ),
                                        _mm256_or_ps(one, _mm256_and_ps(sign_mask, s)));
      const __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(t, step), nlim), lim);
      q[k] = _mm256_cvtps_epi32(r);
    }
    // Pack 32 int32 to 32 int8; packs work within 128-bit lanes, so fix the order after.
    const __m256i p16a = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p16b = _mm256_packs_epi32(q[2], q[3]);
    const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    const __m256i ordered = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), ordered);
  }
}

}  // namespace

void add_quant_avx2(Kernels& k) noexcept {
  set_quant_kernels<gemm_by_token_groups<Rows<BlockQ8_0>, BlockQ8_0>, gemm_by_token_groups<Rows<BlockQ4_0>, BlockQ4_0>,
                    quantize_act>(k);
}

}  // namespace dsinfer::simd::detail
