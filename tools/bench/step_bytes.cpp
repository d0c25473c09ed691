#include "tools/bench/step_bytes.h"

#include "engine/model/expert_balance.h"

namespace dsinfer::cli {

uint64_t bytes_of(const Matrix& m) {
  if (m.empty()) return 0;
  uint64_t b = uint64_t(dtype_row_bytes(m.type, m.cols)) * uint64_t(m.rows);
  if (m.type == DType::F8_E4M3) b += uint64_t((m.rows + 127) / 128) * uint64_t(m.scale_cols) * 4;
  return b;
}

namespace {
uint64_t ffn_bytes(const FfnWeights& f) { return bytes_of(f.gate) + bytes_of(f.up) + bytes_of(f.down); }
}  // namespace

StepBytes step_bytes(const Model& model) {
  const ModelWeights& w = model.weights();
  StepBytes sb;
  sb.shared = bytes_of(w.lm_head);
  for (const LayerWeights& l : w.layers) {
    const AttentionWeights& a = l.attn;
    sb.shared += bytes_of(a.q_a) + bytes_of(a.q_b) + bytes_of(a.q) + bytes_of(a.kv_a) + bytes_of(a.o);
    for (const Matrix& m : a.w_uk) sb.shared += bytes_of(m);
    for (const Matrix& m : a.w_uv) sb.shared += bytes_of(m);
    if (!l.is_moe) {
      sb.shared += ffn_bytes(l.dense);
      continue;
    }
    sb.shared += bytes_of(l.moe.router) + ffn_bytes(l.moe.shared);
    uint64_t experts = 0;
    for (const FfnWeights& e : l.moe.experts) experts += ffn_bytes(e);
    sb.expert = experts / l.moe.experts.size();
    ++sb.moe_layers;
  }
  return sb;
}

uint64_t bytes_per_token(const Model& model) {
  const ModelConfig& c = model.config();
  const StepBytes sb = step_bytes(model);
  return sb.shared + bytes_of(model.weights().embed) / uint64_t(c.vocab_size) +
         sb.expert * uint64_t(c.num_experts_per_tok) * uint64_t(sb.moe_layers);
}

const float* DistinctExperts::bias(int64_t layer, const float* logits, int64_t T, const float* model_bias) {
  if (layer < c_.num_hidden_layers) {
    count_expert_picks(c_, logits, T, model_bias, picks_);
    for (int64_t p : picks_) total_ += p > 0;
  }
  return model_bias;
}

}  // namespace dsinfer::cli
