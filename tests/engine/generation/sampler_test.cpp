// Sampling: each filter against a hand-computed expectation, the draw against the softmax it
// should follow, and reproducibility from the seed.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "engine/generation/sampler.h"
#include "simd/error.h"

namespace dsinfer {
namespace {

SamplingParams plain(float temp) {
  SamplingParams p;
  p.temperature = temp;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

TEST(Sampler, GreedyIsArgmaxEvenAfterTies) {
  Sampler s(5, plain(0.0f));
  const std::vector<float> l{0.5f, 3.0f, -1.0f, 3.0f, 2.9f};
  EXPECT_EQ(s.sample(l.data(), {}), 1);  // first of the tied maxima
}

TEST(Sampler, FollowsTheSoftmaxAtTemperatureOne) {
  const std::vector<float> l{0.0f, 1.0f, 2.0f, -1.0f};
  SamplingParams p = plain(1.0f);
  p.seed = 42;
  Sampler s(4, p);
  std::vector<int> n(4, 0);
  const int N = 40000;
  for (int i = 0; i < N; ++i) ++n[size_t(s.sample(l.data(), {}))];
  double z = 0;
  for (float x : l) z += std::exp(double(x));
  for (size_t i = 0; i < 4; ++i) {
    const double want = std::exp(double(l[i])) / z, got = double(n[i]) / N;
    EXPECT_NEAR(got, want, 4 * std::sqrt(want * (1 - want) / N) + 1e-3) << i;
  }
}

TEST(Sampler, TemperatureSharpens) {
  const std::vector<float> l{0.0f, 1.0f};
  SamplingParams p = plain(0.25f);  // p(1) = 1 / (1 + e^-4) = 0.982
  p.seed = 1;
  Sampler s(2, p);
  int ones = 0;
  for (int i = 0; i < 10000; ++i) ones += s.sample(l.data(), {});
  EXPECT_NEAR(ones / 10000.0, 0.982, 0.006);
}

TEST(Sampler, TopKTopPMinPCut) {
  const std::vector<float> l{3.0f, 2.0f, 1.0f, 0.0f, -5.0f};
  for (int seed = 0; seed < 200; ++seed) {
    SamplingParams k = plain(5.0f);  // hot: without the cut every token would appear
    k.top_k = 2;
    k.seed = uint64_t(seed);
    EXPECT_LT(Sampler(5, k).sample(l.data(), {}), 2);
    // Untempered probabilities 0.665 0.245 0.090 0.033 0.0002: top-p 0.8 keeps the first two.
    SamplingParams tp = plain(5.0f);
    tp.top_p = 0.8f;
    tp.seed = uint64_t(seed);
    EXPECT_LT(Sampler(5, tp).sample(l.data(), {}), 2);
    // min-p 0.2 keeps p >= 0.133: the first two.
    SamplingParams mp = plain(5.0f);
    mp.min_p = 0.2f;
    mp.seed = uint64_t(seed);
    EXPECT_LT(Sampler(5, mp).sample(l.data(), {}), 2);
  }
}

TEST(Sampler, PenaltiesMoveTheArgmax) {
  const std::vector<float> l{2.0f, 1.9f, 1.0f};
  const std::vector<int32_t> recent{0, 0, 2};
  SamplingParams r = plain(0.0f);
  r.repeat_penalty = 1.1f;  // 2.0 / 1.1 = 1.82 < 1.9
  EXPECT_EQ(Sampler(3, r).sample(l.data(), recent), 1);
  SamplingParams pr = plain(0.0f);
  pr.presence_penalty = 0.2f;
  EXPECT_EQ(Sampler(3, pr).sample(l.data(), recent), 1);
  SamplingParams fr = plain(0.0f);
  fr.frequency_penalty = 0.06f;  // twice: 2.0 - 0.12 = 1.88 < 1.9
  EXPECT_EQ(Sampler(3, fr).sample(l.data(), recent), 1);
  fr.frequency_penalty = 0.04f;  // 1.92 > 1.9
  EXPECT_EQ(Sampler(3, fr).sample(l.data(), recent), 0);
  SamplingParams window = plain(0.0f);
  window.repeat_penalty = 1.1f;
  window.repeat_last_n = 1;  // only the last token (2) is penalised
  EXPECT_EQ(Sampler(3, window).sample(l.data(), recent), 0);
}

TEST(Sampler, SameSeedSameDraws) {
  std::vector<float> l(1000);
  for (size_t i = 0; i < l.size(); ++i) l[i] = float(std::sin(double(i)));
  SamplingParams p;
  p.seed = 7;
  Sampler a(1000, p), b(1000, p);
  p.seed = 8;
  Sampler c(1000, p);
  int differ = 0;
  for (int i = 0; i < 50; ++i) {
    const int32_t x = a.sample(l.data(), {}), y = b.sample(l.data(), {}), z = c.sample(l.data(), {});
    EXPECT_EQ(x, y);
    differ += x != z;
  }
  EXPECT_GT(differ, 0);
}

// The candidates, their order and weights as a plain full sort of the vocabulary gives them
// (the sampler selects them without sorting every token).
TokenDistribution sorted_reference(const std::vector<float>& l, const SamplingParams& p) {
  const int64_t V = int64_t(l.size());
  std::vector<int32_t> idx(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; ++i) idx[size_t(i)] = int32_t(i);
  std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b);
  });
  const int64_t n = p.top_k > 0 && p.top_k < V ? p.top_k : V;
  const double top = l[size_t(idx[0])];
  std::vector<double> pr(static_cast<size_t>(n));
  double z = 0;
  for (int64_t i = 0; i < n; ++i) z += pr[size_t(i)] = std::exp(double(l[size_t(idx[size_t(i)])]) - top);
  int64_t keep = n;
  double c = 0;
  for (int64_t i = 0; p.top_p < 1.0f && i < n; ++i)
    if ((c += pr[size_t(i)] / z) >= p.top_p) {
      keep = i + 1;
      break;
    }
  while (p.min_p > 0.0f && keep > 1 && pr[size_t(keep - 1)] < p.min_p) --keep;
  TokenDistribution d;
  for (int64_t i = 0; i < keep; ++i) {
    d.ids.push_back(idx[size_t(i)]);
    d.w.push_back(float(std::exp((double(l[size_t(idx[size_t(i)])]) - top) / p.temperature)));
    d.total += d.w.back();
  }
  d.n = keep;
  return d;
}

TEST(Sampler, CandidatesAsAFullSortGivesThem) {
  std::mt19937 g(3);
  const int64_t V = 20000;
  int checked = 0;
  for (int trial = 0; trial < 24; ++trial) {
    // Peaked and flat distributions, ties, and ids a draft vocabulary rules out (-inf).
    std::normal_distribution<float> d(0.0f, trial % 3 == 0 ? 0.3f : trial % 3 == 1 ? 3.0f : 8.0f);
    std::vector<float> l(static_cast<size_t>(V));
    for (float& x : l) x = std::round(d(g) * 64.0f) / 64.0f;
    for (int64_t i = 0; i < V; i += 7) l[size_t(i)] = -INFINITY;
    for (const int top_k : {0, 1, 40, 500})
      for (const float top_p : {1.0f, 0.95f, 0.5f})
        for (const float min_p : {0.0f, 0.05f}) {
          SamplingParams p = plain(0.7f);
          p.top_k = top_k, p.top_p = top_p, p.min_p = min_p;
          Sampler s(V, p);
          TokenDistribution got = s.make_distribution();
          s.distribution(l.data(), {}, got);
          const TokenDistribution want = sorted_reference(l, p);
          ASSERT_EQ(got.n, want.n) << "trial " << trial << " top_k " << top_k << " top_p " << top_p << " min_p " << min_p;
          for (int64_t i = 0; i < want.n; ++i) {
            ASSERT_EQ(got.ids[size_t(i)], want.ids[size_t(i)]) << i;
            ASSERT_NEAR(got.w[size_t(i)], want.w[size_t(i)], 1e-6 * want.w[0]) << i;
          }
          EXPECT_NEAR(got.total, want.total, 1e-6 * want.total);
          ++checked;
        }
  }
  EXPECT_EQ(checked, 24 * 24);
}

TEST(Sampler, RejectsBadParameters) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_THROW(Sampler(10, p), Error);
  p = {};
  p.min_p = 1.0f;
  EXPECT_THROW(Sampler(10, p), Error);
  p = {};
  p.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler(10, p), Error);
  p = {};
  p.top_k = -1;
  EXPECT_THROW(Sampler(10, p), Error);
}

}  // namespace
}  // namespace dsinfer
