// The weights of a model by role, as views into the mapped file(s).
#pragma once
#include <optional>
#include <vector>

#include "engine/model/matrix.h"

namespace dsinfer {

class ExpertStore;  // engine/experts/expert_store.h

struct AttentionWeights {
  Matrix q_a, q_b;              // with q compression (q_lora_rank > 0)
  std::vector<float> q_a_norm;  //
  Matrix q;                     // without it
  Matrix kv_a;                  // [kv_lora_rank + rope, hidden]
  std::vector<float> kv_a_norm;
  // Per head h: W_UK_h maps the latent to k_nope ([nope x kv_lora_rank]), W_UV_h maps it to
  // v ([v x kv_lora_rank]). Hugging Face files (and older GGUF files) keep both inside kv_b;
  // llama.cpp's MLA layout stores W_UK_h transposed ([kv_lora_rank x nope], attn_k_b).
  std::vector<Matrix> w_uk, w_uv;
  bool w_uk_transposed = false;
  Matrix o;  // [hidden, H * v]
};

struct FfnWeights {
  Matrix gate, up, down;  // down(silu(gate x) * up x)
  bool empty() const { return gate.empty(); }
};

struct MoeWeights {
  Matrix router;              // [n_routed, hidden]
  std::vector<float> bias;    // e_score_correction_bias (noaux_tc), else empty
  // The routed experts as stored; with an expert store (store != null) only their shapes hold,
  // and the store serves the weights of this layer (store_layer).
  std::vector<FfnWeights> experts;
  ExpertStore* store = nullptr;
  int64_t store_layer = 0;
  FfnWeights shared;          // n_shared_experts fused into one FFN; empty when none
};

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  AttentionWeights attn;
  bool is_moe = false;
  FfnWeights dense;
  MoeWeights moe;
};

struct MtpWeights {
  Matrix embed, eh_proj, head;  // eh_proj: [hidden, 2*hidden], embedding half first
  std::vector<float> enorm, hnorm, head_norm;
  LayerWeights layer;
};

struct ModelWeights {
  Matrix embed, lm_head;
  std::vector<float> final_norm;
  std::vector<LayerWeights> layers;
  std::optional<MtpWeights> mtp;
  bool repacked = false;  // some products' weights are in row groups (matrix.h)
};

}  // namespace dsinfer
