// Multi-head latent attention, float32 reference, in the naive (decompressed) and the
// absorbed form. Both read the same latent-only cache.
#pragma once
#include <cstdint>

#include "engine/latent_cache.h"
#include "engine/model_config.h"
#include "engine/model_weights.h"
#include "engine/rope.h"

namespace dsinfer {

enum class AttnMode { Naive, Absorb };

// For T tokens at positions pos0..pos0+T-1 with normalized inputs h [T][hidden]: writes their
// latents into cache layer `layer`, attends causally over positions 0..pos0+T-1, out [T][hidden].
void mla_attention_ref(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, AttnMode mode,
                       LatentCache& cache, int64_t layer, int64_t pos0, const float* h, int64_t T, float* out);

}  // namespace dsinfer
