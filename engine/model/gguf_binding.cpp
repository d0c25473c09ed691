#include "engine/model/gguf_binding.h"

#include <cstring>
#include <numeric>
#include <vector>

#include "engine/experts/resident_tensors.h"
#include "engine/model/gguf_names.h"
#include "simd/error.h"
#include "simd/kernels.h"
#include "simd/repack.h"
#include "simd/shape.h"

namespace dsinfer {

namespace {

using gguf_names::blk;
using gguf_names::nextn;

class Binder {
 public:
  Binder(const GgufFile& f, bool repack, const ResidentTensors* resident)
      : f_(f), resident_(resident),
        repack_(repack && (resident || f.writable_file_data()) && simd::kernels().r16_native) {}

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
    if (resident_)
      if (const uint8_t* r = resident_->data(*t)) m.data = r;
    return m;
  }

  // A matrix that products read, in views of `slice` rows (0: one view): repacked into row
  // groups in place when the weights were copied into memory, the kernels have their own
  // row-group products, and every view starts on a group.
  Matrix product(const std::string& name, const std::vector<int64_t>& ne, int64_t slice = 0) const {
    Matrix m = matrix(name, ne);
    const int64_t nb = m.cols / kBlockWeights;
    if (!repack_ || (m.type != DType::Q4_0 && m.type != DType::Q8_0) || m.rows % kRowGroup != 0 ||
        slice % kRowGroup != 0 || nb < 1 || nb > kR16MaxBlocks)
      return m;
    uint8_t* data = nullptr;
    if (resident_) {
      data = resident_->data(*find(name));
      if (!data) return m;  // not read into memory (the store's experts): left as stored
    } else {
      data = f_.writable_file_data() + (m.data - f_.file_data());
    }
    const size_t row_bytes = dtype_row_bytes(m.type, m.cols), group_bytes = kRowGroup * row_bytes;
    const int64_t groups = m.rows / kRowGroup;
#pragma omp parallel
    {
      std::vector<uint8_t> rows(group_bytes);
#pragma omp for schedule(static)
      for (int64_t g = 0; g < groups; ++g) {
        uint8_t* p = data + size_t(g) * group_bytes;
        std::memcpy(rows.data(), p, group_bytes);
        if (m.type == DType::Q4_0)
          repack_q4_0_rows(reinterpret_cast<const BlockQ4_0*>(rows.data()), nb, p);
        else
          repack_q8_0_rows(reinterpret_cast<const BlockQ8_0*>(rows.data()), nb, p);
      }
    }
    m.layout = Layout::RowGroups;
    repacked_ = true;
    return m;
  }

  std::vector<float> vec(const std::string& name, int64_t n) const {
    Matrix m = matrix(name, {n});
    if (dtype_is_block(m.type)) fail(f_.path(), "tensor '" + name + "' must not be block-quantized");
    std::vector<float> v(static_cast<size_t>(n));
    dequant_row(m, 0, v.data());
    return v;
  }

 public:
  bool repacked() const { return repacked_; }

 private:
  const GgufFile& f_;
  const ResidentTensors* resident_;
  bool repack_;
  mutable bool repacked_ = false;
};

FfnWeights ffn(const Binder& b, int64_t l, const char* gate, const char* up, const char* down, int64_t D, int64_t I) {
  FfnWeights w;
  w.gate = b.product(blk(l, gate), {D, I});
  w.up = b.product(blk(l, up), {D, I});
  w.down = b.product(blk(l, down), {I, D});
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
    a.q_a = b.product(blk(l, "attn_q_a"), {D, c.q_lora_rank});
    a.q_a_norm = b.vec(blk(l, "attn_q_a_norm"), c.q_lora_rank);
    a.q_b = b.product(blk(l, "attn_q_b"), {c.q_lora_rank, H * c.qk_head_dim()});
  } else {
    a.q = b.product(blk(l, "attn_q"), {D, H * c.qk_head_dim()});
  }
  a.kv_a = b.product(blk(l, "attn_kv_a_mqa"), {D, c.latent_dim()});
  a.kv_a_norm = b.vec(blk(l, "attn_kv_a_norm"), r);
  if (b.find(blk(l, "attn_k_b"))) {
    const Matrix kb = b.product(blk(l, "attn_k_b"), {dn, r, H}, r);  // per head W_UK^T: [r x nope]
    const Matrix vb = b.product(blk(l, "attn_v_b"), {r, dv, H}, dv);  // per head W_UV: [v x r]
    a.w_uk_transposed = true;
    for (int64_t h = 0; h < H; ++h) {
      a.w_uk.push_back(kb.row_slice(h * r, r));
      a.w_uv.push_back(vb.row_slice(h * dv, dv));
    }
  } else {  // older files: kv_b unsplit, like the Hugging Face layout
    const Matrix kvb = b.product(blk(l, "attn_kv_b"), {r, H * (dn + dv)}, std::gcd(dn, dv));
    for (int64_t h = 0; h < H; ++h) {
      a.w_uk.push_back(kvb.row_slice(h * (dn + dv), dn));
      a.w_uv.push_back(kvb.row_slice(h * (dn + dv) + dn, dv));
    }
  }
  a.o = b.product(blk(l, "attn_output"), {H * dv, D});
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
  const Matrix g = b.product(blk(l, "ffn_gate_exps"), {D, I, E}, I);
  const Matrix u = b.product(blk(l, "ffn_up_exps"), {D, I, E}, I);
  const Matrix d = b.product(blk(l, "ffn_down_exps"), {I, D, E}, D);
  for (int64_t e = 0; e < E; ++e) m.experts.push_back({g.row_slice(e * I, I), u.row_slice(e * I, I), d.row_slice(e * D, D)});
  if (c.n_shared_experts > 0)
    m.shared = ffn(b, l, "ffn_gate_shexp", "ffn_up_shexp", "ffn_down_shexp", D, I * c.n_shared_experts);
  return lw;
}

}  // namespace

ModelWeights bind_gguf(const GgufFile& f, const ModelConfig& c, bool repack, const ResidentTensors* resident) {
  Binder b(f, repack, resident);
  const int64_t D = c.hidden_size, V = c.vocab_size;
  ModelWeights w;
  w.embed = b.matrix("token_embd.weight", {D, V});
  w.final_norm = b.vec("output_norm.weight", D);
  w.lm_head = b.find("output.weight") ? b.product("output.weight", {D, V}) : w.embed;  // tied when absent
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) w.layers.push_back(layer(b, c, l));
  const int64_t n = c.num_hidden_layers;
  if (c.num_nextn_predict_layers > 0 && b.find(nextn(n, "eh_proj"))) {
    MtpWeights m;
    m.embed = b.find(nextn(n, "embed_tokens")) ? b.matrix(nextn(n, "embed_tokens"), {D, V}) : w.embed;
    m.eh_proj = b.product(nextn(n, "eh_proj"), {2 * D, D});
    m.enorm = b.vec(nextn(n, "enorm"), D);
    m.hnorm = b.vec(nextn(n, "hnorm"), D);
    m.head_norm = b.find(nextn(n, "shared_head_norm")) ? b.vec(nextn(n, "shared_head_norm"), D) : w.final_norm;
    m.head = b.find(nextn(n, "shared_head_head")) ? b.product(nextn(n, "shared_head_head"), {D, V}) : w.lm_head;
    m.layer = layer(b, c, n);
    w.mtp = std::move(m);
  }
  w.repacked = b.repacked();
  return w;
}

}  // namespace dsinfer
