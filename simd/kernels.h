// The CPU kernels of the engine, one table per ISA (scalar, avx2, avx512vnni, neon) behind one
// lookup: quantized products over GGUF blocks as stored, and the float vector kernels.
//
// Quantized products: Q8_0 or Q4_0 weights against Q8_0 activations. Per block the 32 level
// products are summed exactly in int32, then multiplied by float(d_w) * float(d_x) and
// accumulated in float. The integer part is exact everywhere; only the float accumulation
// order differs between ISAs:
//  - scalar: blocks in order, one float accumulator (the reference);
//  - avx2: 8 float lanes per token (each lane sums one eighth of every block's products);
//  - avx512vnni: two blocks per 512-bit step, 16 lanes per token;
//  - neon: 4 lanes per token;
// so ISA results agree with scalar to a few ulps of sum |terms|, not bit for bit. Activation
// levels must be in -127..127 (quantize_row_q8_0_act never gives -128): the SIMD kernels move
// signs between operands, which overflows on -128.
//
// Float kernels sum in an order fixed by n and the ISA alone, so a result never depends on
// how work was split between threads. Nothing allocates; every kernel is noexcept.
#pragma once
#include <cstdint>

#include "simd/blocks.h"
#include "simd/latent_scores.h"

namespace dsinfer::simd {

// The widest M a GEMM call keeps in registers; larger n_tok is processed in groups of this.
inline constexpr int64_t kGemmMaxTokens = 16;

struct Kernels {
  // ---- quantized
  float (*dot_q8_0_q8_0)(const BlockQ8_0* w, const BlockQ8_0* x, int64_t nblocks) noexcept;
  float (*dot_q4_0_q8_0)(const BlockQ4_0* w, const BlockQ8_0* x, int64_t nblocks) noexcept;
  // Same bytes as quantize_row_q8_0 (simd/blocks.h) for finite input; n a multiple of 32.
  void (*quantize_row_q8_0_act)(const float* x, BlockQ8_0* y, int64_t n) noexcept;
  // Y[t * rows + r] = dot(W row r, X token t) for r in [row0, row1), all t < n_tok. Row r's
  // blocks are W[r * blocks_per_row ...], token t's are X[t * blocks_per_row ...]. Each weight
  // block is loaded once per group of kGemmMaxTokens tokens. Disjoint row ranges write
  // disjoint parts of Y, so threads can split rows.
  void (*gemm_q8_0)(const BlockQ8_0* W, int64_t rows, int64_t blocks_per_row, const BlockQ8_0* X, int64_t n_tok,
                    float* Y, int64_t row0, int64_t row1) noexcept;
  void (*gemm_q4_0)(const BlockQ4_0* W, int64_t rows, int64_t blocks_per_row, const BlockQ8_0* X, int64_t n_tok,
                    float* Y, int64_t row0, int64_t row1) noexcept;
  // The same over weights in row groups (simd/repack.h): W is row group 0, Y[t * ldy + r] for
  // the rows r of groups [g0, g1). Per row and token the scalar reference's arithmetic in its
  // order (exact int32 per block, fused into one float accumulator): bit-identical on every
  // ISA and for any number of tokens.
  void (*gemm_q4_0_r16)(const uint8_t* W, int64_t blocks_per_row, const BlockQ8_0* X, int64_t n_tok, float* Y,
                        int64_t ldy, int64_t g0, int64_t g1) noexcept;
  void (*gemm_q8_0_r16)(const uint8_t* W, int64_t blocks_per_row, const BlockQ8_0* X, int64_t n_tok, float* Y,
                        int64_t ldy, int64_t g0, int64_t g1) noexcept;
  // True where the row-group kernels are this ISA's own (faster than the stored layout's);
  // elsewhere they are the scalar reference and weights are not repacked.
  bool r16_native;
  // Packs one token's queries (simd/latent_scores.h, pack_latent_query_q8). Same bytes on every
  // ISA.
  void (*latent_pack_q8)(const float* lat, int64_t lat_stride, const float* rope, int64_t rope_stride, float scale,
                         LatentQueryQ8& q) noexcept;
  // Attention scores of a packed query against Q8_0 latent cache rows, integer dots
  // (simd/latent_scores.h): out[h * ldo + s] for h < q.heads, s < ns. Bit-identical on every ISA.
  void (*latent_scores_q8)(const LatentQueryQ8& q, const uint8_t* const* rows, int64_t ns, float* out,
                           int64_t ldo) noexcept;
  // o[h * n + i] = sum over s < ns of p[h * ldp + s] * (row s's value i, converted to float as
  // q8_0_to_f32 does), for h < nh, i < n (a multiple of 16), one fma per term in order of s:
  // attention's weighted sum straight from Q8_0 latent cache rows. Bit-identical on every ISA
  // where latent_wsum_exact; where not (avx512bf16, avx512amx), each p times its row's block
  // scale is rounded to bf16 and the sum is taken in another order (relative error 2^-8 a term
  // at most).
  void (*latent_wsum_q8)(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns, int64_t n,
                         float* o) noexcept;
  bool latent_wsum_exact;
  // True where the three latent kernels are this ISA's own; elsewhere it is the scalar reference, slower
  // than converting the rows and using the float kernels.
  bool latent_scores_native;

  // ---- float
  float (*dot)(const float* a, const float* b, int64_t n) noexcept;
  // y[0..n) += alpha * x
  void (*axpy)(float alpha, const float* x, float* y, int64_t n) noexcept;
  // out[h * ldo + s] = dot(q + h * ldq, rows[s], n) for h < nq, s < ns: attention's scores of
  // several queries against several cached rows, each row and query loaded once a tile.
  void (*dot_tile)(const float* q, int64_t ldq, int64_t nq, const float* const* rows, int64_t ns, int64_t n,
                   float* out, int64_t ldo) noexcept;
  // o[h][0..n) += sum over s < ns of p[h * ldp + s] * rows[s][0..n), for h < nh: attention's
  // weighted sum of values, accumulated in registers (each row is read once per group of
  // heads, o is written once).
  void (*weighted_sum)(const float* p, int64_t ldp, int64_t nh, const float* const* rows, int64_t ns, int64_t n,
                       float* o) noexcept;
  // x[i] = exp(x[i] - shift); returns the sum.
  float (*exp_shift_sum)(float* x, int64_t n, float shift) noexcept;
  // Latent cache rows back to float: bf16 (the top half of a float32) and Q8_0 blocks (n a
  // multiple of 32).
  void (*bf16_to_f32)(const uint16_t* x, float* y, int64_t n) noexcept;
  void (*q8_0_to_f32)(const BlockQ8_0* x, float* y, int64_t n) noexcept;
  // g[i] = silu(g[i]) * u[i]
  void (*silu_mul)(float* g, const float* u, int64_t n) noexcept;

  const char* isa;  // "scalar", "avx2", "avx2vnni", "avx512vnni", "avx512bf16", "avx512amx" or "neon"
};

// The best table for this CPU, chosen at the first call. DSINFER_ISA=scalar|avx2|avx512vnni|
// neon forces one; a value that is unknown or unavailable here is reported on stderr once and
// ignored.
const Kernels& kernels() noexcept;
// The table of one ISA by name, or nullptr when it is unknown, not compiled in, or not
// supported by this CPU. For tests and benchmarks.
const Kernels* kernels_for(const char* isa) noexcept;

}  // namespace dsinfer::simd
