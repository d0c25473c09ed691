// The AVX2 row-group products with AVX-VNNI's vpdpbusd (simd/quant_dot_avx2_r16_impl.h), compiled
// with the AVX2, FMA, F16C and AVX-VNNI flags: CPUs with AVX-VNNI but no AVX-512 (Intel since
// Alder Lake, the N100 class among them).
#include "simd/quant_dot_avx2_r16_impl.h"

namespace dsinfer::simd::detail {

void add_r16_avxvnni(Kernels& k) noexcept {
  k.gemm_q4_0_r16 = gemm_r16<true, true>;
  k.gemm_q8_0_r16 = gemm_r16<true, false>;
  k.r16_native = true;
}

}  // namespace dsinfer::simd::detail
