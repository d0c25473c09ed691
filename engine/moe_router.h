// DeepSeek's expert routing: softmax greedy, softmax group-limited greedy, and sigmoid with
// the aux-loss-free bias and group-limited top-k (noaux_tc).
#pragma once
#include <cstdint>

#include "engine/model_config.h"

namespace dsinfer {

// From the router logits of one token [n_routed], chooses num_experts_per_tok experts
// (ids in descending selection score) and their final weights. `bias` is null unless
// noaux_tc. `scratch` holds 2 * n_routed floats.
void route_token(const ModelConfig& c, const float* logits, const float* bias, int32_t* ids, float* weights,
                 float* scratch) noexcept;

}  // namespace dsinfer
