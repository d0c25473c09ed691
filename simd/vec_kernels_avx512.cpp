// The float kernels for AVX-512F (compiled with the AVX-512 flags).
// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized once inlined (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "simd/vec_kernels_impl.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd::detail {
void add_vec_avx512(Kernels& k) noexcept { set_vec_kernels<VecImpl<xsimd::avx512f>>(k); }
}  // namespace dsinfer::simd::detail
