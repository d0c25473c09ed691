// The byte-level alphabet of GPT-2-style BPE: each of the 256 byte values is written in the
// vocabulary as one printable character ("Ġ" for a space), so no input is ever unknown.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace dsinfer::byte_level {

char32_t char_of_byte(uint8_t b);
// The byte a character stands for, or -1 when it is not in the alphabet.
int byte_of_char(char32_t c);

// Bytes -> the UTF-8 text of their stand-in characters.
std::string encode(std::string_view bytes);
// Stand-in text -> bytes; false (out unspecified) when a character is outside the alphabet.
bool decode(std::string_view text, std::string& out);

}  // namespace dsinfer::byte_level
