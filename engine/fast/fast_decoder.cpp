#include "engine/fast/fast_decoder.h"

#include <omp.h>

#include <algorithm>
#include <string>

#include "engine/experts/expert_store.h"
#include "engine/fast/row_ops.h"
#include "simd/error.h"

namespace dsinfer {

FastDecoder::FastDecoder(const Model& m, SessionOptions o)
    : model_(m), rope_(m.config()), threads_(std::max(1, omp_get_max_threads())) {
  const ModelConfig& c = m.config();
  if (c.hidden_size % kBlockWeights != 0 || c.kv_lora_rank % kBlockWeights != 0)
    fail(m.path(), "the fast engine needs hidden_size and kv_lora_rank to be multiples of 32; use --engine reference");
  if (o.chunk < 1) fail("--chunk", "must be at least 1");
  if (o.sequences < 1) fail("sequences", "must be at least 1");
  const int64_t ctx = o.context > 0 ? o.context : default_context(c);
  // A chunk holds at most every sequence's whole context.
  chunk_ = std::min(o.chunk, ctx * o.sequences);
  for (int64_t i = 0; i < o.sequences; ++i)
    caches_.emplace_back(c.num_hidden_layers, ctx, c.kv_lora_rank, c.qk_rope_head_dim, o.kv);
  past_.assign(size_t(o.sequences), 0);
  seen_.assign(size_t(o.sequences), 0);
  const int64_t mtp_caches = !m.has_mtp() ? 0 : o.mtp_per_sequence ? o.sequences : 1;
  for (int64_t i = 0; i < mtp_caches; ++i)
    mtp_caches_.emplace_back(1, ctx, c.kv_lora_rank, c.qk_rope_head_dim, o.kv);
  mtp_past_.assign(size_t(std::max<int64_t>(1, mtp_caches)), 0);
  const int64_t D = c.hidden_size, T = chunk_;
  x_.resize(size_t(T * D));
  h_.resize(size_t(T * D));
  y_.resize(size_t(T * D));
  hq_.resize(size_t(T * D / kBlockWeights));
  if (m.has_mtp()) {
    cat_.resize(size_t(T * 2 * D));
    catq_.resize(size_t(T * 2 * D / kBlockWeights));
    e_.resize(size_t(D));
    mtp_hidden_.resize(size_t(mtp_caches * D));
  }
  jobs_.reserve(2);
  if (o.draft_vocab > 0 && m.has_mtp())
    draft_.configure(m.weights().mtp->head, o.draft_vocab, std::max<int64_t>(1, mtp_caches));
  slot_cache_.resize(size_t(T));
  slot_pos_.resize(size_t(T));
  mla_.reserve(c, T, ctx, threads_);
  ffn_.reserve(c, m.weights(), T, threads_);
}

void FastDecoder::truncate(int64_t n, int64_t mtp_n) {
  past_[0] = std::clamp<int64_t>(n, 0, past_[0]);
  mtp_past_[0] = std::clamp<int64_t>(mtp_n, 0, mtp_past_[0]);
}

size_t FastDecoder::cache_bytes() const {
  size_t b = 0;
  for (const TypedLatentCache& k : mtp_caches_) b += k.bytes();
  for (const TypedLatentCache& k : caches_) b += k.bytes();
  return b;
}

int64_t FastDecoder::seq_past(int32_t s) const {
  if (s < 0 || s >= int32_t(past_.size())) fail("sequence", std::to_string(s) + " is not a sequence of this session");
  return past_[size_t(s)];
}

void FastDecoder::seq_truncate(int32_t s, int64_t n) {
  seq_past(s);
  past_[size_t(s)] = std::clamp<int64_t>(n, 0, past_[size_t(s)]);
}

int64_t FastDecoder::seq_mtp_past(int32_t s) const {
  if (s < 0 || s >= int32_t(mtp_past_.size()))
    fail("sequence", std::to_string(s) + " has no MTP cache in this session");
  return mtp_past_[size_t(s)];
}

void FastDecoder::seq_mtp_truncate(int32_t s, int64_t n) {
  seq_mtp_past(s);
  mtp_past_[size_t(s)] = std::clamp<int64_t>(n, 0, mtp_past_[size_t(s)]);
}

const float* FastDecoder::seq_mtp_hidden(int32_t s) const {
  if (s < 0 || s >= int32_t(mtp_caches_.size()))
    fail("sequence", std::to_string(s) + " has no MTP cache in this session");
  return mtp_hidden_.data() + s * model_.config().hidden_size;
}

void FastDecoder::check_multi(std::span<const int32_t> seq, std::span<const int32_t> tokens,
                              const std::vector<int64_t>& past, const std::vector<TypedLatentCache>& caches,
                              const char* fn, const char* what) {
  if (seq.size() != tokens.size()) fail(fn, "one sequence id per token");
  std::copy(past.begin(), past.end(), seen_.begin());
  for (size_t i = 0; i < seq.size(); ++i) {
    const int32_t s = seq[i];
    if (s < 0 || s >= int32_t(caches.size())) fail(fn, "sequence " + std::to_string(s) + " out of range");
    check_input_tokens(model_, tokens.subspan(i, 1), seen_[size_t(s)], caches[size_t(s)].capacity(), what);
    ++seen_[size_t(s)];
  }
}

int64_t FastDecoder::mark_last_entries(std::span<const int32_t> seq) {
  const int64_t T = int64_t(seq.size());
  is_last_.assign(size_t(T), 0);
  std::fill(seen_.begin(), seen_.end(), 0);
  int64_t k = 0;
  for (int64_t i = T - 1; i >= 0; --i)
    if (!seen_[size_t(seq[size_t(i)])]) {
      seen_[size_t(seq[size_t(i)])] = 1;
      is_last_[size_t(i)] = 1;
      ++k;
    }
  return k;
}

int64_t FastDecoder::gather_last_rows(const float* from, int64_t c0, int64_t n, float* to) {
  const int64_t D = model_.config().hidden_size;
  int64_t m = 0;
  for (int64_t t = 0; t < n; ++t)
    if (is_last_[size_t(c0 + t)]) {
      // Rows only move forward, so a row is read before any row is written over it.
      if (from + t * D != to + m * D) std::copy(from + t * D, from + (t + 1) * D, to + m * D);
      ++m;
    }
  return m;
}

void FastDecoder::layer(const LayerWeights& w, int64_t index, int64_t cache_layer, std::span<const int32_t> tokens,
                        RouterRecord* rec) {
  const ModelConfig& c = model_.config();
  const int64_t D = c.hidden_size, n = int64_t(tokens.size());
  float *x = x_.data(), *h = h_.data(), *y = y_.data();
  rmsnorm_rows(x, w.attn_norm.data(), n, D, c.rms_norm_eps, h);
  const TokenSlots slots{slot_cache_.data(), slot_pos_.data()};
  mla_absorbed(c, w.attn, rope_, slots, cache_layer, q8_acts(h, n, D, hq_.data()), y, mla_);
  add_rows(x, y, n * D);
  rmsnorm_rows(x, w.ffn_norm.data(), n, D, c.rms_norm_eps, h);
  const Acts a = q8_acts(h, n, D, hq_.data());
  if (w.is_moe)
    moe_fast(c, w.moe, a, y, ffn_, rec, MoeContext{bias_hook_, index, next_moe(index), tokens});
  else
    ffn_fast(w.dense, a, y, ffn_);
  add_rows(x, y, n * D);
}

void FastDecoder::recall_experts(std::span<const int32_t> tokens, int64_t first, int64_t end) const {
  // A decode step or a one-draft verify. Over more tokens the experts kept for the forward
  // crowd out what the use counts would keep: batch 4 of a 9.3 GB file in 4 GiB decoded 10%
  // slower with it (2 pairs of runs); a prefill chunk goes to nearly every expert anyway.
  constexpr size_t kMaxTokens = 2;
  ExpertStore* st = model_.expert_store();
  // A longer forward still ends what the last one predicted (its experts are kept no longer).
  if (st && st->recalling()) st->recall(tokens.size() <= kMaxTokens ? tokens : std::span<const int32_t>{}, first, end);
}

const MoeWeights* FastDecoder::next_moe(int64_t index) const {
  const auto& layers = model_.weights().layers;
  for (size_t l = size_t(index) + 1; l < layers.size(); ++l)
    if (layers[l].is_moe) return &layers[l].moe;
  return nullptr;
}

void FastDecoder::head(const Matrix& w, const float* h, int64_t n, float* logits) {
  const int64_t D = model_.config().hidden_size;
  jobs_.assign(1, LinearJob{&w, q8_acts(h, n, D, hq_.data()), logits});
  run_linear(jobs_);
}

void FastDecoder::draft_head(const Matrix& w, const float* h, int64_t n, float* logits) {
  if (!draft_.active()) return head(w, h, n, logits);
  draft_.logits(q8_acts(h, n, model_.config().hidden_size, hq_.data()), logits, jobs_);
}

template <class Place, class Done>
void FastDecoder::run_chunks(std::span<const int32_t> tokens, ForwardTrace* trace, Place place, Done done) {
  const ModelConfig& c = model_.config();
  const ModelWeights& w = model_.weights();
  const int64_t T = int64_t(tokens.size()), D = c.hidden_size;
  for (int64_t c0 = 0; c0 < T; c0 += chunk_) {
    const int64_t n = std::min(chunk_, T - c0);
    for (int64_t t = 0; t < n; ++t) {
      dequant_row(w.embed, tokens[size_t(c0 + t)], x_.data() + t * D);
      place(c0 + t, slot_cache_[size_t(t)], slot_pos_[size_t(t)]);
    }
    const auto chunk = tokens.subspan(size_t(c0), size_t(n));
    draft_.observe(chunk);
    recall_experts(chunk, 0, c.num_hidden_layers);
    size_t moe_i = 0;
    for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
      const LayerWeights& lw = w.layers[size_t(l)];
      RouterRecord* rec = trace && lw.is_moe ? &trace->router[moe_i++] : nullptr;
      layer(lw, l, l, chunk, rec);
    }
    done(c0, n);
  }
}

void FastDecoder::forward(std::span<const int32_t> tokens, std::vector<float>& logits, ForwardTrace* trace,
                          bool last_only) {
  check_input_tokens(model_, tokens, past_[0], caches_[0].capacity(), "input");
  if (trace && trace->want_layers) fail("--engine", "per-layer outputs are reported by the reference engine only");
  const ModelConfig& c = model_.config();
  const ModelWeights& w = model_.weights();
  const int64_t T = int64_t(tokens.size()), D = c.hidden_size, V = c.vocab_size;
  hidden_.resize(size_t(T * D));
  logits.resize(size_t((last_only ? std::min<int64_t>(T, 1) : T) * V));
  if (trace) {
    trace->router.clear();
    for (int64_t l = 0; l < c.num_hidden_layers; ++l)
      if (w.layers[size_t(l)].is_moe) trace->router.push_back({l, {}, {}});
    trace->hidden_prenorm.resize(size_t(T * D));
  }
  const int64_t past = past_[0];
  run_chunks(
      tokens, trace,
      [&](int64_t i, TypedLatentCache*& cache, int64_t& pos) {
        cache = &caches_[0];
        pos = past + i;
      },
      [&](int64_t c0, int64_t n) {
        if (trace) std::copy(x_.begin(), x_.begin() + n * D, trace->hidden_prenorm.begin() + c0 * D);
        float* hid = hidden_.data() + c0 * D;
        rmsnorm_rows(x_.data(), w.final_norm.data(), n, D, c.rms_norm_eps, hid);
        if (!last_only) head(w.lm_head, hid, n, logits.data() + c0 * V);
        past_[0] += n;
      });
  if (last_only && T > 0) head(w.lm_head, hidden_.data() + (T - 1) * D, 1, logits.data());
}

void FastDecoder::forward_multi(std::span<const int32_t> seq, std::span<const int32_t> tokens,
                                std::vector<float>& logits, const MultiOutput& out) {
  const ModelConfig& c = model_.config();
  const ModelWeights& w = model_.weights();
  const int64_t T = int64_t(tokens.size()), D = c.hidden_size, V = c.vocab_size;
  check_multi(seq, tokens, past_, caches_, "forward_multi", "input");
  const int64_t k = mark_last_entries(seq);
  logits.resize(size_t((out.every_entry ? T : k) * V));
  if (out.hidden) out.hidden->resize(size_t(T * D));
  int64_t row = 0;
  run_chunks(
      tokens, nullptr,
      [&](int64_t i, TypedLatentCache*& cache, int64_t& pos) {
        const auto s = size_t(seq[size_t(i)]);
        cache = &caches_[s];
        pos = past_[s]++;
      },
      [&](int64_t c0, int64_t n) {
        int64_t m = 0;  // the rows that get logits, moved to the front of h_
        if (out.hidden || out.every_entry) {
          float* hid = out.hidden ? out.hidden->data() + c0 * D : h_.data();
          rmsnorm_rows(x_.data(), w.final_norm.data(), n, D, c.rms_norm_eps, hid);
          if (out.every_entry) return head(w.lm_head, hid, n, logits.data() + c0 * V);
          m = gather_last_rows(hid, c0, n, h_.data());
        } else {  // only the rows that get logits are normed
          m = gather_last_rows(x_.data(), c0, n, x_.data());
          rmsnorm_rows(x_.data(), w.final_norm.data(), m, D, c.rms_norm_eps, h_.data());
        }
        if (m == 0) return;
        head(w.lm_head, h_.data(), m, logits.data() + row * V);
        row += m;
      });
}

template <class Place>
void FastDecoder::mtp_inputs(std::span<const int32_t> next_tokens, const float* hidden, int64_t c0, int64_t n,
                             Place place) {
  const ModelConfig& c = model_.config();
  const MtpWeights& m = *model_.weights().mtp;
  const int64_t D = c.hidden_size;
  for (int64_t t = 0; t < n; ++t) {
    place(c0 + t, slot_cache_[size_t(t)], slot_pos_[size_t(t)]);
    float* row = cat_.data() + t * 2 * D;
    dequant_row(m.embed, next_tokens[size_t(c0 + t)], e_.data());
    // Embedding half first: the released weights follow that order (see fixtures README).
    rmsnorm_rows(e_.data(), m.enorm.data(), 1, D, c.rms_norm_eps, row);
    rmsnorm_rows(hidden + (c0 + t) * D, m.hnorm.data(), 1, D, c.rms_norm_eps, row + D);
  }
  jobs_.assign(1, LinearJob{&m.eh_proj, q8_acts(cat_.data(), n, 2 * D, catq_.data()), x_.data()});
  run_linear(jobs_);
}

template <class Place, class Done>
void FastDecoder::run_mtp_chunks(std::span<const int32_t> next_tokens, const float* hidden, RouterRecord* rec,
                                 Place place, Done done) {
  const ModelConfig& c = model_.config();
  const MtpWeights& m = *model_.weights().mtp;
  const int64_t T = int64_t(next_tokens.size()), D = c.hidden_size;
  for (int64_t c0 = 0; c0 < T; c0 += chunk_) {
    const int64_t n = std::min(chunk_, T - c0);
    const auto chunk = next_tokens.subspan(size_t(c0), size_t(n));
    mtp_inputs(next_tokens, hidden, c0, n, place);
    recall_experts(chunk, c.num_hidden_layers, c.num_hidden_layers + 1);
    layer(m.layer, c.num_hidden_layers, 0, chunk, rec);
    rmsnorm_rows(x_.data(), m.head_norm.data(), n, D, c.rms_norm_eps, h_.data());
    done(c0, n);
  }
}

template <class Place>
void FastDecoder::fill_mtp_chunks(std::span<const int32_t> next_tokens, const float* hidden, Place place) {
  const ModelConfig& c = model_.config();
  const LayerWeights& w = model_.weights().mtp->layer;
  const int64_t T = int64_t(next_tokens.size()), D = c.hidden_size;
  for (int64_t c0 = 0; c0 < T; c0 += chunk_) {
    const int64_t n = std::min(chunk_, T - c0);
    mtp_inputs(next_tokens, hidden, c0, n, place);
    // layer()'s first steps, up to its cache stores.
    rmsnorm_rows(x_.data(), w.attn_norm.data(), n, D, c.rms_norm_eps, h_.data());
    const TokenSlots slots{slot_cache_.data(), slot_pos_.data()};
    mla_store_only(c, w.attn, rope_, slots, 0, q8_acts(h_.data(), n, D, hq_.data()), mla_);
  }
}

void FastDecoder::mtp_fill(std::span<const int32_t> next_tokens, const float* hidden) {
  if (!model_.has_mtp()) fail(model_.path(), "this model has no MTP module");
  check_input_tokens(model_, next_tokens, mtp_past_[0], mtp_caches_[0].capacity(), "MTP input");
  fill_mtp_chunks(next_tokens, hidden, [&](int64_t, TypedLatentCache*& cache, int64_t& pos) {
    cache = &mtp_caches_[0];
    pos = mtp_past_[0]++;
  });
}

void FastDecoder::mtp_fill_multi(std::span<const int32_t> seq, std::span<const int32_t> next_tokens,
                                 const float* hidden) {
  if (!model_.has_mtp()) fail(model_.path(), "this model has no MTP module");
  check_multi(seq, next_tokens, mtp_past_, mtp_caches_, "mtp_fill_multi", "MTP input");
  fill_mtp_chunks(next_tokens, hidden, [&](int64_t i, TypedLatentCache*& cache, int64_t& pos) {
    const auto s = size_t(seq[size_t(i)]);
    cache = &mtp_caches_[s];
    pos = mtp_past_[s]++;
  });
}

void FastDecoder::mtp_forward(std::span<const int32_t> next_tokens, const float* hidden, std::vector<float>& logits,
                              RouterRecord* rec, bool last_only) {
  if (!model_.has_mtp()) fail(model_.path(), "this model has no MTP module");
  check_input_tokens(model_, next_tokens, mtp_past_[0], mtp_caches_[0].capacity(), "MTP input");
  const ModelConfig& c = model_.config();
  const Matrix& head_w = model_.weights().mtp->head;
  const int64_t T = int64_t(next_tokens.size()), D = c.hidden_size, V = c.vocab_size;
  if (rec) rec->layer = c.num_hidden_layers;
  logits.resize(size_t((last_only ? std::min<int64_t>(T, 1) : T) * V));
  run_mtp_chunks(
      next_tokens, hidden, rec,
      [&](int64_t, TypedLatentCache*& cache, int64_t& pos) {
        cache = &mtp_caches_[0];
        pos = mtp_past_[0]++;
      },
      [&](int64_t c0, int64_t n) {
        if (!last_only)
          head(head_w, h_.data(), n, logits.data() + c0 * V);
        else if (c0 + n == T)
          draft_head(head_w, h_.data() + (n - 1) * D, 1, logits.data());
        if (c0 + n == T) std::copy(h_.begin() + (n - 1) * D, h_.begin() + n * D, mtp_hidden_.begin());
      });
}

void FastDecoder::mtp_forward_multi(std::span<const int32_t> seq, std::span<const int32_t> next_tokens,
                                    const float* hidden, std::vector<float>& logits) {
  if (!model_.has_mtp()) fail(model_.path(), "this model has no MTP module");
  check_multi(seq, next_tokens, mtp_past_, mtp_caches_, "mtp_forward_multi", "MTP input");
  const ModelConfig& c = model_.config();
  const Matrix& head_w = model_.weights().mtp->head;
  const int64_t D = c.hidden_size, V = c.vocab_size;
  logits.resize(size_t(mark_last_entries(seq) * V));
  int64_t row = 0;
  run_mtp_chunks(
      next_tokens, hidden, nullptr,
      [&](int64_t i, TypedLatentCache*& cache, int64_t& pos) {
        const auto s = size_t(seq[size_t(i)]);
        cache = &mtp_caches_[s];
        pos = mtp_past_[s]++;
      },
      [&](int64_t c0, int64_t n) {
        for (int64_t t = 0; t < n; ++t)
          if (is_last_[size_t(c0 + t)])
            std::copy(h_.begin() + t * D, h_.begin() + (t + 1) * D, mtp_hidden_.begin() + seq[size_t(c0 + t)] * D);
        const int64_t m = gather_last_rows(h_.data(), c0, n, h_.data());
        if (m == 0) return;
        draft_head(head_w, h_.data(), m, logits.data() + row * V);
        row += m;
      });
}

}  // namespace dsinfer
