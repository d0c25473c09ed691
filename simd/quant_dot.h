// Quantized dot products over GGUF blocks as stored (no repacking): Q8_0 or Q4_0 weights
// against Q8_0 activations, with a scalar reference and ISA versions chosen at run time.
//
// Semantics (every ISA): per block, the 32 level products are summed exactly in int32, then
// multiplied by float(d_w) * float(d_x) and accumulated in float. The integer part is exact
// everywhere; only the float accumulation order differs:
//  - scalar: blocks in order, one float accumulator (the reference);
//  - avx2: 8 float lanes per token (each lane sums one eighth of every block's products), fma,
//    lanes added at the end;
//  - avx512vnni: two blocks per 512-bit step (lanes 0..7 one block, 8..15 the next), 16 lanes
//    per token, fma, reduced at the end;
//  - neon: 4 lanes per token, fma, reduced at the end.
// So ISA results agree with scalar to a few ulps of sum |terms|, not bit for bit.
//
// Activation levels must be in -127..127 (quantize_row_q8_0 and quantize_row_q8_0_act never
// produce -128): the SIMD kernels move signs between operands, which overflows on -128.
// All functions are noexcept; nothing allocates.
#pragma once
#include <cstdint>

#include "quant/blocks.h"

namespace dsinfer::simd {

using dsinfer::BlockQ4_0;
using dsinfer::BlockQ8_0;

// The widest M a GEMM call keeps in registers; larger n_tok is processed in chunks of this.
inline constexpr int64_t kGemmMaxTokens = 16;

using DotQ8Fn = float (*)(const BlockQ8_0* w, const BlockQ8_0* x, int64_t nblocks) noexcept;
using DotQ4Fn = float (*)(const BlockQ4_0* w, const BlockQ8_0* x, int64_t nblocks) noexcept;
using QuantActFn = void (*)(const float* x, BlockQ8_0* y, int64_t n) noexcept;
// Y[t * rows + r] = dot(W row r, X token t) for r in [row0, row1), all t < n_tok. Row r's
// blocks are W[r * blocks_per_row ...], token t's are X[t * blocks_per_row ...]. Each weight
// block is loaded once per call and serves every token (for n_tok <= kGemmMaxTokens).
// Disjoint row ranges write disjoint parts of Y, so threads can split rows.
using GemmQ8Fn = void (*)(const BlockQ8_0* W, int64_t rows, int64_t blocks_per_row,
                          const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t row0,
                          int64_t row1) noexcept;
using GemmQ4Fn = void (*)(const BlockQ4_0* W, int64_t rows, int64_t blocks_per_row,
                          const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t row0,
                          int64_t row1) noexcept;

struct QuantKernels {
  DotQ8Fn dot_q8_0_q8_0;
  DotQ4Fn dot_q4_0_q8_0;
  QuantActFn quantize_row_q8_0_act;
  GemmQ8Fn gemm_q8_0;
  GemmQ4Fn gemm_q4_0;
  const char* isa;  // "scalar", "avx2", "avx512vnni" or "neon"
};

// The best table for this CPU (libcpuinfo), chosen at the first call. DSINFER_ISA=scalar|avx2|
// avx512vnni|neon forces one; a value that is unknown or unavailable here is reported on
// stderr once and ignored.
const QuantKernels& quant_kernels() noexcept;
// The table of one ISA by name, or nullptr when it is unknown, not compiled in, or not
// supported by this CPU. For tests and benchmarks.
const QuantKernels* quant_kernels_for(const char* isa) noexcept;

// Convenience wrappers through quant_kernels().
float dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* x, int64_t nblocks) noexcept;
float dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* x, int64_t nblocks) noexcept;
// Same bytes as dsinfer::quantize_row_q8_0 for finite input; n a multiple of 32.
void quantize_row_q8_0_act(const float* x, BlockQ8_0* y, int64_t n) noexcept;
void gemm_q8_0(const BlockQ8_0* W, int64_t rows, int64_t blocks_per_row, const BlockQ8_0* X,
               int64_t n_tok, float* Y, int64_t row0, int64_t row1) noexcept;
void gemm_q4_0(const BlockQ4_0* W, int64_t rows, int64_t blocks_per_row, const BlockQ8_0* X,
               int64_t n_tok, float* Y, int64_t row0, int64_t row1) noexcept;

}  // namespace dsinfer::simd
