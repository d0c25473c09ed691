// UTF-8 helpers of the tokenizer: validation, stepping over characters, encoding a code point.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dsinfer::utf8 {

// Offset of the first byte that is not part of well-formed UTF-8, or npos when all of `s` is.
size_t invalid_at(std::string_view s);

// Length of the character starting at s[i] (s must be valid UTF-8 and i < s.size()).
inline size_t char_len(std::string_view s, size_t i) {
  const uint8_t b = uint8_t(s[i]);
  return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}
// Start of the character that ends just before s[i] (valid UTF-8, 0 < i <= s.size()).
inline size_t prev_char(std::string_view s, size_t i) {
  do --i;
  while (i > 0 && (uint8_t(s[i]) & 0xC0) == 0x80);
  return i;
}

// The code point of the valid character at s[i]; *len gets its byte length.
char32_t decode(std::string_view s, size_t i, size_t* len);
void append(std::string& out, char32_t c);

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace dsinfer::utf8
