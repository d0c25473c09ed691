// Internal: each ISA's translation units fill their part of that ISA's table (quantized and
// float kernels are compiled separately, each file with its ISA's flags). Only dispatch.cpp
// calls these, and only after checking the CPU.
#pragma once
#include "simd/kernels.h"

namespace dsinfer::simd::detail {

// One row against one token through a GEMM kernel: every ISA's dot product.
template <auto Gemm, class Block>
float dot_by_gemm(const Block* w, const BlockQ8_0* x, int64_t nblocks) noexcept {
  float y = 0.0f;
  Gemm(w, 1, nblocks, x, 1, &y, 0, 1);
  return y;
}

// Sets a table's quantized kernels from its GEMMs and activation quantizer.
template <auto Gemm8, auto Gemm4, auto QuantAct>
void set_quant_kernels(Kernels& k) noexcept {
  k.gemm_q8_0 = Gemm8;
  k.gemm_q4_0 = Gemm4;
  k.dot_q8_0_q8_0 = dot_by_gemm<Gemm8, BlockQ8_0>;
  k.dot_q4_0_q8_0 = dot_by_gemm<Gemm4, BlockQ4_0>;
  k.quantize_row_q8_0_act = QuantAct;
}

// Sets a table's float kernels from a type whose static functions bear the fields' names.
template <class V>
void set_vec_kernels(Kernels& k) noexcept {
  k.dot = V::dot;
  k.axpy = V::axpy;
  k.dot_tile = V::dot_tile;
  k.weighted_sum = V::weighted_sum;
  k.exp_shift_sum = V::exp_shift_sum;
  k.bf16_to_f32 = V::bf16_to_f32;
  k.q8_0_to_f32 = V::q8_0_to_f32;
  k.silu_mul = V::silu_mul;
}

void add_quant_scalar(Kernels& k) noexcept;  // also the row-group reference kernels
// A packed query's block b of head h (g = h / 16): its 32 levels in order, scale and level sum
// put where the layout wants them; and head h's rope query. Shared by every ISA's packing.
void store_packed_block(LatentQueryQ8& q, int64_t h, int64_t b, const int8_t* levels, float d, int32_t sum) noexcept;
void store_packed_rope(LatentQueryQ8& q, int64_t h, const float* rope, int64_t rope_stride) noexcept;
void latent_pack_q8_scalar(const float* lat, int64_t lat_stride, const float* rope, int64_t rope_stride, float scale,
                           LatentQueryQ8& q) noexcept;
void latent_scores_q8_scalar(const LatentQueryQ8& q, const uint8_t* const* rows, int64_t ns, float* out,
                             int64_t ldo) noexcept;
void latent_wsum_q8_scalar(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns,
                           int64_t n, float* o) noexcept;
void add_vec_scalar(Kernels& k) noexcept;
#if defined(DSINFER_HAVE_X86_KERNELS)
void add_quant_avx2(Kernels& k) noexcept;
void add_vec_avx2(Kernels& k) noexcept;
void add_quant_avx512(Kernels& k) noexcept;
void add_vec_avx512(Kernels& k) noexcept;
void add_r16_avx512(Kernels& k) noexcept;
void add_r16_amx(Kernels& k) noexcept;
void add_r16_avx2(Kernels& k) noexcept;  // row-group products with vpmaddubsw
// Per Q8_0 block X[i], i < n: its scale as float and 8 * the sum of its levels (the row-group
// products' per-token inputs; AVX2, so the AVX-512 products call it too).
void prep_q8_scales_sums(const BlockQ8_0* X, int64_t n, float* dx, int32_t* sum8) noexcept;
void add_latent_scores_avx2(Kernels& k) noexcept;  // the integer scores and the weighted sum from levels
void add_r16_avxvnni(Kernels& k) noexcept;  // the avx2vnni table's: add_r16_avx2's with vpdpbusd
void add_latent_scores_avx512(Kernels& k) noexcept;  // after add_r16_avx512: few-token calls stay on VNNI
// After add_latent_scores_avx512: the weighted sum in bf16 pairs (not bit-identical).
void add_latent_wsum_bf16(Kernels& k) noexcept;
// The AVX-512 float weighted sum by name, for the bf16 one to hand what it does not take.
void latent_wsum_q8_avx512(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns, int64_t n,
                           float* o) noexcept;
// The AVX-512 VNNI row-group products by name, for the AMX ones to hand few tokens to.
void gemm_q4_0_r16_vnni(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy,
                        int64_t g0, int64_t g1) noexcept;
void gemm_q8_0_r16_vnni(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy,
                        int64_t g0, int64_t g1) noexcept;
#endif
#if defined(DSINFER_HAVE_NEON_KERNELS)
void add_quant_neon(Kernels& k) noexcept;
void add_vec_neon(Kernels& k) noexcept;
void add_r16_neon(Kernels& k) noexcept;  // row-group products with sdot by element
void add_latent_scores_neon(Kernels& k) noexcept;  // the query packing, integer scores, weighted sum from levels
#endif

}  // namespace dsinfer::simd::detail
