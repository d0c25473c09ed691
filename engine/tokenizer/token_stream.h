// Streaming detokenization for generation: feed ids as they are sampled and print what comes
// back. Only complete characters are returned; a multi-byte character split across tokens is
// held until the token that completes it, and finish() turns any leftover into U+FFFD.
#pragma once
#include <cstdint>
#include <string>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/utf8_stream.h"

namespace dsinfer {

class TokenStreamDecoder {
 public:
  explicit TokenStreamDecoder(const Tokenizer& t, bool skip_special = false) : t_(t), skip_special_(skip_special) {}

  std::string push(int32_t id);
  std::string finish();

 private:
  const Tokenizer& t_;
  bool skip_special_;
  Utf8Stream utf8_;
};

}  // namespace dsinfer
