// Routing rules on hand-made scores, where the right answer can be worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/model/moe_router.h"

namespace dsinfer {
namespace {

ModelConfig base(int64_t E, int64_t K) {
  ModelConfig c;
  c.n_routed_experts = E;
  c.num_experts_per_tok = K;
  return c;
}

struct Routed {
  std::vector<int32_t> ids;
  std::vector<float> w;
};

Routed route(const ModelConfig& c, const std::vector<float>& logits, const std::vector<float>& bias = {}) {
  Routed r;
  r.ids.resize(size_t(c.num_experts_per_tok));
  r.w.resize(size_t(c.num_experts_per_tok));
  std::vector<float> scratch(size_t(2 * c.n_routed_experts));
  route_token(c, logits.data(), bias.empty() ? nullptr : bias.data(), r.ids.data(), r.w.data(), scratch.data());
  return r;
}

TEST(Router, SoftmaxGreedyNoRenormalisation) {
  ModelConfig c = base(4, 2);
  c.routed_scaling_factor = 1.0;
  const std::vector<float> l = {0.0f, 2.0f, 1.0f, -1.0f};
  Routed r = route(c, l);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2}));
  float z = 0;
  for (float v : l) z += std::exp(v);
  EXPECT_NEAR(r.w[0], std::exp(2.0f) / z, 1e-6);
  EXPECT_NEAR(r.w[1], std::exp(1.0f) / z, 1e-6);
}

TEST(Router, SoftmaxGroupLimitedUsesGroupMax) {
  ModelConfig c = base(8, 2);
  c.topk_method = TopkMethod::GroupLimitedGreedy;
  c.n_group = 4;
  c.topk_group = 1;
  // Group 1 (experts 2,3) holds the best single expert; group 3 (6,7) the two second-best.
  const std::vector<float> l = {0, 0, 5, 0, 0, 0, 4.5f, 4.5f};
  Routed r = route(c, l);
  EXPECT_EQ(r.ids[0], 2);
  EXPECT_EQ(r.ids[1], 3);  // group max keeps only group 1
}

TEST(Router, SigmoidBiasSteersChoiceNotWeights) {
  ModelConfig c = base(4, 2);
  c.scoring_func = ScoringFunc::Sigmoid;
  c.topk_method = TopkMethod::NoauxTc;
  c.norm_topk_prob = true;
  c.routed_scaling_factor = 2.5;
  const std::vector<float> l = {1.0f, 0.9f, 0.0f, -1.0f};
  const std::vector<float> bias = {0.0f, 0.0f, 1.0f, 0.0f};  // lifts expert 2 above expert 1
  Routed r = route(c, l, bias);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{2, 0}));
  auto sg = [](float x) { return 1.0f / (1.0f + std::exp(-x)); };
  const float s0 = sg(1.0f), s2 = sg(0.0f);
  EXPECT_NEAR(r.w[0], s2 / (s0 + s2) * 2.5f, 1e-6);  // unbiased score, renormalised, scaled
  EXPECT_NEAR(r.w[1], s0 / (s0 + s2) * 2.5f, 1e-6);
}

TEST(Router, NoauxGroupScoreIsSumOfTopTwo) {
  ModelConfig c = base(8, 2);
  c.scoring_func = ScoringFunc::Sigmoid;
  c.topk_method = TopkMethod::NoauxTc;
  c.n_group = 2;
  c.topk_group = 1;
  c.norm_topk_prob = true;
  // Group 0 has the single best expert but a weak second; group 1 two strong ones.
  const std::vector<float> l = {4.0f, -4.0f, -4.0f, -4.0f, 2.0f, 2.0f, -4.0f, -4.0f};
  Routed r = route(c, l);
  std::sort(r.ids.begin(), r.ids.end());
  EXPECT_EQ(r.ids, (std::vector<int32_t>{4, 5}));
  EXPECT_NEAR(r.w[0] + r.w[1], 1.0f, 1e-6);  // renormalised, scale 1
}

}  // namespace
}  // namespace dsinfer
