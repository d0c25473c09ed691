#include "tools/quantize/conversion_plan.h"

#include <cstring>

#include "engine/model/gguf_names.h"
#include "simd/error.h"
#include "simd/shape.h"

namespace dsinfer::cli {

namespace {

using gguf_names::blk;
using gguf_names::nextn;

class Planner {
 public:
  // Without a checkpoint it lays out the tensors only (sources named, not checked).
  Planner(const SafetensorsCheckpoint* ckpt, const ModelConfig& c, const QuantRecipe& r, ConversionPlan& p)
      : ckpt_(ckpt), c_(c), recipe_(r), plan_(p) {}

  void add(std::string name, std::vector<int64_t> ne, TensorRole role, SourceKind kind, std::vector<std::string> src) {
    PlannedTensor t;
    t.type = recipe_.choose(name, role, ne[0]);
    t.name = std::move(name);
    t.ne = std::move(ne);
    t.role = role;
    t.kind = kind;
    t.sources = std::move(src);
    uint64_t rows = 1;
    for (size_t i = 1; i < t.ne.size(); ++i) rows *= uint64_t(t.ne[i]);
    t.out_bytes = dtype_row_bytes(t.type, uint64_t(t.ne[0])) * rows;
    for (const std::string& s : t.sources) {
      if (!ckpt_) break;
      const StTensor& st = need(s);
      check_shape(st, t);
      t.in_bytes += st.nbytes;
    }
    plan_.in_bytes += t.in_bytes;
    plan_.out_bytes += t.out_bytes;
    plan_.tensors.push_back(std::move(t));
  }
  void copy(std::string name, std::vector<int64_t> ne, TensorRole role, const std::string& src) {
    add(std::move(name), std::move(ne), role, SourceKind::Copy, {src});
  }
  const StTensor& need(const std::string& name) const {
    const StTensor* t = ckpt_->find(name);
    if (!t) fail(ckpt_->dir(), "tensor '" + name + "' is missing from the checkpoint");
    return *t;
  }
  bool has(const std::string& name) const { return !ckpt_ || ckpt_->find(name) != nullptr; }
  // The source shape each kind of output implies, checked before any data is read.
  void check_shape(const StTensor& st, const PlannedTensor& t) const {
    std::vector<int64_t> want;
    switch (t.kind) {
      case SourceKind::Copy:
        want.assign(t.ne.rbegin(), t.ne.rend());
        break;
      case SourceKind::StackExperts:
        want = {t.ne[1], t.ne[0]};
        break;
      case SourceKind::KeyAbsorb:
      case SourceKind::ValueAbsorb:
        want = {c_.num_attention_heads * (c_.qk_nope_head_dim + c_.v_head_dim), c_.kv_lora_rank};
        break;
    }
    if (st.shape != want) {
      fail(*st.file, "tensor '" + st.name + "' has shape " + shape_str(st.shape) + ", expected " + shape_str(want) + " from config.json");
    }
  }
  // Byte-identical copies (the MTP layer's embedding and head in the real release) are shared.
  bool same_bytes(const std::string& a, const std::string& b) const {
    if (!ckpt_) return true;  // a layout alone shares them
    const StTensor *x = ckpt_->find(a), *y = ckpt_->find(b);
    return x && y && x->dtype == y->dtype && x->shape == y->shape && std::memcmp(x->data, y->data, x->nbytes) == 0;
  }

  void layer(int64_t l, int64_t gguf_l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const int64_t D = c_.hidden_size, H = c_.num_attention_heads, r = c_.kv_lora_rank;
    const int64_t dn = c_.qk_nope_head_dim, dv = c_.v_head_dim, g = gguf_l;
    copy(blk(g, "attn_norm"), {D}, TensorRole::Norm, p + "input_layernorm.weight");
    if (c_.q_lora_rank > 0) {
      copy(blk(g, "attn_q_a"), {D, c_.q_lora_rank}, TensorRole::Attention, p + "self_attn.q_a_proj.weight");
      copy(blk(g, "attn_q_a_norm"), {c_.q_lora_rank}, TensorRole::Norm, p + "self_attn.q_a_layernorm.weight");
      copy(blk(g, "attn_q_b"), {c_.q_lora_rank, H * c_.qk_head_dim()}, TensorRole::Attention, p + "self_attn.q_b_proj.weight");
    } else {
      copy(blk(g, "attn_q"), {D, H * c_.qk_head_dim()}, TensorRole::Attention, p + "self_attn.q_proj.weight");
    }
    copy(blk(g, "attn_kv_a_mqa"), {D, c_.latent_dim()}, TensorRole::Attention, p + "self_attn.kv_a_proj_with_mqa.weight");
    copy(blk(g, "attn_kv_a_norm"), {r}, TensorRole::Norm, p + "self_attn.kv_a_layernorm.weight");
    add(blk(g, "attn_k_b"), {dn, r, H}, TensorRole::Attention, SourceKind::KeyAbsorb, {p + "self_attn.kv_b_proj.weight"});
    add(blk(g, "attn_v_b"), {r, dv, H}, TensorRole::Attention, SourceKind::ValueAbsorb, {p + "self_attn.kv_b_proj.weight"});
    copy(blk(g, "attn_output"), {H * dv, D}, TensorRole::Attention, p + "self_attn.o_proj.weight");
    copy(blk(g, "ffn_norm"), {D}, TensorRole::Norm, p + "post_attention_layernorm.weight");
    if (!c_.is_moe_layer(l)) {
      const int64_t I = c_.intermediate_size;
      copy(blk(g, "ffn_gate"), {D, I}, TensorRole::DenseFfn, p + "mlp.gate_proj.weight");
      copy(blk(g, "ffn_up"), {D, I}, TensorRole::DenseFfn, p + "mlp.up_proj.weight");
      copy(blk(g, "ffn_down"), {I, D}, TensorRole::DenseFfn, p + "mlp.down_proj.weight");
      return;
    }
    const int64_t E = c_.n_routed_experts, I = c_.moe_intermediate_size;
    copy(blk(g, "ffn_gate_inp"), {D, E}, TensorRole::Router, p + "mlp.gate.weight");
    if (c_.topk_method == TopkMethod::NoauxTc)
      copy(gguf_names::exp_probs_b(g), {E}, TensorRole::ExpertBias, p + "mlp.gate.e_score_correction_bias");
    for (const char* w : {"gate", "up", "down"}) {
      std::vector<std::string> src;
      for (int64_t e = 0; e < E; ++e) src.push_back(p + "mlp.experts." + std::to_string(e) + "." + w + "_proj.weight");
      const std::string name = blk(g, (std::string("ffn_") + w + "_exps").c_str());
      add(name, std::string(w) == "down" ? std::vector<int64_t>{I, D, E} : std::vector<int64_t>{D, I, E},
          TensorRole::RoutedExperts, SourceKind::StackExperts, std::move(src));
    }
    if (c_.n_shared_experts > 0) {
      const int64_t S = I * c_.n_shared_experts;
      copy(blk(g, "ffn_gate_shexp"), {D, S}, TensorRole::SharedExperts, p + "mlp.shared_experts.gate_proj.weight");
      copy(blk(g, "ffn_up_shexp"), {D, S}, TensorRole::SharedExperts, p + "mlp.shared_experts.up_proj.weight");
      copy(blk(g, "ffn_down_shexp"), {S, D}, TensorRole::SharedExperts, p + "mlp.shared_experts.down_proj.weight");
    }
  }

  void mtp(int64_t n) {
    const std::string p = "model.layers." + std::to_string(n) + ".";
    const int64_t D = c_.hidden_size, V = c_.vocab_size;
    layer(n, n);
    copy(nextn(n, "eh_proj"), {2 * D, D}, TensorRole::MtpProjection, p + "eh_proj.weight");
    copy(nextn(n, "enorm"), {D}, TensorRole::Norm, p + "enorm.weight");
    copy(nextn(n, "hnorm"), {D}, TensorRole::Norm, p + "hnorm.weight");
    copy(nextn(n, "shared_head_norm"), {D}, TensorRole::Norm, p + "shared_head.norm.weight");
    if (has(p + "embed_tokens.weight") && !same_bytes(p + "embed_tokens.weight", "model.embed_tokens.weight"))
      copy(nextn(n, "embed_tokens"), {D, V}, TensorRole::Embedding, p + "embed_tokens.weight");
    if (has(p + "shared_head.head.weight") && !same_bytes(p + "shared_head.head.weight", "lm_head.weight"))
      copy(nextn(n, "shared_head_head"), {D, V}, TensorRole::Output, p + "shared_head.head.weight");
  }

 private:
  const SafetensorsCheckpoint* ckpt_;
  const ModelConfig& c_;
  const QuantRecipe& recipe_;
  ConversionPlan& plan_;
};

ConversionPlan plan(const SafetensorsCheckpoint* ckpt, const ModelConfig& c, const QuantRecipe& recipe,
                    bool include_mtp) {
  ConversionPlan plan;
  plan.config = c;
  Planner p(ckpt, c, recipe, plan);
  const int64_t D = c.hidden_size, V = c.vocab_size;
  p.copy("token_embd.weight", {D, V}, TensorRole::Embedding, "model.embed_tokens.weight");
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) p.layer(l, l);
  const int64_t n = c.num_hidden_layers;
  plan.with_mtp = include_mtp && c.num_nextn_predict_layers > 0 && p.has("model.layers." + std::to_string(n) + ".eh_proj.weight");
  if (plan.with_mtp) p.mtp(n);
  p.copy("output_norm.weight", {D}, TensorRole::Norm, "model.norm.weight");
  p.copy("output.weight", {D, V}, TensorRole::Output, "lm_head.weight");
  return plan;
}

}  // namespace

ConversionPlan plan_conversion(const SafetensorsCheckpoint& ckpt, const ModelConfig& c, const QuantRecipe& recipe,
                               bool include_mtp) {
  return plan(&ckpt, c, recipe, include_mtp);
}

ConversionPlan plan_layout(const ModelConfig& c, const QuantRecipe& recipe, bool include_mtp) {
  return plan(nullptr, c, recipe, include_mtp);
}

}  // namespace dsinfer::cli
