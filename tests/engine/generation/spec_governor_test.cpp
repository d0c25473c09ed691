// --spec auto's decision: SpecGovernor's pauses from the tokens rounds commit, and the round
// cost it compares them with, counted here again from the file's tensors by name.
#include "engine/generation/spec_governor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "quant/gguf_reader.h"

namespace dsinfer {
namespace {

const std::string kDemo = std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf";

// Rounds of `tokens` each until the governor pauses; how many it took (-1: it never did).
int rounds_until_pause(SpecGovernor& g, int64_t tokens, int limit = 100) {
  for (int i = 1; i <= limit; ++i) {
    g.round(1, tokens);
    if (!g.drafting()) return i;
  }
  return -1;
}

int64_t plain_steps_until_drafting(SpecGovernor& g) {
  int64_t n = 0;
  for (; !g.drafting(); ++n) g.plain_step();
  return n;
}

TEST(SpecGovernor, PausesWhenRoundsCommitTooFewAndBacksOff) {
  SpecGovernor g(1.5);
  EXPECT_TRUE(g.drafting());
  EXPECT_EQ(rounds_until_pause(g, 1), SpecGovernor::kJudgeAfter);
  // Pauses double while drafting keeps losing, up to the longest.
  int64_t want = SpecGovernor::kFirstPause;
  for (int p = 0; p < 7; ++p) {
    EXPECT_EQ(plain_steps_until_drafting(g), want) << "pause " << p;
    EXPECT_EQ(rounds_until_pause(g, 1), SpecGovernor::kJudgeAfter);
    want = std::min(2 * want, SpecGovernor::kMaxPause);
  }
  EXPECT_EQ(want, SpecGovernor::kMaxPause);
  EXPECT_EQ(g.pauses(), 8);
  // A whole window of rounds that pay: the next loss pauses briefly again.
  plain_steps_until_drafting(g);
  EXPECT_EQ(rounds_until_pause(g, 2, 50), -1);
  EXPECT_EQ(rounds_until_pause(g, 1), SpecGovernor::kWindow / 2 + 1);  // the window's mean falls below 1.5
  EXPECT_EQ(plain_steps_until_drafting(g), SpecGovernor::kFirstPause);
}

TEST(SpecGovernor, AFewLuckyRoundsKeepTheBackOff) {
  SpecGovernor g(1.9);
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(rounds_until_pause(g, 1), SpecGovernor::kJudgeAfter);
    plain_steps_until_drafting(g);
  }
  // Four rounds that pay, then one that does not: the window's mean (1.8) pauses as long as the
  // back-off had come to.
  for (int64_t t : {2, 2, 2, 2, 1}) g.round(1, t);
  EXPECT_FALSE(g.drafting());
  EXPECT_EQ(plain_steps_until_drafting(g), 8 * SpecGovernor::kFirstPause);
}

TEST(SpecGovernor, JudgesTheMeanOfRecentRounds) {
  SpecGovernor g(1.75);
  // 2, 2, 2, 1: mean 1.75, at break-even, goes on; then each 1 lowers the window's mean.
  for (int64_t t : {2, 2, 2, 1}) g.round(1, t);
  EXPECT_TRUE(g.drafting());
  g.round(1, 1);  // 8/5 = 1.6
  EXPECT_FALSE(g.drafting());
  // Rounds without drafts (a full context) tell nothing.
  SpecGovernor h(1.5);
  for (int i = 0; i < 10; ++i) h.round(0, 1);
  EXPECT_TRUE(h.drafting());
  EXPECT_EQ(h.pauses(), 0);
}

// The bytes of what every step reads, of an average routed expert, and of the MTP module, from
// the file's tensor names (matrices only: norms and biases are not counted).
struct Counted {
  double shared = 0, expert = 0, mtp = 0, head = 0;
  int64_t moe_layers = 0;
};
Counted count_tensors(const GgufFile& f, int64_t layers, int64_t experts) {
  Counted c;
  const std::string mtp_prefix = "blk." + std::to_string(layers) + ".";
  for (const GgufTensor& t : f.tensors()) {
    const std::string name(t.name);
    if (t.n_dims < 2 || name == "token_embd.weight") continue;
    const bool exps = name.find("_exps.") != std::string::npos;
    if (name == "output.weight") {
      c.shared += double(t.nbytes);
      c.head = double(t.nbytes);
    } else if (name.rfind(mtp_prefix, 0) == 0) {
      c.mtp += exps ? 0.0 : double(t.nbytes);
    } else if (exps) {
      c.expert += double(t.nbytes) / double(experts);
      c.moe_layers += name.find("ffn_gate_exps") != std::string::npos;
    } else {
      c.shared += double(t.nbytes);
    }
  }
  c.expert /= double(c.moe_layers);
  return c;
}

TEST(SpecRoundCost, TheBytesOfTheVerifyAndTheDraftsOverAStep) {
  auto m = Model::open(kDemo);
  const ModelConfig& cfg = m->config();
  const GgufFile f(kDemo);
  const Counted c = count_tensors(f, cfg.num_hidden_layers, cfg.n_routed_experts);
  ASSERT_GT(c.moe_layers, 0);
  ASSERT_GT(c.mtp, 0);
  const double N = double(cfg.n_routed_experts), k = double(cfg.num_experts_per_tok);
  const double step = c.shared + c.expert * double(c.moe_layers) * k;
  // The demo's module has no head of its own: it reads the main one.
  const double draft = c.mtp + c.expert * k + c.head;
  for (int K = 1; K <= 3; ++K) {
    const double distinct = N * (1.0 - std::pow(1.0 - k / N, K + 1));
    const double want = (c.shared + c.expert * double(c.moe_layers) * distinct + K * draft) / step;
    EXPECT_NEAR(spec_round_cost(*m, K, 0), want, 1e-9 * want) << "K " << K;
    // A draft scoring 64 of the head's rows reads 64/V of it.
    const double narrow = want - K * c.head * (1.0 - 64.0 / double(cfg.vocab_size)) / step;
    EXPECT_NEAR(spec_round_cost(*m, K, 64), narrow, 1e-6 * want) << "K " << K;
  }
  EXPECT_NEAR(spec_round_cost(*m, 0, 0), 1.0, 1e-12);
  SpecOptions o{SpecKind::Mtp, 2, 0, true};
  EXPECT_NEAR(spec_break_even(*m, o), kSpecMargin * spec_round_cost(*m, 2, 0), 1e-12);
}

}  // namespace
}  // namespace dsinfer
