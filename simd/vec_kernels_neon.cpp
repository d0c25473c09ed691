// VecKernels for AArch64 NEON.
#include "simd/vec_kernels_impl.h"
#include "simd/vec_kernels_isa.h"

namespace dsinfer::simd::detail {
const VecKernels& vec_kernels_neon() noexcept {
  static constexpr VecKernels k = VecImpl<xsimd::neon64>::table("neon");
  return k;
}
}  // namespace dsinfer::simd::detail
