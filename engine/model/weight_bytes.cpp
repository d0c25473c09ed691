#include "engine/model/weight_bytes.h"

#include <algorithm>

namespace dsinfer {

uint64_t bytes_of(const Matrix& m) {
  if (m.empty()) return 0;
  uint64_t b = uint64_t(dtype_row_bytes(m.type, m.cols)) * uint64_t(m.rows);
  if (m.type == DType::F8_E4M3) b += uint64_t((m.rows + 127) / 128) * uint64_t(m.scale_cols) * 4;
  return b;
}

namespace {
uint64_t ffn_bytes(const FfnWeights& f) { return bytes_of(f.gate) + bytes_of(f.up) + bytes_of(f.down); }

uint64_t attention_bytes(const AttentionWeights& a) {
  uint64_t b = bytes_of(a.q_a) + bytes_of(a.q_b) + bytes_of(a.q) + bytes_of(a.kv_a) + bytes_of(a.o);
  for (const Matrix& m : a.w_uk) b += bytes_of(m);
  for (const Matrix& m : a.w_uv) b += bytes_of(m);
  return b;
}

// A layer's bytes whatever it routes to, and its average routed expert's (0 for a dense layer).
struct LayerBytes {
  uint64_t shared = 0, expert = 0;
};
LayerBytes layer_bytes(const LayerWeights& l) {
  LayerBytes b{attention_bytes(l.attn), 0};
  if (!l.is_moe) {
    b.shared += ffn_bytes(l.dense);
    return b;
  }
  b.shared += bytes_of(l.moe.router) + ffn_bytes(l.moe.shared);
  uint64_t experts = 0;
  for (const FfnWeights& e : l.moe.experts) experts += ffn_bytes(e);
  b.expert = experts / std::max<uint64_t>(1, l.moe.experts.size());
  return b;
}
}  // namespace

StepBytes step_bytes(const Model& model) {
  const ModelWeights& w = model.weights();
  StepBytes sb;
  sb.shared = bytes_of(w.lm_head);
  for (const LayerWeights& l : w.layers) {
    const LayerBytes b = layer_bytes(l);
    sb.shared += b.shared;
    if (l.is_moe) {
      sb.expert = b.expert;
      ++sb.moe_layers;
    }
  }
  return sb;
}

uint64_t bytes_per_token(const Model& model) {
  const ModelConfig& c = model.config();
  const StepBytes sb = step_bytes(model);
  return sb.shared + bytes_of(model.weights().embed) / uint64_t(c.vocab_size) +
         sb.expert * uint64_t(c.num_experts_per_tok) * uint64_t(sb.moe_layers);
}

uint64_t mtp_draft_bytes(const Model& model, int64_t head_rows) {
  const std::optional<MtpWeights>& mtp = model.weights().mtp;
  if (!mtp) return 0;
  const ModelConfig& c = model.config();
  const LayerBytes b = layer_bytes(mtp->layer);
  const int64_t V = std::max<int64_t>(1, mtp->head.rows);
  const int64_t rows = head_rows > 0 ? std::min(head_rows, V) : V;
  const uint64_t head = uint64_t(double(bytes_of(mtp->head)) * double(rows) / double(V));
  return b.shared + b.expert * uint64_t(c.num_experts_per_tok) + bytes_of(mtp->eh_proj) + head;
}

}  // namespace dsinfer
