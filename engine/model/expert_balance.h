// Expert load (how often each routed expert is picked) and the auxiliary-loss-free balancing
// DeepSeek trains its expert bias with: after each batch the bias of an overloaded expert is
// lowered and an idle one's raised by a fixed step. Applied here to a fixed set of tokens, it
// gives a random-weight model the balanced routing of a trained one.
#pragma once
#include <cstdint>
#include <span>

#include "engine/model/model_config.h"

namespace dsinfer {

struct LoadSummary {
  int64_t experts = 0, used = 0;  // experts, and those picked at least once
  double max_over_mean = 0;       // 1 is perfect balance; 0 when nothing was routed
};
LoadSummary summarize_load(std::span<const int64_t> picks);

// Picks per expert [n_routed] of T tokens routed from their logits [T][n_routed] with `bias`
// (null: none). `picks` is overwritten.
void count_expert_picks(const ModelConfig& c, const float* logits, int64_t T, const float* bias,
                        std::span<int64_t> picks);

struct BalanceResult {
  LoadSummary before, after;
  int steps = 0;
};
// Moves bias [n_routed] by gamma * sign(mean load - load) per step, gamma shrinking, until the
// load of the T tokens has max/mean <= target or max_steps ran; keeps the best bias seen.
// Only for routing that has a bias (noaux_tc).
BalanceResult balance_expert_bias(const ModelConfig& c, const float* logits, int64_t T, float* bias,
                                  double target = 1.5, int max_steps = 1500);

}  // namespace dsinfer
