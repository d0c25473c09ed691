// Speculative rejection sampling on small distributions whose answer is known: whatever the
// draft distribution q, the tokens that come out follow p (chi-square at 1e-4, with the same
// test rejecting q's own draws to show it has the power to tell), the acceptance rate is
// sum_x min(p(x), q(x)), and greedy keeps a draft exactly when it is p's argmax.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/generation/rejection_sampler.h"
#include "tests/engine/generation/chi_square.h"

namespace dsinfer {
namespace {

SamplingParams plain(float temp, int32_t top_k = 0) {
  SamplingParams p;
  p.temperature = temp;
  p.top_k = top_k;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  return p;
}

std::vector<double> probs(Sampler& s, const std::vector<float>& logits) {
  TokenDistribution d = s.make_distribution();
  s.distribution(logits.data(), {}, d);
  std::vector<double> p(logits.size(), 0.0);
  for (int64_t i = 0; i < d.n; ++i) p[size_t(d.ids[size_t(i)])] = d.w[size_t(i)] / d.total;
  return p;
}

struct Outcome {
  std::vector<int64_t> out, drafts;
  double acceptance = 0;
};

// n rounds: draft from q's logits, keep or resample under p's.
Outcome speculate(Sampler& s, const std::vector<float>& lp, const std::vector<float>& lq, int n) {
  const int64_t V = int64_t(lp.size());
  RejectionSampler rs(V);
  TokenDistribution p = s.make_distribution(), q = s.make_distribution();
  s.distribution(lp.data(), {}, p);
  s.distribution(lq.data(), {}, q);
  Outcome o{std::vector<int64_t>(size_t(V)), std::vector<int64_t>(size_t(V)), 0};
  int64_t kept = 0;
  for (int i = 0; i < n; ++i) {
    const int32_t d = s.draw(q);
    ++o.drafts[size_t(d)];
    const bool ok = rs.accept(s, p, q, d);
    kept += ok;
    ++o.out[size_t(ok ? d : rs.resample(s, p, q))];
  }
  o.acceptance = double(kept) / n;
  return o;
}

void expect_follows_p(const std::vector<float>& lp, const std::vector<float>& lq, int32_t top_k) {
  Sampler s(int64_t(lp.size()), plain(1.0f, top_k));
  const std::vector<double> p = probs(s, lp), q = probs(s, lq);
  const int n = 200000;
  const Outcome o = speculate(s, lp, lq, n);
  const test::ChiSquare fit = test::goodness_of_fit(o.out, p), drafts = test::goodness_of_fit(o.drafts, p);
  double overlap = 0;
  for (size_t i = 0; i < p.size(); ++i) overlap += std::min(p[i], q[i]);
  std::printf("[ measured ] top-k %d: chi2 %.1f (df %d, p %.3g); drafts against p: chi2 %.1f; acceptance %.4f, "
              "expected %.4f\n",
              top_k, fit.stat, fit.df, fit.p_value, drafts.stat, o.acceptance, overlap);
  EXPECT_GT(fit.p_value, 1e-4);
  EXPECT_LT(drafts.p_value, 1e-4) << "q is not told from p: the test has no power here";
  EXPECT_NEAR(o.acceptance, overlap, 4 * std::sqrt(overlap * (1 - overlap) / n));
}

TEST(RejectionSampler, OutputFollowsTheTargetWhateverTheDraft) {
  expect_follows_p({2.0f, 1.0f, 0.5f, 0.0f, -1.0f, 1.5f, 0.2f, -2.0f}, {0.0f, 2.0f, 1.0f, 1.0f, 0.0f, -1.0f, 0.5f, 1.0f},
                   0);
}

// Filters give p and q different supports: tokens only q has must always be rejected, tokens
// only p has can come only from the residual.
TEST(RejectionSampler, DifferentSupportsAfterTopK) {
  expect_follows_p({3.0f, 2.5f, 2.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 2.5f, 2.0f, 3.0f, 0.0f, 0.0f}, 3);
}

TEST(RejectionSampler, SameDistributionIsAlwaysAccepted) {
  const std::vector<float> l{1.0f, 0.3f, -0.5f, 2.0f};
  Sampler s(4, plain(0.8f));
  EXPECT_DOUBLE_EQ(speculate(s, l, l, 1000).acceptance, 1.0);
}

TEST(RejectionSampler, GreedyKeepsTheDraftOnlyWhenItIsTheArgmax) {
  Sampler s(4, plain(0.0f));
  RejectionSampler rs(4);
  TokenDistribution p = s.make_distribution(), q = s.make_distribution();
  const std::vector<float> lp{0.0f, 3.0f, 1.0f, 2.0f}, lq{0.0f, 1.0f, 1.0f, 2.5f};
  s.distribution(lp.data(), {}, p);
  s.distribution(lq.data(), {}, q);
  EXPECT_TRUE(rs.accept(s, p, p, 1));
  EXPECT_FALSE(rs.accept(s, p, q, s.draw(q)));
  EXPECT_EQ(rs.resample(s, p, q), 1);
}

}  // namespace
}  // namespace dsinfer
