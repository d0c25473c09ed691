#include "engine/gguf_metadata.h"

#include <cmath>

#include "engine/gguf_names.h"
#include "simd/error.h"

namespace dsinfer {

using gguf_names::key;

namespace {
constexpr uint32_t kGatingSoftmax = 1, kGatingSigmoid = 2;  // llama.cpp's expert_gating_func values
}

void write_deepseek2_metadata(GgufWriter& w, const ModelConfig& c, bool with_mtp) {
  auto u32 = [&](const char* k, int64_t v) { w.set_u32(key(k), uint32_t(v)); };
  auto f32 = [&](const char* k, double v) { w.set_f32(key(k), float(v)); };
  w.set_string("general.architecture", gguf_names::kArch);
  u32("block_count", c.num_hidden_layers + (with_mtp ? c.num_nextn_predict_layers : 0));
  u32("context_length", c.max_position_embeddings);
  u32("embedding_length", c.hidden_size);
  u32("feed_forward_length", c.intermediate_size);
  u32("attention.head_count", c.num_attention_heads);
  u32("attention.head_count_kv", 1);  // MLA is stored as one shared latent "head"
  f32("rope.freq_base", c.rope_theta);
  f32("attention.layer_norm_rms_epsilon", c.rms_norm_eps);
  u32("vocab_size", c.vocab_size);
  u32("leading_dense_block_count", c.first_k_dense_replace);
  u32("attention.q_lora_rank", c.q_lora_rank);
  u32("attention.kv_lora_rank", c.kv_lora_rank);
  u32("attention.key_length", c.kv_lora_rank + c.qk_rope_head_dim);
  u32("attention.value_length", c.kv_lora_rank);
  u32("attention.key_length_mla", c.qk_head_dim());
  u32("attention.value_length_mla", c.v_head_dim);
  u32("rope.dimension_count", c.qk_rope_head_dim);
  u32("expert_feed_forward_length", c.moe_intermediate_size);
  u32("expert_count", c.n_routed_experts);
  u32("expert_used_count", c.num_experts_per_tok);
  u32("expert_shared_count", c.n_shared_experts);
  u32("expert_group_count", c.n_group);
  u32("expert_group_used_count", c.topk_group);
  f32("expert_weights_scale", c.routed_scaling_factor);
  w.set_bool(key("expert_weights_norm"), c.norm_topk_prob);
  u32("expert_gating_func", c.scoring_func == ScoringFunc::Sigmoid ? kGatingSigmoid : kGatingSoftmax);
  if (c.moe_layer_freq != 1) fail("config.json", "moe_layer_freq != 1 has no deepseek2 GGUF equivalent");
  const RopeScaling& y = c.rope_scaling;
  if (y.yarn) {
    // GGUF keeps one YaRN temperature; every released config has mscale == mscale_all_dim.
    if (std::fabs(y.mscale - y.mscale_all_dim) > 1e-9 && y.mscale_all_dim != 0.0)
      fail("config.json", "rope_scaling mscale != mscale_all_dim cannot be stored in deepseek2 GGUF metadata");
    w.set_string(key("rope.scaling.type"), "yarn");
    f32("rope.scaling.factor", y.factor);
    u32("rope.scaling.original_context_length", y.original_max_position);
    f32("rope.scaling.yarn_beta_fast", y.beta_fast);
    f32("rope.scaling.yarn_beta_slow", y.beta_slow);
    // llama.cpp's convention for this architecture: 0.1 * mscale_all_dim.
    f32("rope.scaling.yarn_log_multiplier", 0.1 * y.mscale_all_dim);
  } else {
    w.set_string(key("rope.scaling.type"), "none");
  }
  if (with_mtp && c.num_nextn_predict_layers > 0) u32("nextn_predict_layers", c.num_nextn_predict_layers);
}

ModelConfig read_deepseek2_config(const GgufFile& f) {
  const std::string arch(f.get_string("general.architecture"));
  if (arch != gguf_names::kArch)
    fail(f.path(), "general.architecture is '" + arch + "'; dsinfer runs '" + gguf_names::kArch + "' files");
  auto u = [&](const char* k) { return int64_t(f.get_u32(key(k))); };
  auto u_or = [&](const char* k, uint32_t d) { return int64_t(f.get_u32(key(k), d)); };
  ModelConfig c;
  c.num_nextn_predict_layers = u_or("nextn_predict_layers", 0);
  c.num_hidden_layers = u("block_count") - c.num_nextn_predict_layers;
  c.max_position_embeddings = u_or("context_length", 4096);
  c.hidden_size = u("embedding_length");
  c.intermediate_size = u_or("feed_forward_length", 0);
  c.num_attention_heads = u("attention.head_count");
  c.rope_theta = f.get_f32(key("rope.freq_base"), 10000.0f);
  c.rms_norm_eps = f.get_f32(key("attention.layer_norm_rms_epsilon"));
  c.first_k_dense_replace = u_or("leading_dense_block_count", 0);
  c.q_lora_rank = u_or("attention.q_lora_rank", 0);
  c.kv_lora_rank = u("attention.kv_lora_rank");
  c.qk_rope_head_dim = u("rope.dimension_count");
  const int64_t k_mla = u_or("attention.key_length_mla", 0), v_mla = u_or("attention.value_length_mla", 0);
  if (k_mla) {
    c.qk_nope_head_dim = k_mla - c.qk_rope_head_dim;
    c.v_head_dim = v_mla;
  } else {  // older files: key_length/value_length are the per-head sizes
    c.qk_nope_head_dim = u("attention.key_length") - c.qk_rope_head_dim;
    c.v_head_dim = u("attention.value_length");
  }
  c.moe_intermediate_size = u_or("expert_feed_forward_length", 0);
  c.n_routed_experts = u_or("expert_count", 0);
  c.num_experts_per_tok = u_or("expert_used_count", 0);
  c.n_shared_experts = u_or("expert_shared_count", 0);
  c.n_group = u_or("expert_group_count", 1);
  c.topk_group = u_or("expert_group_used_count", 1);
  if (c.n_group == 0) c.n_group = 1;
  if (c.topk_group == 0) c.topk_group = c.n_group;
  c.routed_scaling_factor = f.get_f32(key("expert_weights_scale"), 1.0f);
  c.norm_topk_prob = f.get_bool(key("expert_weights_norm"), false);
  const uint32_t gating = f.get_u32(key("expert_gating_func"), kGatingSoftmax);
  if (gating != kGatingSoftmax && gating != kGatingSigmoid)
    fail(f.path(), "deepseek2.expert_gating_func " + std::to_string(gating) + " is not softmax (1) or sigmoid (2)");
  c.scoring_func = gating == kGatingSigmoid ? ScoringFunc::Sigmoid : ScoringFunc::Softmax;
  c.model_type = gating == kGatingSigmoid ? "deepseek_v3" : "deepseek_v2";
  // GGUF names no top-k method: the bias tensor and the group count imply it.
  if (c.scoring_func == ScoringFunc::Sigmoid)
    c.topk_method = f.find_tensor(gguf_names::exp_probs_b(c.first_k_dense_replace)) ? TopkMethod::NoauxTc
                                                                                    : TopkMethod::Greedy;
  else
    c.topk_method = c.n_group > 1 ? TopkMethod::GroupLimitedGreedy : TopkMethod::Greedy;
  const std::string scaling = f.has(key("rope.scaling.type")) ? std::string(f.get_string(key("rope.scaling.type"))) : "none";
  if (scaling == "yarn") {
    RopeScaling& y = c.rope_scaling;
    y.yarn = true;
    y.factor = f.get_f32(key("rope.scaling.factor"));
    y.original_max_position = u_or("rope.scaling.original_context_length", 4096);
    y.beta_fast = f.get_f32(key("rope.scaling.yarn_beta_fast"), 32.0f);
    y.beta_slow = f.get_f32(key("rope.scaling.yarn_beta_slow"), 1.0f);
    y.mscale_all_dim = double(f.get_f32(key("rope.scaling.yarn_log_multiplier"), 0.0f)) / 0.1;
    y.mscale = y.mscale_all_dim;  // one temperature in GGUF: cos/sin are not rescaled
  } else if (scaling != "none") {
    fail(f.path(), "deepseek2.rope.scaling.type '" + scaling + "' is not supported (yarn or none)");
  }
  if (f.has("tokenizer.ggml.tokens")) c.vocab_size = int64_t(f.get_strings("tokenizer.ggml.tokens").size());
  c.vocab_size = u_or("vocab_size", uint32_t(c.vocab_size));
  if (c.vocab_size == 0) {
    const GgufTensor& e = f.tensor("token_embd.weight");
    c.vocab_size = e.ne[1];
  }
  c.bos_token_id = f.has("tokenizer.ggml.bos_token_id") ? int64_t(f.get_u32("tokenizer.ggml.bos_token_id")) : -1;
  c.eos_token_id = f.has("tokenizer.ggml.eos_token_id") ? int64_t(f.get_u32("tokenizer.ggml.eos_token_id")) : -1;
  c.validate(f.path());
  return c;
}

}  // namespace dsinfer
