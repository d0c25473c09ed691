#include "engine/model/gguf_binding.h"

#include "engine/model/gguf_names.h"
#include "simd/error.h"
#include "simd/shape.h"

namespace dsinfer {

namespace {

using gguf_names::blk;
using gguf_names::nextn;

class Binder {
 public:
  explicit Binder(const GgufFile& f) : f_(f) {}

  const GgufTensor* find(const std::string& name) const { return f_.find_tensor(name); }
  const std::string& path() const { return f_.path(); }

  // A tensor of exactly the shape `ne` (fastest dimension first), as a [rows x ne[0]] matrix.
  Matrix matrix(const std::string& name, const std::vector<int64_t>& ne) const {
    const GgufTensor* t = find(name);
    if (!t) fail(f_.path(), "tensor '" + name + "' is missing");
    std::vector<int64_t> got(t->ne.begin(), t->ne.begin() + t->n_dims);
    while (got.size() < ne.size()) got.push_back(1);
    if (got != ne) fail(f_.path(), "tensor '" + name + "' has shape " + t->shape_str() + ", expected " + shape_str(ne));
    if (!dtype_info(t->type).to_float)
      fail(f_.path(), "tensor '" + name + "' has type " + std::string(dtype_name(t->type)) +
                          "; dsinfer computes with F32, F16, BF16, Q8_0 and Q4_0");
    // Block structs are read in place: their fp16 scale needs 2-byte alignment.
    if (dtype_is_block(t->type) && (reinterpret_cast<uintptr_t>(t->data) & 1))
      fail(f_.path(), "tensor '" + name + "' starts at an odd offset (general.alignment 1?); cannot be read in place");
    Matrix m;
    m.type = t->type;
    m.cols = ne[0];
    m.rows = t->nrows();
    m.data = t->data;
    return m;
  }

  std::vector<float> vec(const std::string& name, int64_t n) const {
    Matrix m = matrix(name, {n});
    if (dtype_is_block(m.type)) fail(f_.path(), "tensor '" + name + "' must not be block-quantized");
    std::vector<float> v(static_cast<size_t>(n));
    dequant_row(m, 0, v.data());
    return v;
  }

 private:
  const GgufFile& f_;
};

FfnWeights ffn(const Binder& b, int64_t l, const char* gate, const char* up, const char* down, int64_t D, int64_t I) {
  FfnWeights w;
  w.gate = b.matrix(blk(l, gate), {D, I});
  w.up = b.matrix(blk(l, up), {D, I});
  w.down = b.matrix(blk(l, down), {I, D});
  return w;
}

LayerWeights layer(const Binder& b, const ModelConfig& c, int64_t l) {
  const int64_t D = c.hidden_size, H = c.num_attention_heads, r = c.kv_lora_rank;
  const int64_t dn = c.qk_nope_head_dim, dv = c.v_head_dim;
  LayerWeights lw;
  lw.attn_norm = b.vec(blk(l, "attn_norm"), D);
  lw.ffn_norm = b.vec(blk(l, "ffn_norm"), D);
  AttentionWeights& a = lw.attn;
  if (c.q_lora_rank > 0) {
    a.q_a = b.matrix(blk(l, "attn_q_a"), {D, c.q_lora_rank});
    a.q_a_norm = b.vec(blk(l, "attn_q_a_norm"), c.q_lora_rank);
    a.q_b = b.matrix(blk(l, "attn_q_b"), {c.q_lora_rank, H * c.qk_head_dim()});
  } else {
    a.q = b.matrix(blk(l, "attn_q"), {D, H * c.qk_head_dim()});
  }
  a.kv_a = b.matrix(blk(l, "attn_kv_a_mqa"), {D, c.latent_dim()});
  a.kv_a_norm = b.vec(blk(l, "attn_kv_a_norm"), r);
  if (b.find(blk(l, "attn_k_b"))) {
    const Matrix kb = b.matrix(blk(l, "attn_k_b"), {dn, r, H});  // per head W_UK^T: [r x nope]
    const Matrix vb = b.matrix(blk(l, "attn_v_b"), {r, dv, H});  // per head W_UV: [v x r]
    a.w_uk_transposed = true;
    for (int64_t h = 0; h < H; ++h) {
      a.w_uk.push_back(kb.row_slice(h * r, r));
      a.w_uv.push_back(vb.row_slice(h * dv, dv));
    }
  } else {  // older files: kv_b unsplit, like the Hugging Face layout
    const Matrix kvb = b.matrix(blk(l, "attn_kv_b"), {r, H * (dn + dv)});
    for (int64_t h = 0; h < H; ++h) {
      a.w_uk.push_back(kvb.row_slice(h * (dn + dv), dn));
      a.w_uv.push_back(kvb.row_slice(h * (dn + dv) + dn, dv));
    }
  }
  a.o = b.matrix(blk(l, "attn_output"), {H * dv, D});
  lw.is_moe = c.is_moe_layer(l);
  if (!lw.is_moe) {
    lw.dense = ffn(b, l, "ffn_gate", "ffn_up", "ffn_down", D, c.intermediate_size);
    return lw;
  }
  const int64_t E = c.n_routed_experts, I = c.moe_intermediate_size;
  MoeWeights& m = lw.moe;
  m.router = b.matrix(blk(l, "ffn_gate_inp"), {D, E});
  if (c.topk_method == TopkMethod::NoauxTc) {
    const std::string bias = gguf_names::exp_probs_b(l);
    if (!b.find(bias)) fail(b.path(), "tensor '" + bias + "' is missing (sigmoid routing needs the expert bias)");
    m.bias = b.vec(bias, E);
  }
  const Matrix g = b.matrix(blk(l, "ffn_gate_exps"), {D, I, E});
  const Matrix u = b.matrix(blk(l, "ffn_up_exps"), {D, I, E});
  const Matrix d = b.matrix(blk(l, "ffn_down_exps"), {I, D, E});
  for (int64_t e = 0; e < E; ++e) m.experts.push_back({g.row_slice(e * I, I), u.row_slice(e * I, I), d.row_slice(e * D, D)});
  if (c.n_shared_experts > 0)
    m.shared = ffn(b, l, "ffn_gate_shexp", "ffn_up_shexp", "ffn_down_shexp", D, I * c.n_shared_experts);
  return lw;
}

}  // namespace

ModelWeights bind_gguf(const GgufFile& f, const ModelConfig& c) {
  Binder b(f);
  const int64_t D = c.hidden_size, V = c.vocab_size;
  ModelWeights w;
  w.embed = b.matrix("token_embd.weight", {D, V});
  w.final_norm = b.vec("output_norm.weight", D);
  w.lm_head = b.find("output.weight") ? b.matrix("output.weight", {D, V}) : w.embed;  // tied when absent
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) w.layers.push_back(layer(b, c, l));
  const int64_t n = c.num_hidden_layers;
  if (c.num_nextn_predict_layers > 0 && b.find(nextn(n, "eh_proj"))) {
    MtpWeights m;
    m.embed = b.find(nextn(n, "embed_tokens")) ? b.matrix(nextn(n, "embed_tokens"), {D, V}) : w.embed;
    m.eh_proj = b.matrix(nextn(n, "eh_proj"), {2 * D, D});
    m.enorm = b.vec(nextn(n, "enorm"), D);
    m.hnorm = b.vec(nextn(n, "hnorm"), D);
    m.head_norm = b.find(nextn(n, "shared_head_norm")) ? b.vec(nextn(n, "shared_head_norm"), D) : w.final_norm;
    m.head = b.find(nextn(n, "shared_head_head")) ? b.matrix(nextn(n, "shared_head_head"), {D, V}) : w.lm_head;
    m.layer = layer(b, c, n);
    w.mtp = std::move(m);
  }
  return w;
}

}  // namespace dsinfer
