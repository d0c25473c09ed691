// The float kernels for AVX2 + FMA (compiled with -mavx2 -mfma).
#include "simd/vec_kernels_impl.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd::detail {
void add_vec_avx2(Kernels& k) noexcept { set_vec_kernels<VecImpl<xsimd::fma3<xsimd::avx2>>>(k); }
}  // namespace dsinfer::simd::detail
