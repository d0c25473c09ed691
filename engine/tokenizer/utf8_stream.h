// Makes a byte stream safe to print as it arrives: complete characters pass through, a
// character cut at the end of the bytes so far is held back until the rest comes, and every
// ill-formed sequence becomes U+FFFD (one per maximal ill-formed subpart, the Unicode
// recommendation that Rust's from_utf8_lossy and Hugging Face's decode follow).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace dsinfer {

class Utf8Stream {
 public:
  // Appends to out whatever of the stream so far is complete.
  void push(std::string_view bytes, std::string& out);
  // End of the stream: a held-back partial character becomes U+FFFD.
  void finish(std::string& out);
  bool holding() const { return n_held_ > 0; }

 private:
  void start(uint8_t b, std::string& out);

  char held_[4] = {};
  uint8_t n_held_ = 0;
  uint8_t need_ = 0;               // continuation bytes still missing
  uint8_t lo_ = 0x80, hi_ = 0xBF;  // range of the next continuation byte
};

}  // namespace dsinfer
