#include "engine/model/hf_binding.h"

#include <string>

#include "simd/error.h"
#include "simd/shape.h"

namespace dsinfer {

namespace {

class Binder {
 public:
  Binder(const SafetensorsCheckpoint& c) : ckpt_(c) {}

  bool has(const std::string& name) const { return ckpt_.find(name) != nullptr; }

  const StTensor& get(const std::string& name) const {
    const StTensor* t = ckpt_.find(name);
    if (!t) fail(ckpt_.dir(), "tensor '" + name + "' is missing from the checkpoint");
    return *t;
  }

  Matrix matrix(const std::string& name, int64_t rows, int64_t cols) const {
    const StTensor& t = get(name);
    check_shape(t, {rows, cols});
    Matrix m;
    m.type = t.dtype;
    m.rows = rows;
    m.cols = cols;
    m.data = t.data;
    switch (t.dtype) {
      case DType::F32: case DType::F16: case DType::BF16: break;
      case DType::F8_E4M3: {
        const std::string sname = name + "_scale_inv";
        const StTensor* s = ckpt_.find(sname);
        if (!s) fail(*t.file, "FP8 tensor '" + name + "' has no companion '" + sname + "'");
        if (s->dtype != DType::F32) fail(*s->file, "tensor '" + sname + "' must be F32");
        check_shape(*s, {(rows + 127) / 128, (cols + 127) / 128});
        m.scale = s->data;
        m.scale_cols = (cols + 127) / 128;
        break;
      }
      default:
        fail(*t.file, "tensor '" + name + "' has dtype " + std::string(dtype_name(t.dtype)) +
                          "; weights must be F32, F16, BF16 or F8_E4M3");
    }
    return m;
  }

  Matrix matrix_1d(const std::string& name, int64_t n) const {
    const StTensor& t = get(name);
    check_shape(t, {n});
    if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16)
      fail(*t.file, "tensor '" + name + "' must be F32, F16 or BF16, not " + std::string(dtype_name(t.dtype)));
    Matrix m;
    m.type = t.dtype;
    m.rows = 1;
    m.cols = n;
    m.data = t.data;
    return m;
  }

  std::vector<float> vec(const std::string& name, int64_t n) const {
    const Matrix m = matrix_1d(name, n);
    std::vector<float> v(static_cast<size_t>(n));
    dequant_row(m, 0, v.data());
    return v;
  }

 private:
  void check_shape(const StTensor& t, const std::vector<int64_t>& want) const {
    if (t.shape != want)
      fail(*t.file, "tensor '" + t.name + "' has shape " + shape_str(t.shape) + ", expected " + shape_str(want) +
                        " from config.json");
  }
  const SafetensorsCheckpoint& ckpt_;
};

FfnWeights bind_ffn(const Binder& b, const std::string& p, int64_t hidden, int64_t inter) {
  FfnWeights f;
  f.gate = b.matrix(p + "gate_proj.weight", inter, hidden);
  f.up = b.matrix(p + "up_proj.weight", inter, hidden);
  f.down = b.matrix(p + "down_proj.weight", hidden, inter);
  return f;
}

LayerWeights bind_layer(const Binder& b, const ModelConfig& c, int64_t l) {
  const std::string p = "model.layers." + std::to_string(l) + ".";
  const int64_t D = c.hidden_size, H = c.num_attention_heads;
  LayerWeights lw;
  lw.attn_norm = b.vec(p + "input_layernorm.weight", D);
  lw.ffn_norm = b.vec(p + "post_attention_layernorm.weight", D);
  AttentionWeights& a = lw.attn;
  const std::string ap = p + "self_attn.";
  if (c.q_lora_rank > 0) {
    a.q_a = b.matrix(ap + "q_a_proj.weight", c.q_lora_rank, D);
    a.q_a_norm = b.vec(ap + "q_a_layernorm.weight", c.q_lora_rank);
    a.q_b = b.matrix(ap + "q_b_proj.weight", H * c.qk_head_dim(), c.q_lora_rank);
  } else {
    a.q = b.matrix(ap + "q_proj.weight", H * c.qk_head_dim(), D);
  }
  a.kv_a = b.matrix(ap + "kv_a_proj_with_mqa.weight", c.latent_dim(), D);
  a.kv_a_norm = b.vec(ap + "kv_a_layernorm.weight", c.kv_lora_rank);
  const int64_t per_head = c.qk_nope_head_dim + c.v_head_dim;
  const Matrix kv_b = b.matrix(ap + "kv_b_proj.weight", H * per_head, c.kv_lora_rank);
  for (int64_t h = 0; h < H; ++h) {
    a.w_uk.push_back(kv_b.row_slice(h * per_head, c.qk_nope_head_dim));
    a.w_uv.push_back(kv_b.row_slice(h * per_head + c.qk_nope_head_dim, c.v_head_dim));
  }
  a.o = b.matrix(ap + "o_proj.weight", D, H * c.v_head_dim);

  lw.is_moe = c.is_moe_layer(l);
  const std::string mp = p + "mlp.";
  if (!lw.is_moe) {
    lw.dense = bind_ffn(b, mp, D, c.intermediate_size);
    return lw;
  }
  MoeWeights& m = lw.moe;
  m.router = b.matrix(mp + "gate.weight", c.n_routed_experts, D);
  if (c.topk_method == TopkMethod::NoauxTc)
    m.bias = b.vec(mp + "gate.e_score_correction_bias", c.n_routed_experts);
  m.experts.reserve(size_t(c.n_routed_experts));
  for (int64_t e = 0; e < c.n_routed_experts; ++e)
    m.experts.push_back(bind_ffn(b, mp + "experts." + std::to_string(e) + ".", D, c.moe_intermediate_size));
  if (c.n_shared_experts > 0)
    m.shared = bind_ffn(b, mp + "shared_experts.", D, c.moe_intermediate_size * c.n_shared_experts);
  return lw;
}

}  // namespace

Matrix hf_tensor_matrix(const SafetensorsCheckpoint& ckpt, const std::string& name) {
  Binder b(ckpt);
  const StTensor& t = b.get(name);
  if (t.shape.size() == 1) return b.matrix_1d(name, t.shape[0]);
  if (t.shape.size() != 2) fail(*t.file, "tensor '" + name + "' has " + std::to_string(t.shape.size()) + " dimensions; expected 1 or 2");
  return b.matrix(name, t.shape[0], t.shape[1]);
}

ModelWeights bind_hf_checkpoint(const SafetensorsCheckpoint& ckpt, const ModelConfig& c) {
  Binder b(ckpt);
  const int64_t D = c.hidden_size, V = c.vocab_size;
  ModelWeights w;
  w.embed = b.matrix("model.embed_tokens.weight", V, D);
  w.final_norm = b.vec("model.norm.weight", D);
  w.lm_head = b.matrix("lm_head.weight", V, D);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) w.layers.push_back(bind_layer(b, c, l));

  // A checkpoint may declare MTP but ship without it (converted copies often drop it).
  const int64_t n = c.num_hidden_layers;
  const std::string p = "model.layers." + std::to_string(n) + ".";
  if (c.num_nextn_predict_layers > 0 && b.has(p + "eh_proj.weight")) {
    MtpWeights m;
    m.embed = b.has(p + "embed_tokens.weight") ? b.matrix(p + "embed_tokens.weight", V, D) : w.embed;
    m.eh_proj = b.matrix(p + "eh_proj.weight", D, 2 * D);
    m.enorm = b.vec(p + "enorm.weight", D);
    m.hnorm = b.vec(p + "hnorm.weight", D);
    m.head_norm = b.vec(p + "shared_head.norm.weight", D);
    m.head = b.has(p + "shared_head.head.weight") ? b.matrix(p + "shared_head.head.weight", V, D) : w.lm_head;
    m.layer = bind_layer(b, c, n);
    w.mtp = std::move(m);
  }
  return w;
}

}  // namespace dsinfer
