// LatentAttention (engine/fast/latent_attention.h) against a plain softmax over the cached rows,
// and bit for bit the same on any thread count, at depths within one chunk (where one token's
// chunk is split between threads), at the chunk boundary and past it.
#include "engine/fast/latent_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "simd/kernels.h"

namespace dsinfer {
namespace {

constexpr int64_t kHeads = 16, kLatent = 64, kRope = 16;
constexpr float kScale = 0.1f;

struct Attended {
  TypedLatentCache cache;
  std::vector<float> lat, rope;  // queries: [H][T][r], [T][H][rope]
  std::vector<int64_t> pos;
  Attended(int64_t depth, int64_t T, KvType kv) : cache(1, depth + T, kLatent, kRope, kv) {
    std::mt19937 g(uint32_t(depth * 31 + T));
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> row(size_t(kLatent + kRope));
    for (int64_t p = 0; p < depth + T; ++p) {
      for (float& x : row) x = d(g);
      cache.store(0, p, row.data());
    }
    lat.resize(size_t(kHeads * T * kLatent));
    rope.resize(size_t(T * kHeads * kRope));
    for (float& x : lat) x = d(g);
    for (float& x : rope) x = d(g);
    // Token t attends to positions 0..depth + t (a verify after `depth` cached positions).
    for (int64_t t = 0; t < T; ++t) pos.push_back(depth + t);
  }
  LatentQueries queries() const {
    return LatentQueries{int64_t(pos.size()), lat.data(), rope.data(), kRope, kScale};
  }
};

std::vector<float> run(Attended& s, int threads, bool integer) {
  const int64_t T = int64_t(s.pos.size());
  LatentAttention a;
  a.reserve(kHeads, kLatent, kRope, T, s.cache.capacity(), threads);
  a.set_integer_scores(integer);
  std::vector<TypedLatentCache*> caches(size_t(T), &s.cache);
  std::vector<float> out(size_t(kHeads * T * kLatent));
  a.run(s.queries(), TokenSlots{caches.data(), s.pos.data()}, 0, out.data());
  return out;
}

// Softmax in double over the rows as the cache gives them back.
std::vector<float> plain(const Attended& s) {
  const int64_t T = int64_t(s.pos.size());
  std::vector<float> out(size_t(kHeads * T * kLatent)), tmp(size_t(kLatent + kRope));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < kHeads; ++h) {
      const float* q = s.lat.data() + (h * T + t) * kLatent;
      const float* qr = s.rope.data() + (t * kHeads + h) * kRope;
      const int64_t n = s.pos[size_t(t)] + 1;
      std::vector<double> sc(static_cast<size_t>(n)), acc(static_cast<size_t>(kLatent), 0.0);
      for (int64_t p = 0; p < n; ++p) {
        const float* row = s.cache.load(0, p, tmp.data());
        double d = 0;
        for (int64_t i = 0; i < kLatent; ++i) d += double(q[i]) * row[i];
        for (int64_t i = 0; i < kRope; ++i) d += double(qr[i]) * row[kLatent + i];
        sc[size_t(p)] = kScale * d;
      }
      const double m = *std::max_element(sc.begin(), sc.end());
      double l = 0;
      for (int64_t p = 0; p < n; ++p) {
        const double w = std::exp(sc[size_t(p)] - m);
        l += w;
        const float* row = s.cache.load(0, p, tmp.data());
        for (int64_t i = 0; i < kLatent; ++i) acc[size_t(i)] += w * row[i];
      }
      for (int64_t i = 0; i < kLatent; ++i) out[size_t((h * T + t) * kLatent + i)] = float(acc[size_t(i)] / l);
    }
  return out;
}

struct Case {
  int64_t depth, T;
};

class LatentAttentionDepths : public testing::TestWithParam<Case> {};

TEST_P(LatentAttentionDepths, SameBitsOnAnyThreadCountAndCloseToPlainSoftmax) {
  const Case c = GetParam();
  for (const KvType kv : {KvType::Q8_0, KvType::F32})
    for (const bool integer : {true, false}) {
      if (kv == KvType::F32 && integer) continue;  // integer scores read q8_0 rows only
      Attended s(c.depth, c.T, kv);
      const std::vector<float> one = run(s, 1, integer);
      for (const int threads : {2, 3}) {
        const std::vector<float> many = run(s, threads, integer);
        EXPECT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * sizeof(float)))
            << "depth " << c.depth << ", " << c.T << " tokens, " << threads << " threads, integer " << integer;
      }
      // The integer scores quantize the queries to int8: a looser bound than the float path's.
      const std::vector<float> ref = plain(s);
      const bool int8 = integer && simd::kernels().latent_scores_native;
      double worst = 0, scale = 0;
      for (size_t i = 0; i < ref.size(); ++i) {
        worst = std::max(worst, double(std::fabs(one[i] - ref[i])));
        scale = std::max(scale, double(std::fabs(ref[i])));
      }
      EXPECT_LT(worst, (int8 ? 2e-2 : 1e-4) * scale) << "depth " << c.depth << ", " << c.T << " tokens";
    }
}

INSTANTIATE_TEST_SUITE_P(Depths, LatentAttentionDepths,
                         testing::Values(Case{0, 1}, Case{31, 1}, Case{40, 1}, Case{200, 1}, Case{255, 1},
                                         Case{256, 1}, Case{600, 1}, Case{40, 2}, Case{300, 3}, Case{100, 6}),
                         [](const testing::TestParamInfo<Case>& i) {
                           return "depth" + std::to_string(i.param.depth) + "_tokens" + std::to_string(i.param.T);
                         });

}  // namespace
}  // namespace dsinfer
