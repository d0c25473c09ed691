// Sampling: each filter against a hand-computed expectation, the draw against the softmax it
// should follow, and reproducibility from the seed.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
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
