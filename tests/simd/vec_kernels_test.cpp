// Every ISA's Kernels against the scalar table, on random sizes with tails. Float sums in a
// different order agree to a few ulps of sum |terms|; exp-based ones to a relative 1e-6.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "simd/blocks.h"
#include "quant/dtype.h"
#include "simd/kernels.h"
#include "tests/simd/kernels_isa_test.h"

namespace dsinfer::simd {
namespace {

std::vector<float> random_vec(std::mt19937& g, int64_t n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(g);
  return v;
}

double abs_dot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(double(a[i]) * double(b[i]));
  return s;
}

class VecKernelsIsa : public test::KernelsIsaTest {};

TEST_P(VecKernelsIsa, MatchesScalar) {
  std::mt19937 g(7);
  for (int64_t n : {1, 3, 15, 16, 17, 31, 32, 33, 64, 100, 512, 576, 1000}) {
    const auto a = random_vec(g, n, 1.0f), b = random_vec(g, n, 2.0f);
    const double tol = 1e-6 * abs_dot(a.data(), b.data(), n) + 1e-30;
    EXPECT_NEAR(k_->dot(a.data(), b.data(), n), ref_.dot(a.data(), b.data(), n), tol) << n;

    auto y1 = random_vec(g, n, 1.0f), y2 = y1;
    k_->axpy(0.37f, a.data(), y1.data(), n);
    ref_.axpy(0.37f, a.data(), y2.data(), n);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y1[size_t(i)], y2[size_t(i)], 1e-6 * (1 + std::fabs(y2[size_t(i)])));

    for (int64_t nq : {1, 3, 4, 5, 16})
      for (int64_t ns : {1, 4, 7, 9}) {  // whole tiles of 4 rows and what is left over
        const int64_t ld = n + 3, ldo = ns + 2;
        const auto q = random_vec(g, nq * ld, 1.0f);
        std::vector<std::vector<float>> rv;
        std::vector<const float*> rows;
        for (int64_t s = 0; s < ns; ++s) rv.push_back(random_vec(g, n, 1.0f));
        for (const auto& r : rv) rows.push_back(r.data());
        std::vector<float> o1(static_cast<size_t>(nq * ldo), -7.0f), o2 = o1;
        k_->dot_tile(q.data(), ld, nq, rows.data(), ns, n, o1.data(), ldo);
        ref_.dot_tile(q.data(), ld, nq, rows.data(), ns, n, o2.data(), ldo);
        for (int64_t h = 0; h < nq; ++h)
          for (int64_t s = 0; s < ldo; ++s) {
            const size_t i = size_t(h * ldo + s);
            if (s >= ns) {
              EXPECT_EQ(o1[i], -7.0f) << "wrote past the rows";
              continue;
            }
            EXPECT_NEAR(o1[i], o2[i], 1e-6 * abs_dot(q.data() + h * ld, rows[size_t(s)], n) + 1e-30)
                << "n " << n << " nq " << nq << " ns " << ns << " h " << h << " s " << s;
          }
      }

    for (int64_t nh : {1, 3, 4, 5, 16})
      for (int64_t ns : {1, 7, 33}) {
        const auto p = random_vec(g, nh * (ns + 2), 1.0f);
        std::vector<std::vector<float>> rv;
        std::vector<const float*> rows;
        for (int64_t s = 0; s < ns; ++s) rv.push_back(random_vec(g, n, 1.0f));
        for (const auto& r : rv) rows.push_back(r.data());
        auto o1 = random_vec(g, nh * n, 1.0f), o2 = o1;
        k_->weighted_sum(p.data(), ns + 2, nh, rows.data(), ns, n, o1.data());
        ref_.weighted_sum(p.data(), ns + 2, nh, rows.data(), ns, n, o2.data());
        for (int64_t h = 0; h < nh; ++h)
          for (int64_t i = 0; i < n; ++i) {
            double mag = std::fabs(o2[size_t(h * n + i)]);
            for (int64_t s = 0; s < ns; ++s) mag += std::fabs(p[size_t(h * (ns + 2) + s)] * rv[size_t(s)][size_t(i)]);
            ASSERT_NEAR(o1[size_t(h * n + i)], o2[size_t(h * n + i)], 1e-6 * mag + 1e-30)
                << "n " << n << " nh " << nh << " ns " << ns;
          }
      }

    auto e1 = random_vec(g, n, 3.0f), e2 = e1;
    const float s1 = k_->exp_shift_sum(e1.data(), n, 2.5f), s2 = ref_.exp_shift_sum(e2.data(), n, 2.5f);
    EXPECT_NEAR(s1, s2, 2e-6 * s2) << n;
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(e1[size_t(i)], e2[size_t(i)], 2e-6 * e2[size_t(i)]);

    auto g1 = random_vec(g, n, 4.0f), g2 = g1;
    k_->silu_mul(g1.data(), b.data(), n);
    ref_.silu_mul(g2.data(), b.data(), n);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(g1[size_t(i)], g2[size_t(i)], 2e-6 * (1e-3 + std::fabs(g2[size_t(i)])));
  }
}

TEST_P(VecKernelsIsa, CacheRowConversionsAreExact) {
  std::mt19937 g(3);
  for (int64_t n : {32, 64, 160, 512, 576}) {
    const auto x = random_vec(g, n, 3.0f);
    std::vector<uint16_t> b(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) b[size_t(i)] = f32_to_bf16(x[size_t(i)]);
    std::vector<float> y1(static_cast<size_t>(n)), y2(static_cast<size_t>(n));
    k_->bf16_to_f32(b.data(), y1.data(), n);
    ref_.bf16_to_f32(b.data(), y2.data(), n);
    EXPECT_EQ(y1, y2);
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(y2[size_t(i)], bf16_to_f32(b[size_t(i)]));
    std::vector<BlockQ8_0> q(static_cast<size_t>(n / 32));
    quantize_row_q8_0(x.data(), q.data(), n);
    std::vector<float> z(static_cast<size_t>(n));
    dequantize_row_q8_0(q.data(), z.data(), n);
    k_->q8_0_to_f32(q.data(), y1.data(), n);
    EXPECT_EQ(y1, z);
  }
}

TEST(Kernels, KnownValues) {
  for (const char* isa : {"scalar", "avx2", "avx2vnni", "avx512vnni", "neon"}) {
    const Kernels* k = kernels_for(isa);
    if (!k) continue;
    std::vector<float> ones(37, 1.0f), x(37);
    for (int i = 0; i < 37; ++i) x[size_t(i)] = float(i);
    EXPECT_EQ(k->dot(ones.data(), x.data(), 37), 666.0f) << isa;  // 0+1+...+36, exact in float
    std::vector<float> z(19, 0.0f);
    EXPECT_FLOAT_EQ(k->exp_shift_sum(z.data(), 19, 0.0f), 19.0f) << isa;
    std::vector<float> gg{0.0f, 20.0f, -20.0f}, u{1.0f, 1.0f, 1.0f};
    k->silu_mul(gg.data(), u.data(), 3);
    EXPECT_EQ(gg[0], 0.0f) << isa;
    EXPECT_NEAR(gg[1], 20.0f, 1e-5) << isa;
    EXPECT_NEAR(gg[2], 0.0f, 1e-6) << isa;
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, VecKernelsIsa, ::testing::Values("avx2", "avx512vnni", "neon"),
                         [](const auto& i) { return std::string(i.param); });

}  // namespace
}  // namespace dsinfer::simd
