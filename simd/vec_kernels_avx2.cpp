// VecKernels for AVX2 + FMA (compiled with -mavx2 -mfma).
#include "simd/vec_kernels_impl.h"
#include "simd/vec_kernels_isa.h"

namespace dsinfer::simd::detail {
const VecKernels& vec_kernels_avx2() noexcept {
  static constexpr VecKernels k = VecImpl<xsimd::fma3<xsimd::avx2>>::table("avx2");
  return k;
}
}  // namespace dsinfer::simd::detail
