// Multi-head latent attention, float32 reference, in the naive (decompressed) and the
// absorbed form. Both read the same latent-only cache.
#pragma once
#include <cstdint>

#include "engine/reference/f32_latent_cache.h"
#include "engine/decoder.h"
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "engine/model/rope.h"

namespace dsinfer {

// For T tokens at positions pos0..pos0+T-1 with normalized inputs h [T][hidden]: writes their
// latents into cache layer `layer`, attends causally over positions 0..pos0+T-1, out [T][hidden].
void mla_attention_ref(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, AttnMode mode,
                       F32LatentCache& cache, int64_t layer, int64_t pos0, const float* h, int64_t T, float* out);

}  // namespace dsinfer
