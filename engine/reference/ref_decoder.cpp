#include "engine/reference/ref_decoder.h"

#include <algorithm>
#include <string>

#include "engine/reference/layer_ref.h"
#include "engine/reference/matmul_ref.h"
#include "engine/reference/ops_ref.h"
#include "simd/error.h"

namespace dsinfer {

RefDecoder::RefDecoder(const Model& m, SessionOptions o)
    : model_(m), opt_(o), rope_(m.config()) {
  const ModelConfig& c = m.config();
  const int64_t ctx = o.context > 0 ? o.context : default_context(c);
  cache_ = F32LatentCache(c.num_hidden_layers, ctx, c.latent_dim());
  if (m.has_mtp()) mtp_cache_ = F32LatentCache(1, ctx, c.latent_dim());
}

void RefDecoder::check_tokens(std::span<const int32_t> tokens, int64_t past, const char* what) const {
  check_input_tokens(model_, tokens, past, cache_.capacity(), what);
}

void RefDecoder::truncate(int64_t n, int64_t mtp_n) {
  n_past_ = std::clamp<int64_t>(n, 0, n_past_);
  mtp_past_ = std::clamp<int64_t>(mtp_n, 0, mtp_past_);
}

void RefDecoder::forward(std::span<const int32_t> tokens, std::vector<float>& logits, ForwardTrace* trace,
                      bool last_only) {
  check_tokens(tokens, n_past_, "input");
  const ModelConfig& c = model_.config();
  const ModelWeights& w = model_.weights();
  const int64_t T = int64_t(tokens.size()), D = c.hidden_size, V = c.vocab_size;
  std::vector<float> x(size_t(T * D));
  for (int64_t t = 0; t < T; ++t) dequant_row(w.embed, tokens[size_t(t)], x.data() + t * D);
  if (trace) {
    trace->layer_outputs.clear();
    trace->router.clear();
  }
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    RouterRecord* rec = nullptr;
    if (trace && w.layers[size_t(l)].is_moe) {
      trace->router.push_back({l, {}, {}});
      rec = &trace->router.back();
    }
    decoder_layer_ref(c, w.layers[size_t(l)], rope_, opt_.attn, cache_, l, n_past_, x.data(), T, rec);
    if (trace && trace->want_layers) trace->layer_outputs.insert(trace->layer_outputs.end(), x.begin(), x.end());
  }
  if (trace) trace->hidden_prenorm = x;
  hidden_.resize(size_t(T * D));
  for (int64_t t = 0; t < T; ++t) rmsnorm(x.data() + t * D, w.final_norm.data(), D, c.rms_norm_eps, hidden_.data() + t * D);
  const int64_t first = last_only && T > 0 ? T - 1 : 0;
  logits.resize(size_t((T - first) * V));
  matmul_ref(w.lm_head, hidden_.data() + first * D, T - first, logits.data());
  n_past_ += T;
}

void RefDecoder::mtp_forward(std::span<const int32_t> next_tokens, const float* hidden, std::vector<float>& logits,
                             RouterRecord* rec, bool last_only) {
  if (!model_.has_mtp()) fail(model_.path(), "this model has no MTP module");
  check_tokens(next_tokens, mtp_past_, "MTP input");
  const ModelConfig& c = model_.config();
  const MtpWeights& m = *model_.weights().mtp;
  const int64_t T = int64_t(next_tokens.size()), D = c.hidden_size, V = c.vocab_size;
  std::vector<float> cat(size_t(T * 2 * D)), e(static_cast<size_t>(D)), x(size_t(T * D));
  for (int64_t t = 0; t < T; ++t) {
    dequant_row(m.embed, next_tokens[size_t(t)], e.data());
    // Embedding half first: the released weights follow that order (see fixtures README).
    rmsnorm(e.data(), m.enorm.data(), D, c.rms_norm_eps, cat.data() + t * 2 * D);
    rmsnorm(hidden + t * D, m.hnorm.data(), D, c.rms_norm_eps, cat.data() + t * 2 * D + D);
  }
  matmul_ref(m.eh_proj, cat.data(), T, x.data());
  if (rec) rec->layer = c.num_hidden_layers;
  decoder_layer_ref(c, m.layer, rope_, opt_.attn, mtp_cache_, 0, mtp_past_, x.data(), T, rec);
  for (int64_t t = 0; t < T; ++t) rmsnorm(x.data() + t * D, m.head_norm.data(), D, c.rms_norm_eps, x.data() + t * D);
  if (T == 0) {
    logits.clear();
    return;
  }
  mtp_hidden_.assign(x.end() - D, x.end());
  const int64_t rows = last_only ? 1 : T;
  logits.resize(size_t(rows * V));
  matmul_ref(m.head, x.data() + (T - rows) * D, rows, logits.data());
  mtp_past_ += T;
}

}  // namespace dsinfer
