// The float kernels in plain C++: the reference the ISA versions are tested against, and the
// fallback on any CPU.
#include <cmath>
#include <cstring>

#include "simd/half.h"
#include "simd/kernels_isa.h"
#include "simd/row_convert.h"
#include "simd/scalar_ops.h"

namespace dsinfer::simd::detail {
namespace {

struct Scalar {
  static float dot(const float* a, const float* b, int64_t n) noexcept { return dot_f32(a, b, n); }
  static void axpy(float alpha, const float* x, float* y, int64_t n) noexcept { axpy_f32(alpha, x, y, n); }
  static void dot_tile(const float* q, int64_t ldq, int64_t nq, const float* const* rows, int64_t ns, int64_t n,
                       float* out, int64_t ldo) noexcept {
    for (int64_t h = 0; h < nq; ++h)
      for (int64_t s = 0; s < ns; ++s) out[h * ldo + s] = dot(q + h * ldq, rows[s], n);
  }
  static void weighted_sum(const float* p, int64_t ldp, int64_t nh, const float* const* rows, int64_t ns, int64_t n,
                           float* o) noexcept {
    for (int64_t h = 0; h < nh; ++h)
      for (int64_t i = 0; i < n; ++i) {
        float acc = o[h * n + i];
        for (int64_t s = 0; s < ns; ++s) acc += p[h * ldp + s] * rows[s][i];
        o[h * n + i] = acc;
      }
  }
  static float exp_shift_sum(float* x, int64_t n, float shift) noexcept {
    float s = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      x[i] = std::exp(x[i] - shift);
      s += x[i];
    }
    return s;
  }
  static void silu_mul(float* g, const float* u, int64_t n) noexcept {
    for (int64_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }
  static constexpr auto bf16_to_f32 = bf16_row_to_f32;
  static constexpr auto q8_0_to_f32 = q8_0_row_to_f32;
};

}  // namespace

void add_vec_scalar(Kernels& k) noexcept { set_vec_kernels<Scalar>(k); }

}  // namespace dsinfer::simd::detail
