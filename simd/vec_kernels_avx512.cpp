// The float kernels for AVX-512F (compiled with the AVX-512 flags).
#include "simd/avx512_intrinsics.h"

#include "simd/vec_kernels_impl.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd::detail {
void add_vec_avx512(Kernels& k) noexcept { set_vec_kernels<VecImpl<xsimd::avx512f>>(k); }
}  // namespace dsinfer::simd::detail
