// A generation session over a model: the latent caches and the float32 reference forward
// pass of the main model and of its MTP module.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/ffn.h"
#include "engine/latent_cache.h"
#include "engine/mla_attention.h"
#include "engine/model.h"
#include "engine/rope.h"

namespace dsinfer {

struct SessionOptions {
  int64_t context = 0;  // positions the cache holds; 0: min(max_position_embeddings, 4096)
  AttnMode attn = AttnMode::Absorb;
};

// What a forward pass can report besides logits (filled only when asked for).
struct ForwardTrace {
  bool want_layers = false;
  std::vector<float> layer_outputs;    // [layers][T][hidden], residual stream after each layer
  std::vector<float> hidden_prenorm;   // [T][hidden]
  std::vector<RouterRecord> router;    // one per MoE layer, in layer order
};

class Session {
 public:
  Session(const Model& m, SessionOptions o = {});

  // Feeds `tokens` at positions n_past().. and appends them to the cache; logits [T][vocab].
  void forward(std::span<const int32_t> tokens, std::vector<float>& logits, ForwardTrace* trace = nullptr);
  // The MTP module over its own cache: entry i takes the token that follows main position p
  // and the main model's post-final-norm hidden state at p (hidden [T][hidden]); its logits
  // predict the token after that one. Positions continue from mtp_past().
  void mtp_forward(std::span<const int32_t> next_tokens, const float* hidden, std::vector<float>& logits,
                   RouterRecord* rec = nullptr);

  // Post-final-norm hidden states [T][hidden] of the last forward().
  const std::vector<float>& last_hidden() const { return hidden_; }
  int64_t n_past() const { return n_past_; }
  int64_t mtp_past() const { return mtp_past_; }
  int64_t context() const { return cache_.capacity(); }
  void reset() { n_past_ = mtp_past_ = 0; }
  const Model& model() const { return model_; }

 private:
  void check_tokens(std::span<const int32_t> tokens, int64_t past, const char* what) const;
  const Model& model_;
  SessionOptions opt_;
  Rope rope_;
  LatentCache cache_, mtp_cache_;
  int64_t n_past_ = 0, mtp_past_ = 0;
  std::vector<float> hidden_;
};

}  // namespace dsinfer
