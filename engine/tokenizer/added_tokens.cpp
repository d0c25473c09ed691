#include "engine/tokenizer/added_tokens.h"

#include <algorithm>

#include "engine/tokenizer/utf8.h"

namespace dsinfer {

// Hugging Face decides "word" and "whitespace" with Rust's Unicode \w and \s.
AddedTokenMatcher::AddedTokenMatcher(std::vector<Entry> entries)
    : entries_(std::move(entries)),
      space_("\\s", "added tokens"),
      word_("[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}]", "added tokens") {
  first_.fill(-1);
  nodes_.emplace_back();
  for (size_t e = 0; e < entries_.size(); ++e) {
    const std::string& t = entries_[e].text;
    if (t.empty()) continue;
    int32_t node = 0;
    for (char ch : t) {
      const auto b = uint8_t(ch);
      auto& next = nodes_[size_t(node)].next;
      auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, INT32_MIN));
      if (it != next.end() && it->first == b) {
        node = it->second;
      } else {
        const auto created = int32_t(nodes_.size());
        next.insert(it, {b, created});
        nodes_.emplace_back();
        node = created;
      }
    }
    nodes_[size_t(node)].entry = int32_t(e);
  }
  for (const auto& [b, n] : nodes_[0].next) first_[b] = n;
}

int32_t AddedTokenMatcher::child(int32_t node, uint8_t b) const {
  const auto& next = nodes_[size_t(node)].next;
  auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, INT32_MIN));
  return it != next.end() && it->first == b ? it->second : -1;
}

bool AddedTokenMatcher::char_is(const Regex& re, std::string_view text, size_t at, RegexScratch& rs) const {
  size_t b, e;
  return re.find(text, at, rs, b, e, /*anchored=*/true) && e > b;
}

void AddedTokenMatcher::find(std::string_view text, bool allow_control, RegexScratch& rs,
                             std::vector<AddedTokenMatch>& out) const {
  const size_t n = text.size();
  size_t taken = 0;  // end of the previous accepted match
  size_t p = 0;
  while (p < n) {
    int32_t node = first_[uint8_t(text[p])];
    if (node < 0) {
      ++p;
      continue;
    }
    int32_t best = -1;
    size_t best_end = 0;
    for (size_t q = p + 1;; ++q) {
      if (nodes_[size_t(node)].entry >= 0) {
        best = nodes_[size_t(node)].entry;
        best_end = q;
      }
      if (q == n || (node = child(node, uint8_t(text[q]))) < 0) break;
    }
    if (best < 0) {
      ++p;
      continue;
    }
    const Entry& e = entries_[size_t(best)];
    size_t start = p, stop = best_end;
    // Like Hugging Face's non-overlapping search: a rejected match still consumes its text.
    p = best_end;
    if (e.control && !allow_control) continue;
    if (e.flags.single_word) {
      const bool word_before = start > 0 && char_is(word_, text, utf8::prev_char(text, start), rs);
      const bool word_after = stop < n && char_is(word_, text, stop, rs);
      if (word_before || word_after) continue;
    }
    if (e.flags.lstrip) {
      while (start > taken) {
        const size_t c = utf8::prev_char(text, start);
        if (!char_is(space_, text, c, rs)) break;
        start = c;
      }
    }
    if (e.flags.rstrip) {
      while (stop < n && char_is(space_, text, stop, rs)) stop += utf8::char_len(text, stop);
    }
    out.push_back({start, stop, e.id});
    taken = p = stop;
  }
}

}  // namespace dsinfer
