// One transformer block of the family: x += MLA(norm(x)); x += FFN or MoE(norm(x)).
#pragma once
#include <cstdint>

#include "engine/reference/ffn_ref.h"
#include "engine/reference/f32_latent_cache.h"
#include "engine/reference/mla_ref.h"

namespace dsinfer {

// x [T][hidden] in place, tokens at positions pos0..; `rec` receives the routing of a MoE block.
void decoder_layer_ref(const ModelConfig& c, const LayerWeights& w, const Rope& rope, AttnMode mode,
                       F32LatentCache& cache, int64_t cache_layer, int64_t pos0, float* x, int64_t T, RouterRecord* rec);

}  // namespace dsinfer
