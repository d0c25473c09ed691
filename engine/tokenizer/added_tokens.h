// Finds added tokens (special and user-defined) in text before any BPE, the way Hugging Face
// does: the leftmost, then longest, occurrence of any of them; then each token's single_word,
// lstrip and rstrip flags. A match of a disabled (control) token is dropped and its text stays
// ordinary text, so "<｜User｜>" typed by a user is just characters.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/tokenizer/regex.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace dsinfer {

struct AddedTokenMatch {
  size_t begin = 0, end = 0;  // the span the token replaces (with any whitespace it strips)
  int32_t id = -1;
};

class AddedTokenMatcher {
 public:
  struct Entry {
    int32_t id = -1;
    std::string text;
    AddedTokenFlags flags;
    bool control = false;  // disabled when special tokens are not allowed
  };

  explicit AddedTokenMatcher(std::vector<Entry> entries);
  bool empty() const { return entries_.empty(); }

  // Appends the matches in `text` (valid UTF-8), in order.
  void find(std::string_view text, bool allow_control, RegexScratch& rs, std::vector<AddedTokenMatch>& out) const;

 private:
  struct Node {
    int32_t entry = -1;                             // the token ending here
    std::vector<std::pair<uint8_t, int32_t>> next;  // sorted by byte
  };
  int32_t child(int32_t node, uint8_t b) const;
  bool char_is(const Regex& re, std::string_view text, size_t at, RegexScratch& rs) const;

  std::vector<Entry> entries_;
  std::vector<Node> nodes_;           // nodes_[0] is the root
  std::array<int32_t, 256> first_{};  // the root's children, flat for the scan
  Regex space_, word_;
};

}  // namespace dsinfer
