// The integer attention scores (simd/latent_scores.h): every ISA bit-identical to the scalar
// reference, and the reference equal, to float rounding, to the exact sum it defines over the
// packed query; the packed query within half a step of the float one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "simd/blocks.h"
#include "simd/half.h"
#include "simd/kernels.h"
#include "simd/latent_scores.h"
#include "tests/simd/kernels_isa_test.h"
#include "tests/simd/random_blocks.h"

namespace dsinfer::simd {
namespace {

struct Case {
  int64_t heads, latent, rope;
};

class LatentScoresIsa : public test::KernelsIsaTest {};

TEST_P(LatentScoresIsa, BitIdenticalToScalar) {
  std::mt19937 g(11);
  for (const Case c : {Case{16, 512, 64}, Case{1, 32, 0}, Case{2, 64, 1}, Case{20, 96, 64}, Case{128, 512, 64},
                       Case{17, 32, 3}})
    for (int64_t ns : {1, 5, 8, 9, 23, 256}) {
      LatentQueryBuffer buf;
      buf.reserve(c.heads, c.latent, c.rope);
      const auto lat = test::random_floats(g, c.heads * (c.latent + 5), 1.0f);
      const auto rope = test::random_floats(g, c.heads * (c.rope + 2), 1.0f);
      pack_latent_query_q8(lat.data(), c.latent + 5, rope.data(), c.rope + 2, 0.0721f, buf.query());
      const auto rv = test::latent_cache_rows(g, ns, c.latent, c.rope);
      std::vector<const uint8_t*> rows;
      for (const auto& r : rv) rows.push_back(r.data());
      const int64_t ldo = ns + 3;
      std::vector<float> o1(size_t(c.heads * ldo), -7.0f), o2 = o1;
      k_->latent_scores_q8(buf.query(), rows.data(), ns, o1.data(), ldo);
      ref_.latent_scores_q8(buf.query(), rows.data(), ns, o2.data(), ldo);
      ASSERT_EQ(0, std::memcmp(o1.data(), o2.data(), o1.size() * 4))
          << "heads " << c.heads << " latent " << c.latent << " rope " << c.rope << " ns " << ns;
      for (int64_t h = 0; h < c.heads; ++h)
        for (int64_t s = ns; s < ldo; ++s) ASSERT_EQ(o1[size_t(h * ldo + s)], -7.0f) << "wrote past the rows";
    }
}

// The weighted sum from the cached levels: bit-identical to the scalar reference, and equal to
// rounding to this ISA's float weighted sum over the rows converted back (the path it replaces).
// Where the ISA's sum is not exact (bf16 weights), within 2^-8 of the sum of the terms'
// magnitudes of the reference: a weight rounded to bf16 (8 significant bits) is off by 2^-8 of
// itself at most.
TEST_P(LatentScoresIsa, WeightedSumFromLevels) {
  std::mt19937 g(13);
  for (int64_t nh : {1, 2, 3, 7, 16, 21, 128})
    for (int64_t latent : {32, 64, 512})
      for (int64_t ns : {1, 6, 33, 256}) {
        const auto rv = test::latent_cache_rows(g, ns, latent, 64);
        std::vector<const uint8_t*> rows;
        std::vector<std::vector<float>> fv;
        std::vector<const float*> frows;
        for (const auto& r : rv) {
          rows.push_back(r.data());
          fv.emplace_back(size_t(latent));
          k_->q8_0_to_f32(reinterpret_cast<const BlockQ8_0*>(r.data()), fv.back().data(), latent);
        }
        for (const auto& f : fv) frows.push_back(f.data());
        const int64_t ldp = ns + 1;
        const auto p = test::random_floats(g, nh * ldp, 1.0f);
        // The float kernel adds to its output, the level one overwrites it.
        auto o1 = test::random_floats(g, nh * latent, 1.0f), o2 = o1;
        std::vector<float> o3(size_t(nh * latent), 0.0f);
        k_->latent_wsum_q8(p.data(), ldp, nh, rows.data(), ns, latent, o1.data());
        ref_.latent_wsum_q8(p.data(), ldp, nh, rows.data(), ns, latent, o2.data());
        k_->weighted_sum(p.data(), ldp, nh, frows.data(), ns, latent, o3.data());
        const std::string where = "nh " + std::to_string(nh) + " latent " + std::to_string(latent) + " ns " +
                                  std::to_string(ns);
        if (k_->latent_wsum_exact) {
          ASSERT_EQ(0, std::memcmp(o1.data(), o2.data(), o1.size() * 4)) << where;
        }
        // Against the float kernel over the rows converted back: with g++ 12 bit for bit (the
        // same fma chain); clang 14 builds that kernel's chain differently (a few ulps).
        const double tol = k_->latent_wsum_exact ? 1e-6 : 1.0 / 256 + 1e-6;
        for (int64_t h = 0; h < nh; ++h)
          for (int64_t i = 0; i < latent; ++i) {
            double mag = 0;
            for (int64_t s = 0; s < ns; ++s) mag += std::fabs(p[size_t(h * ldp + s)] * fv[size_t(s)][size_t(i)]);
            const size_t at = size_t(h * latent + i);
            ASSERT_NEAR(o1[at], o3[at], tol * mag + 1e-30) << where;
            ASSERT_NEAR(o1[at], o2[at], tol * mag + 1e-30) << where;
          }
      }
}

INSTANTIATE_TEST_SUITE_P(Isa, LatentScoresIsa,
                         ::testing::Values("scalar", "avx2", "avx2vnni", "avx512vnni", "avx512bf16", "avx512amx", "neon"));

// Packing: every ISA's bytes equal the scalar's (heads padded to a group of 16, queries with
// zeros, ties and large values).
TEST_P(LatentScoresIsa, PackedQueryIsTheScalarOne) {
  std::mt19937 g(19);
  for (const Case c : {Case{16, 512, 64}, Case{3, 64, 2}, Case{128, 512, 64}, Case{20, 32, 0}}) {
    auto lat = test::random_floats(g, c.heads * c.latent, 3.0f);
    for (int64_t i = 0; i < c.latent; ++i) lat[size_t(i)] = 0.0f;                    // head 0: all zero
    for (int64_t i = 0; i < 32 && c.heads > 1; ++i) lat[size_t(c.latent + i)] = float(i % 5) - 2.0f;  // ties
    lat[size_t(c.latent * (c.heads - 1))] = 1e30f;
    const auto rope = test::random_floats(g, c.heads * (c.rope + 1), 1.0f);
    LatentQueryBuffer a, b;
    a.reserve(c.heads, c.latent, c.rope);
    b.reserve(c.heads, c.latent, c.rope);
    k_->latent_pack_q8(lat.data(), c.latent, rope.data(), c.rope + 1, 0.3f, a.query());
    ref_.latent_pack_q8(lat.data(), c.latent, rope.data(), c.rope + 1, 0.3f, b.query());
    const LatentQueryQ8 &x = a.query(), &y = b.query();
    const size_t n = size_t(x.groups * x.blocks * kScoreHeads);
    ASSERT_EQ(0, std::memcmp(x.q, y.q, n * 32)) << c.heads;
    ASSERT_EQ(0, std::memcmp(x.d, y.d, n * 4)) << c.heads;
    ASSERT_EQ(0, std::memcmp(x.corr, y.corr, n * 4)) << c.heads;
    ASSERT_EQ(0, std::memcmp(x.rope_q, y.rope_q, size_t(x.groups * x.rope * kScoreHeads) * 4)) << c.heads;
    ASSERT_EQ(x.scale, y.scale);
  }
}

// The reference against the sum it stands for, computed in double from the packed levels and
// the cached blocks; and the packed query against the float one.
TEST(LatentScores, ReferenceIsTheDefinedSum) {
  std::mt19937 g(5);
  const Case c{20, 512, 64};
  const int64_t ns = 37;
  LatentQueryBuffer buf;
  buf.reserve(c.heads, c.latent, c.rope);
  const auto lat = test::random_floats(g, c.heads * c.latent, 2.0f);
  const auto rope = test::random_floats(g, c.heads * c.rope, 1.0f);
  const float scale = 0.125f;
  pack_latent_query_q8(lat.data(), c.latent, rope.data(), c.rope, scale, buf.query());
  const LatentQueryQ8& q = buf.query();
  const auto rv = test::latent_cache_rows(g, ns, c.latent, c.rope);
  std::vector<const uint8_t*> rows;
  for (const auto& r : rv) rows.push_back(r.data());
  std::vector<float> out(size_t(c.heads * ns));
  kernels_for("scalar")->latent_scores_q8(q, rows.data(), ns, out.data(), ns);

  const int64_t nb = c.latent / 32;
  for (int64_t h = 0; h < c.heads; ++h) {
    const int64_t grp = h / kScoreHeads, lane = h % kScoreHeads;
    // Unpacked levels and scales of head h.
    std::vector<double> qv(size_t(c.latent));
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t gb = grp * nb + b;
      const double d = q.d[gb * kScoreHeads + lane];
      int32_t sum = 0;
      for (int j = 0; j < 32; ++j) {
        const int8_t l = q.q[gb * kScoreHeads * 32 + ((j / 4) * kScoreHeads + lane) * 4 + j % 4];
        sum += l;
        qv[size_t(b * 32 + j)] = l * d;
        // Nearest level: within half a step of the float query.
        ASSERT_LE(std::fabs(qv[size_t(b * 32 + j)] - lat[size_t(h * c.latent + b * 32 + j)]), 0.5 * d * (1 + 1e-6));
      }
      ASSERT_EQ(q.corr[gb * kScoreHeads + lane], -128 * sum);
    }
    for (int64_t s = 0; s < ns; ++s) {
      std::vector<BlockQ8_0> blocks(static_cast<size_t>(nb));
      std::memcpy(blocks.data(), rows[size_t(s)], blocks.size() * sizeof(BlockQ8_0));
      double exact = 0, mag = 0;
      for (int64_t i = 0; i < c.latent; ++i) {
        const double v = qv[size_t(i)] * blocks[size_t(i / 32)].qs[i % 32] * fp16_to_f32(blocks[size_t(i / 32)].d);
        exact += v, mag += std::fabs(v);
      }
      for (int64_t j = 0; j < c.rope; ++j) {
        float key;
        std::memcpy(&key, rows[size_t(s)] + nb * 34 + 4 * j, 4);
        const double v = double(rope[size_t(h * c.rope + j)]) * key;
        exact += v, mag += std::fabs(v);
      }
      ASSERT_NEAR(out[size_t(h * ns + s)], scale * exact, scale * mag * 1e-6) << "h " << h << " s " << s;
    }
  }
}

// The scalar weighted sum against the sum in double.
TEST(LatentScores, WeightedSumIsTheDefinedSum) {
  std::mt19937 g(17);
  const int64_t nh = 5, latent = 96, ns = 40;
  const auto rv = test::latent_cache_rows(g, ns, latent, 0);
  std::vector<const uint8_t*> rows;
  for (const auto& r : rv) rows.push_back(r.data());
  const auto p = test::random_floats(g, nh * ns, 1.0f);
  std::vector<float> o(size_t(nh * latent), 0.5f);
  kernels_for("scalar")->latent_wsum_q8(p.data(), ns, nh, rows.data(), ns, latent, o.data());
  for (int64_t h = 0; h < nh; ++h)
    for (int64_t i = 0; i < latent; ++i) {
      double exact = 0, mag = 0;
      for (int64_t s = 0; s < ns; ++s) {
        BlockQ8_0 b;
        std::memcpy(&b, rows[size_t(s)] + (i / 32) * 34, sizeof b);
        const double v = double(p[size_t(h * ns + s)]) * b.qs[i % 32] * fp16_to_f32(b.d);
        exact += v, mag += std::fabs(v);
      }
      ASSERT_NEAR(o[size_t(h * latent + i)], exact, mag * 1e-6) << h << " " << i;
    }
}

}  // namespace
}  // namespace dsinfer::simd
