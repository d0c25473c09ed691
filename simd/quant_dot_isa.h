// Internal: the per-ISA tables, each defined in its own translation unit (compiled with that
// ISA's flags). Only quant_dispatch.cpp calls these, and only after checking the CPU.
#pragma once
#include "simd/quant_dot.h"

namespace dsinfer::simd::detail {

const QuantKernels& quant_kernels_scalar() noexcept;
#if defined(DSINFER_HAVE_X86_KERNELS)
const QuantKernels& quant_kernels_avx2() noexcept;
const QuantKernels& quant_kernels_avx512() noexcept;
#endif
#if defined(DSINFER_HAVE_NEON_KERNELS)
const QuantKernels& quant_kernels_neon() noexcept;
#endif

}  // namespace dsinfer::simd::detail
