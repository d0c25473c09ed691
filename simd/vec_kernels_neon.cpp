// The float kernels for AArch64 NEON.
#include "simd/vec_kernels_impl.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd::detail {
void add_vec_neon(Kernels& k) noexcept { set_vec_kernels<VecImpl<xsimd::neon64>>(k); }
}  // namespace dsinfer::simd::detail
