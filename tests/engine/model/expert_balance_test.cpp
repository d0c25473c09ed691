// Expert load counting and the aux-loss-free bias balancing, on router logits made by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/model/expert_balance.h"

namespace dsinfer {
namespace {

ModelConfig v3_routing(int64_t E, int64_t K, int64_t groups, int64_t keep) {
  ModelConfig c;
  c.n_routed_experts = E;
  c.num_experts_per_tok = K;
  c.scoring_func = ScoringFunc::Sigmoid;
  c.topk_method = TopkMethod::NoauxTc;
  c.n_group = groups;
  c.topk_group = keep;
  c.norm_topk_prob = true;
  return c;
}

// Logits of T tokens where expert e has a fixed pull `skew * (e / E - 0.5)` on top of noise:
// left alone, the high experts take most tokens.
std::vector<float> skewed_logits(int64_t T, int64_t E, float skew, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> l(size_t(T * E));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < E; ++e) l[size_t(t * E + e)] = n(rng) + skew * (float(e) / float(E) - 0.5f);
  return l;
}

TEST(ExpertLoad, SummaryCountsUsedAndPeak) {
  const std::vector<int64_t> picks = {4, 0, 2, 2};
  const LoadSummary s = summarize_load(picks);
  EXPECT_EQ(s.experts, 4);
  EXPECT_EQ(s.used, 3);
  EXPECT_DOUBLE_EQ(s.max_over_mean, 2.0);  // mean 2
  EXPECT_EQ(summarize_load(std::vector<int64_t>(3, 0)).max_over_mean, 0.0);
}

TEST(ExpertLoad, CountsEveryPick) {
  const ModelConfig c = v3_routing(8, 2, 1, 1);
  // Token 0 prefers experts 7 and 6, token 1 experts 0 and 1; the bias flips token 1's second pick.
  std::vector<float> l = {0, 0, 0, 0, 0, 0, 2, 3, 3, 2, 0, 0, 0, 0, 0, 0};
  std::vector<int64_t> picks(8);
  count_expert_picks(c, l.data(), 2, nullptr, picks);
  EXPECT_EQ(picks, (std::vector<int64_t>{1, 1, 0, 0, 0, 0, 1, 1}));
  std::vector<float> bias(8, 0.0f);
  bias[2] = 1.0f;
  count_expert_picks(c, l.data(), 2, bias.data(), picks);
  EXPECT_EQ(picks, (std::vector<int64_t>{1, 0, 2, 0, 0, 0, 0, 1}));
}

TEST(ExpertBalance, BringsASkewedRouterToTarget) {
  for (const auto& [groups, keep] : {std::pair<int64_t, int64_t>{1, 1}, {8, 4}}) {
    const ModelConfig c = v3_routing(64, 6, groups, keep);
    const int64_t T = 2048;
    const std::vector<float> l = skewed_logits(T, 64, 4.0f, 7);
    std::vector<float> bias(64, 0.0f);
    const BalanceResult r = balance_expert_bias(c, l.data(), T, bias.data(), 1.5);
    EXPECT_GT(r.before.max_over_mean, 2.5) << "groups " << groups;  // the skew is real
    EXPECT_LT(r.before.used, 64) << "groups " << groups;
    EXPECT_LE(r.after.max_over_mean, 1.5) << "groups " << groups;
    EXPECT_EQ(r.after.used, 64) << "groups " << groups;
    // The bias now counters the pull: low experts are raised above high ones.
    EXPECT_GT(bias[0], bias[63]) << "groups " << groups;
    // And it is the bias that balances: recounting with it gives the reported load.
    std::vector<int64_t> picks(64);
    count_expert_picks(c, l.data(), T, bias.data(), picks);
    EXPECT_DOUBLE_EQ(summarize_load(picks).max_over_mean, r.after.max_over_mean);
  }
}

TEST(ExpertBalance, RefusesRoutingWithoutBias) {
  ModelConfig c = v3_routing(8, 2, 1, 1);
  c.topk_method = TopkMethod::Greedy;
  std::vector<float> l(8, 0.0f), bias(8, 0.0f);
  EXPECT_ANY_THROW(balance_expert_bias(c, l.data(), 1, bias.data()));
}

}  // namespace
}  // namespace dsinfer
