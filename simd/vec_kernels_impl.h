// The xsimd implementation of the float kernels, instantiated once per ISA by the vec_kernels_*.cpp
// files (each compiled with its ISA's flags). Include only from those.
#pragma once
#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstring>

#include "simd/half.h"
#include "simd/kernels.h"
#include "simd/row_convert.h"

namespace dsinfer::simd::detail {

template <class Arch>
struct VecImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr int64_t W = int64_t(B::size);

  static float dot(const float* a, const float* b, int64_t n) noexcept {
    B s0(0.0f), s1(0.0f);
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
      s1 = xsimd::fma(B::load_unaligned(a + i + W), B::load_unaligned(b + i + W), s1);
    }
    for (; i + W <= n; i += W) s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
    float s = xsimd::hadd(s0 + s1);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
  }

  static void axpy(float alpha, const float* x, float* y, int64_t n) noexcept {
    const B a(alpha);
    int64_t i = 0;
    for (; i + W <= n; i += W) xsimd::fma(a, B::load_unaligned(x + i), B::load_unaligned(y + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] += alpha * x[i];
  }

  // Four queries per pass: each row vector loaded once feeds four fmas.
  static void dot_many(const float* q, int64_t ldq, int64_t nq, const float* row, int64_t n, float* out) noexcept {
    int64_t h = 0;
    for (; h + 4 <= nq; h += 4) {
      const float* q0 = q + h * ldq;
      const float *q1 = q0 + ldq, *q2 = q1 + ldq, *q3 = q2 + ldq;
      B a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
      int64_t i = 0;
      for (; i + W <= n; i += W) {
        const B r = B::load_unaligned(row + i);
        a0 = xsimd::fma(B::load_unaligned(q0 + i), r, a0);
        a1 = xsimd::fma(B::load_unaligned(q1 + i), r, a1);
        a2 = xsimd::fma(B::load_unaligned(q2 + i), r, a2);
        a3 = xsimd::fma(B::load_unaligned(q3 + i), r, a3);
      }
      float s0 = xsimd::hadd(a0), s1 = xsimd::hadd(a1), s2 = xsimd::hadd(a2),
            s3 = xsimd::hadd(a3);
      for (; i < n; ++i) {
        s0 += q0[i] * row[i];
        s1 += q1[i] * row[i];
        s2 += q2[i] * row[i];
        s3 += q3[i] * row[i];
      }
      out[h] = s0;
      out[h + 1] = s1;
      out[h + 2] = s2;
      out[h + 3] = s3;
    }
    for (; h < nq; ++h) out[h] = dot(q + h * ldq, row, n);
  }

  template <int NH>
  static void weighted_sum_heads(const float* p, int64_t ldp, const float* const* rows, int64_t ns, int64_t n,
                                 float* o) noexcept {
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      B a[NH][2];
      for (int k = 0; k < NH; ++k) {
        a[k][0] = B::load_unaligned(o + k * n + i);
        a[k][1] = B::load_unaligned(o + k * n + i + W);
      }
      for (int64_t s = 0; s < ns; ++s) {
        const B r0 = B::load_unaligned(rows[s] + i), r1 = B::load_unaligned(rows[s] + i + W);
        for (int k = 0; k < NH; ++k) {
          const B pk(p[k * ldp + s]);
          a[k][0] = xsimd::fma(pk, r0, a[k][0]);
          a[k][1] = xsimd::fma(pk, r1, a[k][1]);
        }
      }
      for (int k = 0; k < NH; ++k) {
        a[k][0].store_unaligned(o + k * n + i);
        a[k][1].store_unaligned(o + k * n + i + W);
      }
    }
    for (; i < n; ++i)
      for (int k = 0; k < NH; ++k) {
        float acc = o[k * n + i];
        for (int64_t s = 0; s < ns; ++s) acc += p[k * ldp + s] * rows[s][i];
        o[k * n + i] = acc;
      }
  }

  static void weighted_sum(const float* p, int64_t ldp, int64_t nh, const float* const* rows, int64_t ns, int64_t n,
                           float* o) noexcept {
    int64_t h = 0;
    for (; h + 4 <= nh; h += 4) weighted_sum_heads<4>(p + h * ldp, ldp, rows, ns, n, o + h * n);
    for (; h < nh; ++h) weighted_sum_heads<1>(p + h * ldp, ldp, rows, ns, n, o + h * n);
  }

  static float exp_shift_sum(float* x, int64_t n, float shift) noexcept {
    const B sh(shift);
    B acc(0.0f);
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      const B e = xsimd::exp(B::load_unaligned(x + i) - sh);
      e.store_unaligned(x + i);
      acc += e;
    }
    float s = xsimd::hadd(acc);
    for (; i < n; ++i) {
      x[i] = std::exp(x[i] - shift);
      s += x[i];
    }
    return s;
  }

  static void silu_mul(float* g, const float* u, int64_t n) noexcept {
    const B one(1.0f);
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      const B v = B::load_unaligned(g + i);
      (v / (one + xsimd::exp(-v)) * B::load_unaligned(u + i)).store_unaligned(g + i);
    }
    for (; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }

  static constexpr auto bf16_to_f32 = bf16_row_to_f32;
  static constexpr auto q8_0_to_f32 = q8_0_row_to_f32;
};

}  // namespace dsinfer::simd::detail
