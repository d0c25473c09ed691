// Internal: the per-ISA VecKernels tables (one translation unit each, built with that ISA's
// flags). Only the dispatch in quant_dispatch.cpp calls these, after checking the CPU.
#pragma once
#include "simd/vec_kernels.h"

namespace dsinfer::simd::detail {

const VecKernels& vec_kernels_scalar() noexcept;
#if defined(DSINFER_HAVE_X86_KERNELS)
const VecKernels& vec_kernels_avx2() noexcept;
const VecKernels& vec_kernels_avx512() noexcept;
#endif
#if defined(DSINFER_HAVE_NEON_KERNELS)
const VecKernels& vec_kernels_neon() noexcept;
#endif

}  // namespace dsinfer::simd::detail
