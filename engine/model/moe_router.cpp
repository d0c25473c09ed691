#include "engine/model/moe_router.h"

#include <cmath>
#include <limits>

namespace dsinfer {

namespace {
// Index of the largest value not yet taken; ties go to the lower index.
int64_t argmax_untaken(const float* v, int64_t n, const bool* taken) {
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i)
    if (!taken[i] && (best < 0 || v[i] > v[best])) best = i;
  return best;
}
}  // namespace

void router_scores(const ModelConfig& c, const float* logits, float* s) noexcept {
  const int64_t E = c.n_routed_experts;
  if (c.scoring_func == ScoringFunc::Sigmoid) {
    for (int64_t e = 0; e < E; ++e) s[e] = 1.0f / (1.0f + std::exp(-logits[e]));
  } else {
    float m = logits[0];
    for (int64_t e = 1; e < E; ++e) m = logits[e] > m ? logits[e] : m;
    float sum = 0.0f;
    for (int64_t e = 0; e < E; ++e) sum += (s[e] = std::exp(logits[e] - m));
    for (int64_t e = 0; e < E; ++e) s[e] /= sum;
  }
}

void route_token(const ModelConfig& c, const float* logits, const float* bias, int32_t* ids, float* weights,
                 float* scratch) noexcept {
  router_scores(c, logits, scratch);
  select_experts(c, scratch, bias, ids, weights, scratch + c.n_routed_experts);
}

void select_experts(const ModelConfig& c, const float* s, const float* bias, int32_t* ids, float* weights,
                    float* sel) noexcept {
  const int64_t E = c.n_routed_experts, K = c.num_experts_per_tok;
  for (int64_t e = 0; e < E; ++e) sel[e] = bias ? s[e] + bias[e] : s[e];

  constexpr int64_t kMaxExperts = 1024;
  bool taken[kMaxExperts] = {};
  const int64_t G = c.n_group;
  if (c.topk_method != TopkMethod::Greedy && G > 1) {
    const int64_t per = E / G;
    float gscore[kMaxExperts];
    for (int64_t g = 0; g < G; ++g) {
      const float* v = sel + g * per;
      if (c.topk_method == TopkMethod::NoauxTc) {  // sum of the two best in the group
        float a = -std::numeric_limits<float>::infinity(), b = a;
        for (int64_t i = 0; i < per; ++i) {
          if (v[i] > a) { b = a; a = v[i]; }
          else if (v[i] > b) b = v[i];
        }
        gscore[g] = a + b;
      } else {  // the best in the group
        float a = v[0];
        for (int64_t i = 1; i < per; ++i) a = v[i] > a ? v[i] : a;
        gscore[g] = a;
      }
    }
    bool gkeep[kMaxExperts] = {};
    for (int64_t k = 0; k < c.topk_group; ++k) gkeep[argmax_untaken(gscore, G, gkeep)] = true;
    for (int64_t g = 0; g < G; ++g)
      if (!gkeep[g])
        for (int64_t i = 0; i < per; ++i) sel[g * per + i] = -std::numeric_limits<float>::infinity();
  }
  float sum = 0.0f;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t e = argmax_untaken(sel, E, taken);
    taken[e] = true;
    ids[k] = int32_t(e);
    weights[k] = s[e];  // the bias steers the choice only
    sum += s[e];
  }
  const bool renorm = c.norm_topk_prob && K > 1;
  for (int64_t k = 0; k < K; ++k) {
    if (renorm) weights[k] /= sum + 1e-20f;
    weights[k] *= float(c.routed_scaling_factor);
  }
}

}  // namespace dsinfer
