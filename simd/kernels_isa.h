// Internal: each ISA's translation units fill their part of that ISA's table (quantized and
// float kernels are compiled separately, each file with its ISA's flags). Only dispatch.cpp
// calls these, and only after checking the CPU.
#pragma once
#include "simd/kernels.h"

namespace dsinfer::simd::detail {

void add_quant_scalar(Kernels& k) noexcept;
void add_vec_scalar(Kernels& k) noexcept;
#if defined(DSINFER_HAVE_X86_KERNELS)
void add_quant_avx2(Kernels& k) noexcept;
void add_vec_avx2(Kernels& k) noexcept;
void add_quant_avx512(Kernels& k) noexcept;
void add_vec_avx512(Kernels& k) noexcept;
#endif
#if defined(DSINFER_HAVE_NEON_KERNELS)
void add_quant_neon(Kernels& k) noexcept;
void add_vec_neon(Kernels& k) noexcept;
#endif

}  // namespace dsinfer::simd::detail
