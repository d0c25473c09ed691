// Feed-forward blocks, float32 reference: the SwiGLU FFN (dense layers, experts, shared
// experts) and the routed mixture of experts.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "engine/model/moe_router.h"

namespace dsinfer {

// out [T][hidden] = down(silu(gate x) * up x).
void ffn_ref(const FfnWeights& w, const float* x, int64_t T, float* out);

// out [T][hidden] = shared(x) + sum_k w_k Expert_{e_k}(x). Appends decisions to `rec` if given.
void moe_ref(const ModelConfig& c, const MoeWeights& w, const float* x, int64_t T, float* out, RouterRecord* rec);

}  // namespace dsinfer
