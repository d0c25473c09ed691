#include "engine/model/expert_balance.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "engine/model/moe_router.h"
#include "simd/error.h"

namespace dsinfer {

LoadSummary summarize_load(std::span<const int64_t> picks) {
  LoadSummary s;
  s.experts = int64_t(picks.size());
  int64_t mx = 0, sum = 0;
  for (int64_t p : picks) {
    mx = std::max(mx, p);
    sum += p;
    s.used += p > 0;
  }
  if (sum > 0) s.max_over_mean = double(mx) * double(picks.size()) / double(sum);
  return s;
}

namespace {

// Picks per expert from precomputed scores [T][E].
void count_from_scores(const ModelConfig& c, const float* scores, int64_t T, const float* bias,
                       std::vector<int64_t>& picks) {
  const int64_t E = c.n_routed_experts, K = c.num_experts_per_tok;
  std::fill(picks.begin(), picks.end(), 0);
#pragma omp parallel if (T * E > (1 << 15))
  {
    std::vector<int64_t> mine(size_t(E), 0);
    std::vector<float> sel(static_cast<size_t>(E)), w(static_cast<size_t>(K));
    std::vector<int32_t> ids(static_cast<size_t>(K));
#pragma omp for schedule(static) nowait
    for (int64_t t = 0; t < T; ++t) {
      select_experts(c, scores + t * E, bias, ids.data(), w.data(), sel.data());
      for (int32_t e : ids) ++mine[size_t(e)];
    }
#pragma omp critical
    for (int64_t e = 0; e < E; ++e) picks[size_t(e)] += mine[size_t(e)];
  }
}

void scores_of(const ModelConfig& c, const float* logits, int64_t T, std::vector<float>& scores) {
  const int64_t E = c.n_routed_experts;
  scores.resize(size_t(T * E));
#pragma omp parallel for schedule(static) if (T * E > (1 << 15))
  for (int64_t t = 0; t < T; ++t) router_scores(c, logits + t * E, scores.data() + t * E);
}

}  // namespace

void count_expert_picks(const ModelConfig& c, const float* logits, int64_t T, const float* bias,
                        std::span<int64_t> picks) {
  std::vector<float> scores;
  scores_of(c, logits, T, scores);
  std::vector<int64_t> p(static_cast<size_t>(c.n_routed_experts));
  count_from_scores(c, scores.data(), T, bias, p);
  std::copy(p.begin(), p.end(), picks.begin());
}

BalanceResult balance_expert_bias(const ModelConfig& c, const float* logits, int64_t T, float* bias, double target,
                                  int max_steps) {
  if (c.topk_method != TopkMethod::NoauxTc) fail("routing", "only noaux_tc routing has an expert bias to balance");
  const int64_t E = c.n_routed_experts;
  std::vector<float> scores;
  scores_of(c, logits, T, scores);
  std::vector<int64_t> picks(static_cast<size_t>(E));
  count_from_scores(c, scores.data(), T, bias, picks);
  BalanceResult r;
  r.before = r.after = summarize_load(picks);
  std::vector<float> best(bias, bias + E);
  // The step starts at a tenth of the scores' typical spread and shrinks, so the sign updates
  // settle instead of oscillating around the balance point.
  double lo = scores[0], hi = scores[0];
  for (float s : scores) lo = std::min<double>(lo, s), hi = std::max<double>(hi, s);
  double gamma = 0.1 * std::max(hi - lo, 1e-6) / 4;
  const double mean = double(T * c.num_experts_per_tok) / double(E);
  for (int step = 1; step <= max_steps && r.after.max_over_mean > target; ++step) {
    for (int64_t e = 0; e < E; ++e) {
      const double d = mean - double(picks[size_t(e)]);
      bias[e] += float(d > 0 ? gamma : d < 0 ? -gamma : 0.0);
    }
    gamma = std::max(gamma * 0.995, 1e-6);
    count_from_scores(c, scores.data(), T, bias, picks);
    const LoadSummary now = summarize_load(picks);
    r.steps = step;
    if (now.max_over_mean < r.after.max_over_mean) {
      r.after = now;
      std::copy(bias, bias + E, best.begin());
    }
  }
  std::copy(best.begin(), best.end(), bias);
  return r;
}

}  // namespace dsinfer
