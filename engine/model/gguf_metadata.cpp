#include "engine/model/gguf_metadata.h"

#include <cmath>

#include "engine/model/gguf_names.h"
#include "simd/error.h"

namespace dsinfer {

using gguf_names::key;

namespace {
constexpr uint32_t kGatingSoftmax = 1, kGatingSigmoid = 2;  // llama.cpp's expert_gating_func values

// The keys that hold one ModelConfig field as it is, both ways. Keys derived from several
// fields (block_count, the key/value lengths, the gating function, rope scaling, nextn) are
// written and read by the code below the table.
struct PlainKey {
  const char* key;  // after "deepseek2."
  int64_t ModelConfig::*i = nullptr;  // u32 keys
  double ModelConfig::*d = nullptr;   // f32 keys
  bool ModelConfig::*b = nullptr;     // bool keys
  bool required = false;              // reading fails without it
  double absent = 0;                  // the value when it is not required and absent
};

constexpr PlainKey kPlainKeys[] = {
    {"context_length", &ModelConfig::max_position_embeddings, nullptr, nullptr, false, 4096},
    {"embedding_length", &ModelConfig::hidden_size, nullptr, nullptr, true},
    {"feed_forward_length", &ModelConfig::intermediate_size},
    {"attention.head_count", &ModelConfig::num_attention_heads, nullptr, nullptr, true},
    {"rope.freq_base", nullptr, &ModelConfig::rope_theta, nullptr, false, 10000.0},
    {"attention.layer_norm_rms_epsilon", nullptr, &ModelConfig::rms_norm_eps, nullptr, true},
    {"leading_dense_block_count", &ModelConfig::first_k_dense_replace},
    {"attention.q_lora_rank", &ModelConfig::q_lora_rank},
    {"attention.kv_lora_rank", &ModelConfig::kv_lora_rank, nullptr, nullptr, true},
    {"rope.dimension_count", &ModelConfig::qk_rope_head_dim, nullptr, nullptr, true},
    {"expert_feed_forward_length", &ModelConfig::moe_intermediate_size},
    {"expert_count", &ModelConfig::n_routed_experts},
    {"expert_used_count", &ModelConfig::num_experts_per_tok},
    {"expert_shared_count", &ModelConfig::n_shared_experts},
    {"expert_group_count", &ModelConfig::n_group, nullptr, nullptr, false, 1},
    {"expert_group_used_count", &ModelConfig::topk_group, nullptr, nullptr, false, 1},
    {"expert_weights_scale", nullptr, &ModelConfig::routed_scaling_factor, nullptr, false, 1.0},
    {"expert_weights_norm", nullptr, nullptr, &ModelConfig::norm_topk_prob, false, 0},
};

void write_plain(GgufWriter& w, const ModelConfig& c) {
  for (const PlainKey& k : kPlainKeys) {
    if (k.i) w.set_u32(key(k.key), uint32_t(c.*k.i));
    if (k.d) w.set_f32(key(k.key), float(c.*k.d));
    if (k.b) w.set_bool(key(k.key), c.*k.b);
  }
}

void read_plain(const GgufFile& f, ModelConfig& c) {
  for (const PlainKey& k : kPlainKeys) {
    const std::string name = key(k.key);
    if (!k.required && !f.has(name)) {
      if (k.i) c.*k.i = int64_t(k.absent);
      if (k.d) c.*k.d = k.absent;
      if (k.b) c.*k.b = k.absent != 0;
      continue;
    }
    if (k.i) c.*k.i = int64_t(f.get_u32(name));
    if (k.d) c.*k.d = double(f.get_f32(name));
    if (k.b) c.*k.b = f.get_bool(name);
  }
}
}  // namespace

void write_deepseek2_metadata(GgufWriter& w, const ModelConfig& c, bool with_mtp) {
  auto u32 = [&](const char* k, int64_t v) { w.set_u32(key(k), uint32_t(v)); };
  auto f32 = [&](const char* k, double v) { w.set_f32(key(k), float(v)); };
  w.set_string("general.architecture", gguf_names::kArch);
  u32("block_count", c.num_hidden_layers + (with_mtp ? c.num_nextn_predict_layers : 0));
  write_plain(w, c);
  u32("attention.head_count_kv", 1);  // MLA is stored as one shared latent "head"
  u32("vocab_size", c.vocab_size);
  u32("attention.key_length", c.kv_lora_rank + c.qk_rope_head_dim);
  u32("attention.value_length", c.kv_lora_rank);
  u32("attention.key_length_mla", c.qk_head_dim());
  u32("attention.value_length_mla", c.v_head_dim);
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
  read_plain(f, c);
  const int64_t k_mla = u_or("attention.key_length_mla", 0), v_mla = u_or("attention.value_length_mla", 0);
  if (k_mla) {
    c.qk_nope_head_dim = k_mla - c.qk_rope_head_dim;
    c.v_head_dim = v_mla;
  } else {  // older files: key_length/value_length are the per-head sizes
    c.qk_nope_head_dim = u("attention.key_length") - c.qk_rope_head_dim;
    c.v_head_dim = u("attention.value_length");
  }
  if (c.n_group == 0) c.n_group = 1;
  if (c.topk_group == 0) c.topk_group = c.n_group;
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
