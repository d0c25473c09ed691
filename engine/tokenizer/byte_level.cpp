#include "engine/tokenizer/byte_level.h"

#include <array>

#include "engine/tokenizer/utf8.h"

namespace dsinfer::byte_level {

namespace {

// Printable Latin-1 bytes stand for themselves; the others, in byte order, take the
// code points from U+0100 on.
struct Alphabet {
  std::array<char32_t, 256> to_char{};
  std::array<int16_t, 324> to_byte{};  // indexed by code point; the alphabet ends below U+0144

  Alphabet() {
    to_byte.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[size_t(b)] = printable ? char32_t(b) : next++;
      to_byte[to_char[size_t(b)]] = int16_t(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

char32_t char_of_byte(uint8_t b) { return alphabet().to_char[b]; }

int byte_of_char(char32_t c) { return c < alphabet().to_byte.size() ? alphabet().to_byte[c] : -1; }

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) utf8::append(out, char_of_byte(uint8_t(ch)));
  return out;
}

bool decode(std::string_view text, std::string& out) {
  out.clear();
  if (utf8::invalid_at(text) != std::string_view::npos) return false;
  for (size_t i = 0; i < text.size();) {
    size_t len;
    const int b = byte_of_char(utf8::decode(text, i, &len));
    if (b < 0) return false;
    out += char(b);
    i += len;
  }
  return true;
}

}  // namespace dsinfer::byte_level
