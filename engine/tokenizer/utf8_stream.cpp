#include "engine/tokenizer/utf8_stream.h"

#include "engine/tokenizer/utf8.h"

namespace dsinfer {

void Utf8Stream::start(uint8_t b, std::string& out) {
  lo_ = 0x80;
  hi_ = 0xBF;
  if (b < 0x80) {
    out += char(b);
    return;
  }
  if (b >= 0xC2 && b <= 0xDF) {
    need_ = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need_ = 2;
    if (b == 0xE0) lo_ = 0xA0;  // no overlong forms
    if (b == 0xED) hi_ = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    need_ = 3;
    if (b == 0xF0) lo_ = 0x90;
    if (b == 0xF4) hi_ = 0x8F;  // nothing above U+10FFFF
  } else {
    out += utf8::kReplacement;  // a stray continuation byte or a byte never used in UTF-8
    return;
  }
  held_[0] = char(b);
  n_held_ = 1;
}

void Utf8Stream::push(std::string_view bytes, std::string& out) {
  for (char ch : bytes) {
    const auto b = uint8_t(ch);
    if (n_held_ == 0) {
      start(b, out);
      continue;
    }
    if (b < lo_ || b > hi_) {
      // The held bytes are a maximal subpart: one U+FFFD, then this byte starts afresh.
      out += utf8::kReplacement;
      n_held_ = need_ = 0;
      start(b, out);
      continue;
    }
    held_[n_held_++] = char(b);
    lo_ = 0x80;
    hi_ = 0xBF;
    if (--need_ == 0) {
      out.append(held_, n_held_);
      n_held_ = 0;
    }
  }
}

void Utf8Stream::finish(std::string& out) {
  if (n_held_ > 0) out += utf8::kReplacement;
  n_held_ = need_ = 0;
}

}  // namespace dsinfer
