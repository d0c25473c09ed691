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
  const int32_t next = sampler_.sample(logits, history_);
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

Generator::Generator(Decoder& d, const Tokenizer* tok, const SamplingParams& p)
    : d_(d), tok_(tok), sampler_(d.model().config().vocab_size, p), eot_(end_of_turn_ids(tok, d.model().config())) {
  cached_.reserve(size_t(d.context()));
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
  d_.truncate(int64_t(keep), 0);
  cached_.resize(keep);
  res.reused_tokens = int64_t(keep);
  const auto t0 = clock::now();
  d_.forward(r.prompt.subspan(keep), logits_, nullptr, /*last_only=*/true);
  cached_.insert(cached_.end(), r.prompt.begin() + std::ptrdiff_t(keep), r.prompt.end());
  const auto t1 = clock::now();
  res.prefill_s = secs(t0, t1);

  auto emit = [&](const std::string& s) { return s.empty() || !r.on_text || r.on_text(s); };
  res.finish_reason = "length";
  generated_.clear();
  if (r.max_tokens > 0) {
    Continuation c(sampler_, tok_, eot_, r.prompt, r.max_tokens, r.stop);
    std::string piece;
    for (;;) {
      piece.clear();
      const bool more = c.step(logits_.data(), piece);
      // Without a tokenizer there is no text; the callback still gets its chance to cancel.
      if (!emit(piece) || (!tok_ && r.on_text && !r.on_text({}))) {
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
      const int32_t t[1] = {c.last()};
      d_.forward(t, logits_);
      cached_.push_back(c.last());
    }
    if (res.finish_reason != "cancelled") emit(c.flush());
    generated_ = c.generated();
  }
  res.completion_tokens = int64_t(generated_.size());
  res.decode_s = secs(t1, clock::now());
  return res;
}

}  // namespace dsinfer
