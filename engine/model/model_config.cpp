#include "engine/model/model_config.h"

#include <cmath>
#include <utility>
#include <nlohmann/json.hpp>

#include "quant/input_file.h"
#include "simd/error.h"

namespace dsinfer {

using nlohmann::json;

namespace {

struct Reader {
  const json& j;
  const std::string& path;

  const json* get(const char* key) const {
    auto it = j.find(key);
    return (it == j.end() || it->is_null()) ? nullptr : &*it;
  }
  [[noreturn]] void bad(const char* key, const std::string& what) const {
    fail(path, std::string("field '") + key + "' " + what);
  }
  int64_t integer(const char* key) const {
    const json* v = get(key);
    if (!v) bad(key, "is required but missing");
    if (!v->is_number_integer()) bad(key, "must be an integer");
    return v->get<int64_t>();
  }
  int64_t integer(const char* key, int64_t dflt) const { return get(key) ? integer(key) : dflt; }
  double number(const char* key, double dflt) const {
    const json* v = get(key);
    if (!v) return dflt;
    if (!v->is_number()) bad(key, "must be a number");
    return v->get<double>();
  }
  bool boolean(const char* key, bool dflt) const {
    const json* v = get(key);
    if (!v) return dflt;
    if (!v->is_boolean()) bad(key, "must be true or false");
    return v->get<bool>();
  }
  std::string string(const char* key, const std::string& dflt) const {
    const json* v = get(key);
    if (!v) return dflt;
    if (!v->is_string()) bad(key, "must be a string");
    return v->get<std::string>();
  }
  // Token ids may be a list in some configs (several eos ids); the first is the main one.
  int64_t token_id(const char* key) const {
    const json* v = get(key);
    if (!v) return -1;
    if (v->is_array() && !v->empty() && (*v)[0].is_number_integer()) return (*v)[0].get<int64_t>();
    if (!v->is_number_integer()) bad(key, "must be an integer");
    return v->get<int64_t>();
  }
};

}  // namespace

void ModelConfig::validate(const std::string& where) const {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) fail(where, what);
  };
  // Sizes far beyond any real model would overflow the products of shapes.
  constexpr int64_t kMaxDim = int64_t(1) << 24;
  const std::pair<int64_t, const char*> dims[] = {
      {vocab_size, "vocab_size"},           {hidden_size, "hidden_size"},
      {intermediate_size, "intermediate_size"}, {moe_intermediate_size, "moe_intermediate_size"},
      {num_attention_heads, "num_attention_heads"}, {q_lora_rank, "q_lora_rank"},
      {kv_lora_rank, "kv_lora_rank"},       {qk_nope_head_dim, "qk_nope_head_dim"},
      {qk_rope_head_dim, "qk_rope_head_dim"}, {v_head_dim, "v_head_dim"},
      {max_position_embeddings, "max_position_embeddings"}};
  for (const auto& [v, name] : dims)
    need(v <= kMaxDim, std::string(name) + " " + std::to_string(v) + " is implausibly large (at most 2^24)");
  need(num_hidden_layers <= 4096, "num_hidden_layers above 4096 is not supported");
  need(max_position_embeddings > 0, "max_position_embeddings must be positive");
  need(vocab_size > 0, "vocab_size must be positive");
  need(hidden_size > 0, "hidden_size must be positive");
  need(num_hidden_layers > 0, "num_hidden_layers must be positive");
  need(num_attention_heads > 0, "num_attention_heads must be positive");
  need(kv_lora_rank > 0, "kv_lora_rank must be positive");
  need(qk_nope_head_dim > 0 && v_head_dim > 0, "qk_nope_head_dim and v_head_dim must be positive");
  need(qk_rope_head_dim > 0 && qk_rope_head_dim % 2 == 0, "qk_rope_head_dim must be positive and even");
  need(q_lora_rank >= 0, "q_lora_rank must not be negative");
  need(num_nextn_predict_layers >= 0 && num_nextn_predict_layers <= 1,
       "num_nextn_predict_layers above 1 is not supported");
  need(first_k_dense_replace >= 0 && moe_layer_freq >= 1, "first_k_dense_replace/moe_layer_freq out of range");
  if (first_k_dense_replace > 0 || n_routed_experts == 0)
    need(intermediate_size > 0, "intermediate_size must be positive (dense layers exist)");
  if (n_routed_experts > 0) {
    need(moe_intermediate_size > 0, "moe_intermediate_size must be positive");
    need(num_experts_per_tok > 0 && num_experts_per_tok <= n_routed_experts,
         "num_experts_per_tok must be in 1..n_routed_experts");
    need(n_routed_experts <= 1024, "n_routed_experts above 1024 is not supported");
    need(n_shared_experts >= 0, "n_shared_experts must not be negative");
    need(n_group >= 1 && n_routed_experts % n_group == 0, "n_routed_experts must be divisible by n_group");
    need(topk_group >= 1 && topk_group <= n_group, "topk_group must be in 1..n_group");
    if (n_group > 1 && topk_method != TopkMethod::Greedy)
      need(num_experts_per_tok <= topk_group * (n_routed_experts / n_group),
           "num_experts_per_tok exceeds the experts of the kept groups");
    if (topk_method == TopkMethod::NoauxTc) need(n_routed_experts / n_group >= 2, "noaux_tc needs >= 2 experts a group");
  }
  need(std::isfinite(rms_norm_eps) && rms_norm_eps > 0, "rms_norm_eps must be positive");
  need(std::isfinite(rope_theta) && rope_theta > 1, "rope_theta must be > 1");
  need(std::isfinite(routed_scaling_factor) && routed_scaling_factor > 0, "routed_scaling_factor must be positive");
  if (rope_scaling.yarn) {
    need(std::isfinite(rope_scaling.factor) && rope_scaling.factor > 0, "rope_scaling.factor must be positive");
    need(rope_scaling.original_max_position > 0 && rope_scaling.original_max_position <= kMaxDim,
         "rope_scaling.original_max_position_embeddings must be in 1..2^24");
    need(std::isfinite(rope_scaling.beta_fast) && std::isfinite(rope_scaling.beta_slow) &&
             std::isfinite(rope_scaling.mscale) && std::isfinite(rope_scaling.mscale_all_dim),
         "rope_scaling's beta_fast, beta_slow, mscale and mscale_all_dim must be finite numbers");
  }
}

ModelConfig load_hf_config(const std::string& path) {
  return parse_hf_config(read_regular_file(path), path);
}

ModelConfig parse_hf_config(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number past double's range (1E400)
    fail(path, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail(path, "not a JSON object");
  Reader r{j, path};
  ModelConfig c;
  c.model_type = r.string("model_type", "");
  if (c.model_type.empty()) r.bad("model_type", "is required but missing");
  const bool v3 = c.model_type == "deepseek_v3";
  if (!v3 && c.model_type != "deepseek_v2")
    r.bad("model_type", "is '" + c.model_type + "'; supported: deepseek_v2, deepseek_v3");

  c.vocab_size = r.integer("vocab_size");
  c.hidden_size = r.integer("hidden_size");
  c.num_hidden_layers = r.integer("num_hidden_layers");
  c.num_attention_heads = r.integer("num_attention_heads");
  c.kv_lora_rank = r.integer("kv_lora_rank");
  c.qk_nope_head_dim = r.integer("qk_nope_head_dim");
  c.qk_rope_head_dim = r.integer("qk_rope_head_dim");
  c.v_head_dim = r.integer("v_head_dim");
  // Real configs always carry q_lora_rank; V2-Lite writes null for "no q compression".
  if (!j.contains("q_lora_rank")) r.bad("q_lora_rank", "is required but missing (use null for no q compression)");
  c.q_lora_rank = r.integer("q_lora_rank", 0);
  c.n_routed_experts = r.integer("n_routed_experts", 0);
  // Absent or null: a dense model. A number is a count of experts, and zero of them is a typo
  // (which would otherwise surface as a missing dense-FFN tensor).
  if (r.get("n_routed_experts") && c.n_routed_experts < 1)
    r.bad("n_routed_experts", "is " + std::to_string(c.n_routed_experts) +
                                  "; must be at least 1 (leave it out, or null, for a model without routed experts)");
  c.first_k_dense_replace = r.integer("first_k_dense_replace", 0);
  c.moe_layer_freq = r.integer("moe_layer_freq", 1);
  c.intermediate_size = r.integer("intermediate_size", 0);
  if (c.n_routed_experts > 0) {
    c.moe_intermediate_size = r.integer("moe_intermediate_size");
    c.num_experts_per_tok = r.integer("num_experts_per_tok");
  }
  if (c.first_k_dense_replace > 0 || c.n_routed_experts == 0) c.intermediate_size = r.integer("intermediate_size");
  c.n_shared_experts = r.integer("n_shared_experts", 0);
  // Defaults are those of the released configuration classes for each model_type
  // (V2: softmax, greedy, no renormalisation; V3: sigmoid, noaux_tc, renormalised, x2.5).
  c.n_group = r.integer("n_group", v3 ? 8 : 1);
  c.topk_group = r.integer("topk_group", v3 ? 4 : 1);
  c.num_nextn_predict_layers = r.integer("num_nextn_predict_layers", 0);
  c.norm_topk_prob = r.boolean("norm_topk_prob", v3);
  c.routed_scaling_factor = r.number("routed_scaling_factor", v3 ? 2.5 : 1.0);
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
  c.rope_theta = r.number("rope_theta", 10000.0);
  c.max_position_embeddings = r.integer("max_position_embeddings", 4096);
  c.bos_token_id = r.token_id("bos_token_id");
  c.eos_token_id = r.token_id("eos_token_id");

  const std::string scoring = r.string("scoring_func", v3 ? "sigmoid" : "softmax");
  if (scoring == "softmax") c.scoring_func = ScoringFunc::Softmax;
  else if (scoring == "sigmoid") c.scoring_func = ScoringFunc::Sigmoid;
  else r.bad("scoring_func", "is '" + scoring + "'; supported: softmax, sigmoid");
  std::string method = r.string("topk_method", v3 ? "noaux_tc" : "greedy");
  if (method == "greedy" || method == "gready") c.topk_method = TopkMethod::Greedy;  // V2's class default is misspelt
  else if (method == "group_limited_greedy") c.topk_method = TopkMethod::GroupLimitedGreedy;
  else if (method == "noaux_tc") c.topk_method = TopkMethod::NoauxTc;
  else r.bad("topk_method", "is '" + method + "'; supported: greedy, group_limited_greedy, noaux_tc");

  if (const json* rs = r.get("rope_scaling")) {
    if (!rs->is_object()) r.bad("rope_scaling", "must be an object or null");
    Reader s{*rs, path};
    std::string type = s.string("type", s.string("rope_type", ""));
    if (type == "yarn") {
      c.rope_scaling.yarn = true;
      c.rope_scaling.factor = s.number("factor", 1.0);
      c.rope_scaling.original_max_position = s.integer("original_max_position_embeddings", 4096);
      c.rope_scaling.beta_fast = s.number("beta_fast", 32.0);
      c.rope_scaling.beta_slow = s.number("beta_slow", 1.0);
      c.rope_scaling.mscale = s.number("mscale", 1.0);
      c.rope_scaling.mscale_all_dim = s.number("mscale_all_dim", 0.0);
    } else if (type != "default" && !type.empty()) {
      r.bad("rope_scaling", "type '" + type + "' is not supported (yarn or none)");
    }
  }

  if (const json* q = r.get("quantization_config")) {
    Reader s{*q, path};
    const std::string m = s.string("quant_method", "");
    if (m != "fp8") r.bad("quantization_config", "quant_method '" + m + "' is not supported (fp8 only)");
    const json* bs = s.get("weight_block_size");
    if (!bs || *bs != json::array({128, 128}))
      r.bad("quantization_config", "weight_block_size must be [128, 128]");
    const std::string fmt = s.string("fmt", "e4m3");
    if (fmt != "e4m3") r.bad("quantization_config", "fmt '" + fmt + "' is not supported (e4m3 only)");
    c.fp8_block_quantized = true;
  }
  c.validate(path);
  return c;
}

}  // namespace dsinfer
