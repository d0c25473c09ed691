// The tokens a benchmark feeds: uniformly random ids (the default), or a text's tokens in order,
// from its start again when they run out. A text repeats tokens as language does, and what an
// expert store holds and recalls (the experts a token went to before) depends on that.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/model/model.h"

namespace dsinfer::cli {

class BenchTokens {
 public:
  // `text_file` empty: random ids below min(vocab, 30000). Throws Error when the file cannot be
  // read, the model has no tokenizer, or the text has fewer than 2 tokens.
  BenchTokens(const Model& m, const std::string& text_file, uint32_t seed = 1);
  int32_t next();
  std::vector<int32_t> take(int64_t n);
  bool from_text() const { return !text_.empty(); }

 private:
  std::mt19937 rng_;
  std::uniform_int_distribution<int32_t> random_;
  std::vector<int32_t> text_;
  size_t at_ = 0;
};

}  // namespace dsinfer::cli
