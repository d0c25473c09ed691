#include "engine/generation/generation.h"

#include <algorithm>
#include <chrono>

#include "simd/error.h"

namespace dsinfer {

std::vector<int32_t> end_of_turn_ids(const Tokenizer* t, const ModelConfig& c) {
  std::vector<int32_t> ids;
  if (c.eos_token_id >= 0) ids.push_back(int32_t(c.eos_token_id));
  if (t) {
    if (t->eos_id() >= 0) ids.push_back(t->eos_id());
    for (const char* s : {"<｜end▁of▁sentence｜>", "<|im_end|>", "<|EOT|>", "<|end_of_text|>"})
      if (auto id = t->find_token(s)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Continuation::Continuation(Sampler& s, const Tokenizer* tok, const std::vector<int32_t>& eot,
                           std::span<const int32_t> prompt, int64_t max_tokens, const std::vector<std::string>& stop)
    : sampler_(s), eot_(eot), history_(prompt.begin(), prompt.end()), stops_(stop), max_(max_tokens) {
  if (tok) stream_ = std::make_unique<TokenStreamDecoder>(*tok, /*skip_special=*/true);
}

bool Continuation::step(const float* logits, std::string& out) {
  return push(sampler_.sample(logits, history_), out);
}

bool Continuation::push(int32_t next, std::string& out) {
  if (std::binary_search(eot_.begin(), eot_.end(), next)) {
    reason_ = "stop";
    return false;
  }
  generated_.push_back(next);
  history_.push_back(next);
  if (stream_) {
    out += stops_.push(stream_->push(next));
    if (stops_.stopped()) {
      reason_ = "stop";
      return false;
    }
  }
  if (int64_t(generated_.size()) >= max_) {
    reason_ = "length";
    return false;
  }
  return true;
}

std::string Continuation::flush() {
  if (!stream_ || stops_.stopped()) return {};
  return stops_.push(stream_->finish()) + stops_.flush();
}

Generator::Generator(Decoder& d, const Tokenizer* tok, const SamplingParams& p, const SpecOptions& spec)
    : d_(d), tok_(tok), sampler_(d.model().config().vocab_size, p), eot_(end_of_turn_ids(tok, d.model().config())) {
  cached_.reserve(size_t(d.context()));
  set_spec(spec);
}

void Generator::set_spec(const SpecOptions& o) {
  validate(o, d_.model());
  spec_opt_ = o;
  spec_.reset();
  if (o.kind == SpecKind::Mtp) spec_ = std::make_unique<MtpSpeculator>(d_, sampler_, o);
}

void Generator::reset() {
  d_.reset();
  cached_.clear();
}

GenerationResult Generator::generate(const GenerationRequest& r) {
  using clock = std::chrono::steady_clock;
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  GenerationResult res;
  res.prompt_tokens = int64_t(r.prompt.size());
  if (r.prompt.empty()) fail("generate", "the prompt is empty");
  if (res.prompt_tokens > d_.context())
    fail("generate", "the prompt has " + std::to_string(res.prompt_tokens) + " tokens; the context holds " +
                         std::to_string(d_.context()));
  // Reuse the cached prefix the prompt shares; at least its last token is fed, for its logits.
  size_t keep = 0;
  while (keep < cached_.size() && keep < r.prompt.size() && cached_[keep] == r.prompt[keep]) ++keep;
  keep = std::min(keep, r.prompt.size() - 1);
  // The MTP module's entry at position p pairs h(p) with token p + 1: those of the kept prefix
  // stay valid but the last, and the main model recomputes from the first one missing, so that
  // its hidden states are there for the module to catch up on.
  size_t mtp_keep = 0;
  if (spec_) keep = mtp_keep = size_t(std::min<int64_t>(d_.mtp_past(), std::max<int64_t>(0, int64_t(keep) - 1)));
  d_.truncate(int64_t(keep), int64_t(mtp_keep));
  cached_.resize(keep);
  res.reused_tokens = int64_t(keep);
  const auto t0 = clock::now();
  d_.forward(r.prompt.subspan(keep), logits_, nullptr, /*last_only=*/true);
  cached_.insert(cached_.end(), r.prompt.begin() + std::ptrdiff_t(keep), r.prompt.end());
  const auto t1 = clock::now();
  res.prefill_s = secs(t0, t1);

  auto emit = [&](const std::string& s) { return s.empty() || !r.on_text || r.on_text(s); };
  // Without a tokenizer there is no text; the callback still gets its chance to cancel.
  auto cancelled = [&](const std::string& piece) { return !emit(piece) || (!tok_ && r.on_text && !r.on_text({})); };
  res.finish_reason = "length";
  generated_.clear();
  if (r.max_tokens > 0) {
    Continuation c(sampler_, tok_, eot_, r.prompt, r.max_tokens, r.stop);
    std::string piece;
    if (spec_) spec_->reset_stats();
    bool more = c.step(logits_.data(), piece);
    bool started = false;
    for (;;) {
      if (cancelled(piece)) {
        res.finish_reason = "cancelled";
        break;
      }
      if (!more) {
        res.finish_reason = c.finish_reason();
        break;
      }
      if (d_.n_past() >= d_.context()) {
        res.finish_reason = "context";
        break;
      }
      piece.clear();
      if (spec_ && !started) {
        spec_->start(cached_, int64_t(keep), c.last());
        started = true;
      }
      if (!spec_ || !spec_->drafting()) {
        const int32_t t[1] = {c.last()};
        d_.forward(t, logits_);
        cached_.push_back(c.last());
        if (spec_) spec_->plain_step();
        more = c.step(logits_.data(), piece);
        continue;
      }
      const int64_t L = d_.n_past();
      const int32_t emitted = c.last();
      const std::span<const int32_t> got = spec_->round(emitted, c.history());
      cached_.push_back(emitted);
      // The committed tokens go out one at a time, as plain decoding would emit them; one that
      // ends the turn is not fed, so the cache keeps what came before it.
      size_t i = 0;
      for (; i < got.size(); ++i) {
        std::string one;
        more = c.push(got[i], one);
        piece += one;
        if (!more) break;
        if (i + 1 < got.size()) cached_.push_back(got[i]);
      }
      if (more) {
        spec_->catch_up();
      } else {
        d_.truncate(L + 1 + int64_t(i), L);
        spec_->ended(i + 1);
        cached_.resize(size_t(L + 1) + i);
      }
    }
    if (res.finish_reason != "cancelled") emit(c.flush());
    generated_ = c.generated();
    if (spec_) res.spec = spec_->stats();
  }
  // At rest the module's entries pair cached tokens only (its last drafted from a token that
  // was emitted but not fed).
  if (spec_) {
    spec_->settle(cached_);
    d_.truncate(d_.n_past(), std::min(d_.mtp_past(), std::max<int64_t>(0, d_.n_past() - 1)));
  }
  res.completion_tokens = int64_t(generated_.size());
  res.decode_s = secs(t1, clock::now());
  return res;
}

}  // namespace dsinfer
