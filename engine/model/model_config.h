// Hyperparameters of a DeepSeek-V2/V3-family model, from config.json (and later GGUF metadata).
#pragma once
#include <cstdint>
#include <string>

namespace dsinfer {

enum class ScoringFunc { Softmax, Sigmoid };
enum class TopkMethod { Greedy, GroupLimitedGreedy, NoauxTc };

struct RopeScaling {
  bool yarn = false;  // no rope_scaling: plain RoPE
  double factor = 1.0;
  int64_t original_max_position = 4096;
  double beta_fast = 32.0, beta_slow = 1.0;
  double mscale = 1.0, mscale_all_dim = 0.0;
};

struct ModelConfig {
  std::string model_type;  // deepseek_v2 | deepseek_v3
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;      // dense layers
  int64_t moe_intermediate_size = 0;  // one routed expert
  int64_t num_hidden_layers = 0;      // main layers, MTP excluded
  int64_t num_nextn_predict_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t q_lora_rank = 0;  // 0: plain q_proj
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  int64_t n_routed_experts = 0, n_shared_experts = 0, num_experts_per_tok = 0;
  int64_t n_group = 1, topk_group = 1;
  int64_t first_k_dense_replace = 0, moe_layer_freq = 1;
  ScoringFunc scoring_func = ScoringFunc::Softmax;
  TopkMethod topk_method = TopkMethod::Greedy;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 0;
  int64_t bos_token_id = -1, eos_token_id = -1;
  bool fp8_block_quantized = false;  // quantization_config fp8 with 128x128 blocks

  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int64_t latent_dim() const { return kv_lora_rank + qk_rope_head_dim; }  // cached values per token and layer
  bool is_moe_layer(int64_t l) const {
    return n_routed_experts > 0 && l >= first_k_dense_replace && l % moe_layer_freq == 0;
  }
  // Checks the relations between fields; throws Error naming `where`.
  void validate(const std::string& where) const;
};

// Parses config.json (model_type deepseek_v2 or deepseek_v3); throws Error naming the file and field.
ModelConfig load_hf_config(const std::string& path);
// The same from the text of a config.json; `where` names it in errors.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& where);

}  // namespace dsinfer
