// The xsimd implementation of the float kernels, instantiated once per ISA by the vec_kernels_*.cpp
// files (each compiled with its ISA's flags). Include only from those.
#pragma once
#include <xsimd/xsimd.hpp>

#include <array>
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

  // Which lane of xsimd::haddp's result holds which input's sum: xsimd 8.1's AVX-512 version
  // returns them in a shuffled order, so the order is read once from a probe instead of assumed.
  static const std::array<int64_t, W>& haddp_lanes() noexcept {
    static const std::array<int64_t, W> lanes = [] {
      B rows[W];
      for (int64_t k = 0; k < W; ++k) rows[k] = B(float(k));
      alignas(64) float sums[W];
      xsimd::haddp(rows).store_aligned(sums);
      std::array<int64_t, W> at{};
      for (int64_t i = 0; i < W; ++i) at[size_t(int64_t(sums[i]) / W)] = i;  // lane i holds W * k
      return at;
    }();
    return lanes;
  }

  // A tile of PH queries x 4 rows keeps W accumulators (one register's lanes' worth), summed
  // across lanes all at once at the end (haddp): per result a fraction of one reduction.
  static void dot_tile(const float* q, int64_t ldq, int64_t nq, const float* const* rows, int64_t ns, int64_t n,
                       float* out, int64_t ldo) noexcept {
    constexpr int64_t PS = 4, PH = W / PS;
    int64_t h = 0;
    if constexpr (PH >= 1) {
      for (; h + PH <= nq; h += PH) {
        int64_t s = 0;
        for (; s + PS <= ns; s += PS) {
          B acc[W];
          for (int64_t k = 0; k < W; ++k) acc[k] = B(0.0f);
          int64_t i = 0;
          for (; i + W <= n; i += W) {
            B r[PS];
            for (int64_t j = 0; j < PS; ++j) r[j] = B::load_unaligned(rows[s + j] + i);
            for (int64_t hh = 0; hh < PH; ++hh) {
              const B qv = B::load_unaligned(q + (h + hh) * ldq + i);
              for (int64_t j = 0; j < PS; ++j) acc[hh * PS + j] = xsimd::fma(qv, r[j], acc[hh * PS + j]);
            }
          }
          alignas(64) float sums[W];
          xsimd::haddp(acc).store_aligned(sums);
          const auto& lane = haddp_lanes();
          for (int64_t hh = 0; hh < PH; ++hh)
            for (int64_t j = 0; j < PS; ++j) {
              float v = sums[lane[size_t(hh * PS + j)]];
              for (int64_t t = i; t < n; ++t) v += q[(h + hh) * ldq + t] * rows[s + j][t];
              out[(h + hh) * ldo + s + j] = v;
            }
        }
        for (; s < ns; ++s)
          for (int64_t hh = 0; hh < PH; ++hh) out[(h + hh) * ldo + s] = dot(q + (h + hh) * ldq, rows[s], n);
      }
    }
    for (; h < nq; ++h)
      for (int64_t s = 0; s < ns; ++s) out[h * ldo + s] = dot(q + h * ldq, rows[s], n);
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
