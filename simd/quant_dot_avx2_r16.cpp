// AVX2 products over row groups (simd/quant_dot_avx2_r16_impl.h), compiled with the AVX2, FMA
// and F16C flags: the vpmaddubsw products, and the activations' per-block inputs that every
// x86 row-group product uses.
#include "simd/quant_dot_avx2_r16_impl.h"

namespace dsinfer::simd::detail {

void prep_q8_scales_sums(const BlockQ8_0* X, int64_t n, float* dx, int32_t* sum8) noexcept {
  for (int64_t i = 0; i < n; ++i) {
    dx[i] = _cvtsh_ss(X[i].d);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(X[i].qs));
    // sum of signed bytes: flip to unsigned, sum absolute differences against 0, take 32*128 back
    const __m256i s = _mm256_sad_epu8(_mm256_xor_si256(v, _mm256_set1_epi8(char(0x80))), _mm256_setzero_si256());
    const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    sum8[i] = 8 * (int32_t(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1)) - 32 * 128);
  }
}

void add_r16_avx2(Kernels& k) noexcept {
  k.gemm_q4_0_r16 = gemm_r16<false, true>;
  k.gemm_q8_0_r16 = gemm_r16<false, false>;
  k.r16_native = true;
}

}  // namespace dsinfer::simd::detail
