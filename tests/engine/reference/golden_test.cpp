// The float32 forward pass against the outputs of DeepSeek's reference implementation
// (shared/fixtures/golden, float32). Tolerances follow the fixtures README: logits and hidden
// states max |diff| <= 1e-3, routing weights <= 1e-4, token ids and expert-id sets exact.
// Every decision has a margin >= 3.7e-4 (manifest decision_margins), far above float32 noise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "engine/model/model.h"
#include "engine/reference/ref_decoder.h"
#include "quant/npy.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

constexpr float kLogitTol = 1e-3f;
constexpr float kHiddenTol = 1e-3f;
constexpr float kRouterWeightTol = 1e-4f;

struct Case {
  std::string fixture;
  AttnMode mode;
};

std::string mode_name(AttnMode m) { return m == AttnMode::Naive ? "naive" : "absorb"; }

class GoldenTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    model_ = Model::open(test::fixture(c.fixture));
    golden_ = test::fixture("golden/" + c.fixture + "/");
    suffix_ = "_" + mode_name(c.mode) + ".npy";
    for (int64_t v : read_npy(golden_ + "prompt_ids.npy").ints) prompt_.push_back(int32_t(v));
    for (int64_t v : read_npy(golden_ + "generated_ids.npy").ints) generated_.push_back(int32_t(v));
  }
  NpyArray golden(const std::string& stem) const { return read_npy(golden_ + stem + suffix_); }
  SessionOptions opts(int64_t ctx) const {
    SessionOptions o;
    o.attn = GetParam().mode;
    o.context = ctx;
    return o;
  }
  // max |a - g| over the whole array, after checking the element count.
  static float max_abs(const std::vector<float>& a, const NpyArray& g, const char* what) {
    EXPECT_EQ(int64_t(a.size()), g.numel()) << what;
    float m = 0, ref = 0, rel = 0;
    for (size_t i = 0; i < std::min(a.size(), g.f32.size()); ++i) {
      const float d = std::fabs(a[i] - g.f32[i]);
      if (!(d <= m)) m = d;  // NaN propagates as a failure
      ref = std::max(ref, std::fabs(g.f32[i]));
      // Relative to the value, with a floor so that near-zero entries do not dominate.
      rel = std::max(rel, d / std::max(std::fabs(g.f32[i]), 1e-2f));
    }
    std::printf("[ measured ] %-28s max|diff| = %.3g  max|ref| = %.3g  max rel = %.3g\n", what, m, ref, rel);
    return m;
  }
  // Expert ids compared as sets per position; weights matched by expert id.
  static void expect_routes(const RouterRecord& r, const NpyArray& ids, const NpyArray& w, int64_t layer_idx,
                            int64_t positions, int64_t pos_offset, int64_t k, const char* what) {
    ASSERT_GE(int64_t(r.ids.size()), (pos_offset + positions) * k) << what;
    float worst = 0;
    for (int64_t t = 0; t < positions; ++t) {
      std::map<int32_t, float> ours;
      for (int64_t j = 0; j < k; ++j)
        ours[r.ids[size_t((pos_offset + t) * k + j)]] = r.weights[size_t((pos_offset + t) * k + j)];
      std::set<int32_t> want;
      for (int64_t j = 0; j < k; ++j) {
        const size_t gi = size_t((layer_idx * positions + t) * k + j);
        const int32_t id = int32_t(ids.ints[gi]);
        want.insert(id);
        if (ours.count(id)) worst = std::max(worst, std::fabs(ours[id] - w.f32[gi]));
      }
      std::set<int32_t> got;
      for (auto& kv : ours) got.insert(kv.first);
      EXPECT_EQ(got, want) << what << ": layer #" << layer_idx << " position " << t;
    }
    std::printf("[ measured ] %-28s max|diff| = %.3g\n", what, worst);
    EXPECT_LE(worst, kRouterWeightTol) << what;
  }

  std::unique_ptr<Model> model_;
  std::string golden_, suffix_;
  std::vector<int32_t> prompt_, generated_;
};

TEST_P(GoldenTest, PrefillLogitsHiddenAndLayers) {
  RefDecoder s(*model_, opts(64));
  ForwardTrace tr;
  tr.want_layers = true;
  std::vector<float> logits;
  s.forward(prompt_, logits, &tr);
  EXPECT_LE(max_abs(logits, golden("logits_prefill"), "logits_prefill"), kLogitTol);
  EXPECT_LE(max_abs(tr.hidden_prenorm, golden("hidden_prefill_prenorm"), "hidden_prenorm"), kHiddenTol);
  EXPECT_LE(max_abs(s.last_hidden(), golden("hidden_prefill_postnorm"), "hidden_postnorm"), kHiddenTol);
  EXPECT_LE(max_abs(tr.layer_outputs, golden("layer_outputs_prefill"), "layer_outputs"), kHiddenTol);
}

TEST_P(GoldenTest, PrefillRouting) {
  RefDecoder s(*model_, opts(64));
  ForwardTrace tr;
  std::vector<float> logits;
  s.forward(prompt_, logits, &tr);
  const NpyArray ids = golden("router_prefill_indices"), w = golden("router_prefill_weights");
  ASSERT_EQ(int64_t(tr.router.size()), ids.shape[0]);
  const int64_t k = model_->config().num_experts_per_tok;
  for (size_t l = 0; l < tr.router.size(); ++l)
    expect_routes(tr.router[l], ids, w, int64_t(l), int64_t(prompt_.size()), 0, k, "router_prefill");
}

TEST_P(GoldenTest, GreedyDecodeThroughTheCache) {
  const int64_t V = model_->config().vocab_size, P = int64_t(prompt_.size()), N = int64_t(generated_.size());
  RefDecoder s(*model_, opts(P + N));
  std::vector<float> logits, all;
  s.forward(prompt_, logits);
  int32_t next = int32_t(std::max_element(logits.end() - V, logits.end()) - (logits.end() - V));
  std::vector<int32_t> got;
  std::vector<RouterRecord> routes;
  for (int64_t k = 0; k < N; ++k) {
    got.push_back(next);
    ForwardTrace tr;
    const int32_t tok[1] = {next};
    s.forward(tok, logits, &tr);
    if (routes.empty()) routes.resize(tr.router.size());
    for (size_t l = 0; l < tr.router.size(); ++l) {
      routes[l].ids.insert(routes[l].ids.end(), tr.router[l].ids.begin(), tr.router[l].ids.end());
      routes[l].weights.insert(routes[l].weights.end(), tr.router[l].weights.begin(), tr.router[l].weights.end());
    }
    all.insert(all.end(), logits.begin(), logits.end());
    next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  EXPECT_EQ(got, generated_);
  EXPECT_LE(max_abs(all, golden("decode_logits"), "decode_logits"), kLogitTol);
  const NpyArray ids = golden("router_decode_indices"), w = golden("router_decode_weights");
  for (size_t l = 0; l < routes.size(); ++l)
    expect_routes(routes[l], ids, w, int64_t(l), N, 0, model_->config().num_experts_per_tok, "router_decode");
}

TEST_P(GoldenTest, FullSequencePrefill) {
  std::vector<int32_t> seq = prompt_;
  seq.insert(seq.end(), generated_.begin(), generated_.end());
  RefDecoder s(*model_, opts(int64_t(seq.size())));
  std::vector<float> logits;
  s.forward(seq, logits);
  EXPECT_LE(max_abs(logits, golden("logits_fullseq"), "logits_fullseq"), kLogitTol);
}

TEST_P(GoldenTest, ChunkedPrefillEqualsOneShot) {
  // Feeding the prompt in two pieces through the cache must give the same logits.
  RefDecoder a(*model_, opts(64)), b(*model_, opts(64));
  std::vector<float> la, lb1, lb2;
  a.forward(prompt_, la);
  const size_t half = prompt_.size() / 2 + 1;
  b.forward(std::span(prompt_).first(half), lb1);
  b.forward(std::span(prompt_).subspan(half), lb2);
  lb1.insert(lb1.end(), lb2.begin(), lb2.end());
  ASSERT_EQ(la.size(), lb1.size());
  float m = 0;
  for (size_t i = 0; i < la.size(); ++i) m = std::max(m, std::fabs(la[i] - lb1[i]));
  EXPECT_LE(m, 1e-4f);
}

TEST_P(GoldenTest, MtpLogitsAndRouting) {
  if (!model_->config().num_nextn_predict_layers) {
    EXPECT_FALSE(model_->has_mtp());
    return;  // fixture B has no MTP module
  }
  ASSERT_TRUE(model_->has_mtp());
  const int64_t P = int64_t(prompt_.size()), D = model_->config().hidden_size;
  RefDecoder s(*model_, opts(64));
  std::vector<float> logits, mtp;
  s.forward(prompt_, logits);
  RouterRecord rec;
  s.mtp_forward(std::span(prompt_).subspan(1), s.last_hidden().data(), mtp, &rec);
  const NpyArray want = golden("mtp_logits_prompt");
  EXPECT_LE(max_abs(mtp, want, "mtp_logits_prompt"), kLogitTol);
  expect_routes(rec, golden("mtp_router_prompt_indices"), golden("mtp_router_prompt_weights"), 0, P - 1, 0,
                model_->config().num_experts_per_tok, "mtp_router_prompt");
  // The wrong conventions are far away: the comparison above can tell them apart.
  EXPECT_GT(max_abs(mtp, golden("diag_mtp_logits_prompt_prenorm_hidden"), "vs prenorm-hidden variant"), 100 * kLogitTol);
  EXPECT_GT(max_abs(mtp, golden("diag_mtp_logits_prompt_swapped_concat"), "vs swapped-concat variant"), 100 * kLogitTol);

  // Over the full sequence, fed from a fresh prefill's hidden states.
  std::vector<int32_t> seq = prompt_;
  seq.insert(seq.end(), generated_.begin(), generated_.end());
  RefDecoder f(*model_, opts(int64_t(seq.size())));
  f.forward(seq, logits);
  f.mtp_forward(std::span(seq).subspan(1), f.last_hidden().data(), mtp);
  EXPECT_EQ(int64_t(mtp.size()), (int64_t(seq.size()) - 1) * model_->config().vocab_size);
  EXPECT_LE(max_abs(mtp, golden("mtp_logits_fullseq"), "mtp_logits_fullseq"), kLogitTol);
  (void)D;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest,
                         ::testing::Values(Case{"tiny-v3-fp8", AttnMode::Naive}, Case{"tiny-v3-fp8", AttnMode::Absorb},
                                           Case{"tiny-v2lite-bf16", AttnMode::Naive},
                                           Case{"tiny-v2lite-bf16", AttnMode::Absorb}),
                         [](const auto& info) {
                           std::string n = info.param.fixture + "_" + mode_name(info.param.mode);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// The two attention forms agree with each other on the same cache contents.
TEST(NaiveVsAbsorb, SameLogits) {
  for (const char* fx : {"tiny-v3-fp8", "tiny-v2lite-bf16"}) {
    auto m = Model::open(test::fixture(fx));
    std::vector<int32_t> prompt;
    for (int64_t v : read_npy(test::fixture(std::string("golden/") + fx + "/prompt_ids.npy")).ints)
      prompt.push_back(int32_t(v));
    SessionOptions on, oa;
    on.attn = AttnMode::Naive;
    oa.attn = AttnMode::Absorb;
    on.context = oa.context = 64;
    RefDecoder n(*m, on), a(*m, oa);
    std::vector<float> ln, la;
    n.forward(prompt, ln);
    a.forward(prompt, la);
    float mx = 0;
    for (size_t i = 0; i < ln.size(); ++i) mx = std::max(mx, std::fabs(ln[i] - la[i]));
    std::printf("[ measured ] %s naive vs absorb max|diff| = %.3g\n", fx, mx);
    EXPECT_LE(mx, 1e-4f) << fx;
  }
}

}  // namespace
}  // namespace dsinfer
