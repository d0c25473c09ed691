// Float vector kernels of the fast path (attention over the latent cache, norms, SwiGLU),
// written once with xsimd and compiled per ISA; the table follows the quantized kernels' ISA
// (quant_kernels().isa), so DSINFER_ISA switches both together.
//
// Every function sums in an order fixed by n and the ISA alone, so a result never depends on
// how work was split between threads. Nothing allocates; all are noexcept.
#pragma once
#include <cstdint>

#include "quant/blocks.h"

namespace dsinfer::simd {

struct VecKernels {
  float (*dot)(const float* a, const float* b, int64_t n) noexcept;
  // y[0..n) += alpha * x
  void (*axpy)(float alpha, const float* x, float* y, int64_t n) noexcept;
  // out[h] = dot(q + h * ldq, row, n) for h < nq: one pass over `row` serves every query.
  void (*dot_many)(const float* q, int64_t ldq, int64_t nq, const float* row, int64_t n, float* out) noexcept;
  // o[h][0..n) += sum over s < ns of p[h * ldp + s] * rows[s][0..n), for h < nh: attention's
  // weighted sum of values, accumulated in registers (each row is read once per group of heads,
  // o is written once).
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
  const char* isa;
};

// The table matching quant_kernels().isa.
const VecKernels& vec_kernels() noexcept;
// One ISA's table, or nullptr (unknown, not compiled in, or unsupported by this CPU).
const VecKernels* vec_kernels_for(const char* isa) noexcept;

// Physical cores (libcpuinfo), at least 1: the default thread count.
int physical_cores() noexcept;

}  // namespace dsinfer::simd
