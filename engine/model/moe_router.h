// DeepSeek's expert routing: softmax greedy, softmax group-limited greedy, and sigmoid with
// the aux-loss-free bias and group-limited top-k (noaux_tc).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model/model_config.h"

namespace dsinfer {

// Routing decisions of one MoE layer, token-major: ids/weights [T][num_experts_per_tok].
struct RouterRecord {
  int64_t layer = 0;
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

// The routing scores of one token [n_routed] from its router logits: sigmoid or softmax.
void router_scores(const ModelConfig& c, const float* logits, float* scores) noexcept;
// From the scores of one token, chooses num_experts_per_tok experts (ids in descending
// selection score) and their final weights. `bias` is null unless noaux_tc; it steers the
// choice only. `scratch` holds n_routed floats.
void select_experts(const ModelConfig& c, const float* scores, const float* bias, int32_t* ids, float* weights,
                    float* scratch) noexcept;
// Both steps. `scratch` holds 2 * n_routed floats.
void route_token(const ModelConfig& c, const float* logits, const float* bias, int32_t* ids, float* weights,
                 float* scratch) noexcept;

}  // namespace dsinfer
