#include "engine/reference/layer_ref.h"

#include <vector>

#include "engine/reference/ops_ref.h"

namespace dsinfer {

void decoder_layer_ref(const ModelConfig& c, const LayerWeights& w, const Rope& rope, AttnMode mode,
                       F32LatentCache& cache, int64_t cache_layer, int64_t pos0, float* x, int64_t T, RouterRecord* rec) {
  const int64_t D = c.hidden_size;
  std::vector<float> h(size_t(T * D)), y(size_t(T * D));
  for (int64_t t = 0; t < T; ++t) rmsnorm(x + t * D, w.attn_norm.data(), D, c.rms_norm_eps, h.data() + t * D);
  mla_attention_ref(c, w.attn, rope, mode, cache, cache_layer, pos0, h.data(), T, y.data());
  for (int64_t i = 0; i < T * D; ++i) x[i] += y[size_t(i)];
  for (int64_t t = 0; t < T; ++t) rmsnorm(x + t * D, w.ffn_norm.data(), D, c.rms_norm_eps, h.data() + t * D);
  if (w.is_moe)
    moe_ref(c, w.moe, h.data(), T, y.data(), rec);
  else
    ffn_ref(w.dense, h.data(), T, y.data());
  for (int64_t i = 0; i < T * D; ++i) x[i] += y[size_t(i)];
}

}  // namespace dsinfer
