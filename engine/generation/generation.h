// Generation over a Decoder: feeds a prompt (reusing whatever prefix of it the cache already
// holds), samples, streams complete UTF-8 text, and ends on an end-of-turn token, a stop string,
// the token limit, a full context, or a cancel from the caller.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decoder.h"
#include "engine/generation/mtp_speculation.h"
#include "engine/generation/sampler.h"
#include "engine/generation/stop_strings.h"
#include "engine/tokenizer/token_stream.h"
#include "engine/tokenizer/tokenizer.h"

namespace dsinfer {

// The ids that end a turn: the model's EOS and the end-of-turn tokens its vocabulary has.
std::vector<int32_t> end_of_turn_ids(const Tokenizer* t, const ModelConfig& c);

// One sequence's continuation after its prompt: sampling, end of turn, streamed text, stop
// strings and the token limit. Shared by Generator (one sequence) and batch (many at once).
class Continuation {
 public:
  // `eot` and `s` must outlive this; max_tokens >= 1. `tok` may be null (no text).
  Continuation(Sampler& s, const Tokenizer* tok, const std::vector<int32_t>& eot, std::span<const int32_t> prompt,
               int64_t max_tokens, const std::vector<std::string>& stop);
  // Samples from `logits` and appends the text that is now safe to show to `out`. True while
  // the sequence goes on (last() must then be fed to the model), false once it has finished.
  bool step(const float* logits, std::string& out);
  // step() for a token chosen elsewhere (speculative decoding).
  bool push(int32_t token, std::string& out);
  int32_t last() const { return generated_.back(); }
  // The prompt and every token generated so far.
  std::span<const int32_t> history() const { return history_; }
  const std::vector<int32_t>& generated() const { return generated_; }
  // "stop" (end-of-turn token or stop string) or "length"; null while running.
  const char* finish_reason() const { return reason_; }
  // Text still held back (an incomplete character, a possible stop-string start); empty after
  // a stop string.
  std::string flush();

 private:
  Sampler& sampler_;
  const std::vector<int32_t>& eot_;
  std::vector<int32_t> history_, generated_;
  std::unique_ptr<TokenStreamDecoder> stream_;
  StopStrings stops_;
  int64_t max_;
  const char* reason_ = nullptr;
};

struct GenerationResult {
  std::string finish_reason;  // "stop" (end of turn or stop string), "length", "context", "cancelled"
  int64_t prompt_tokens = 0;  // the prompt's length
  int64_t reused_tokens = 0;  // of those, already in the cache: not computed again
  int64_t completion_tokens = 0;
  double prefill_s = 0, decode_s = 0;
  SpecStats spec;  // this request's speculation (zero without it)
};

struct GenerationRequest {
  std::span<const int32_t> prompt;
  int64_t max_tokens = 256;
  std::vector<std::string> stop;
  // Called with each piece of text (complete characters); return false to cancel.
  std::function<bool(std::string_view)> on_text;
};

class Generator {
 public:
  // `tok` may be null (ids only: on_text then receives nothing).
  Generator(Decoder& d, const Tokenizer* tok, const SamplingParams& p, const SpecOptions& spec = {});

  GenerationResult generate(const GenerationRequest& r);
  // Tokens in the cache, in order (the prompt and every generated token that was fed back).
  const std::vector<int32_t>& cached() const { return cached_; }
  // The ids the last generate() produced (the end-of-turn token excluded).
  const std::vector<int32_t>& generated() const { return generated_; }
  void reset();
  Sampler& sampler() { return sampler_; }
  // Speculation for the next requests (validated against the model; throws Error).
  void set_spec(const SpecOptions& o);
  const SpecOptions& spec() const { return spec_opt_; }
  Decoder& decoder() { return d_; }

 private:
  Decoder& d_;
  const Tokenizer* tok_;
  Sampler sampler_;
  SpecOptions spec_opt_;
  std::unique_ptr<MtpSpeculator> spec_;
  std::vector<int32_t> eot_, cached_, generated_;
  std::vector<float> logits_;
};

}  // namespace dsinfer
