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
#include "engine/sampler.h"
#include "engine/tokenizer/tokenizer.h"

namespace dsinfer {

// The ids that end a turn: the model's EOS and the end-of-turn tokens its vocabulary has.
std::vector<int32_t> end_of_turn_ids(const Tokenizer* t, const ModelConfig& c);

struct GenerationResult {
  std::string finish_reason;  // "stop" (end of turn or stop string), "length", "context", "cancelled"
  int64_t prompt_tokens = 0;  // the prompt's length
  int64_t reused_tokens = 0;  // of those, already in the cache: not computed again
  int64_t completion_tokens = 0;
  double prefill_s = 0, decode_s = 0;
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
  Generator(Decoder& d, const Tokenizer* tok, const SamplingParams& p);

  GenerationResult generate(const GenerationRequest& r);
  // Tokens in the cache, in order (the prompt and every generated token that was fed back).
  const std::vector<int32_t>& cached() const { return cached_; }
  // The ids the last generate() produced (the end-of-turn token excluded).
  const std::vector<int32_t>& generated() const { return generated_; }
  void reset();
  Sampler& sampler() { return sampler_; }
  Decoder& decoder() { return d_; }

 private:
  Decoder& d_;
  const Tokenizer* tok_;
  Sampler sampler_;
  std::vector<int32_t> eot_, cached_, generated_, history_;
  std::vector<float> logits_;
};

}  // namespace dsinfer
