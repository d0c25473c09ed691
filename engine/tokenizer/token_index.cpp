#include "engine/tokenizer/token_index.h"

namespace dsinfer {

TokenIndex::TokenIndex(size_t capacity_hint) {
  size_t cap = 16;
  while (cap < 2 * capacity_hint) cap *= 2;
  slots_.assign(cap, -1);
  ids_.reserve(capacity_hint);
  start_.reserve(capacity_hint + 1);
  arena_.reserve(capacity_hint * 8);
}

uint64_t TokenIndex::hash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then a final mix for the low bits
  for (char c : s) h = (h ^ uint8_t(c)) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

void TokenIndex::grow() {
  std::vector<int32_t> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, -1);
  const size_t mask = slots_.size() - 1;
  for (int32_t e : old) {
    if (e < 0) continue;
    size_t i = hash(text_of(e)) & mask;
    while (slots_[i] >= 0) i = (i + 1) & mask;
    slots_[i] = e;
  }
}

void TokenIndex::add(std::string_view text, int32_t id) {
  if (2 * (ids_.size() + 1) > slots_.size()) grow();
  const size_t mask = slots_.size() - 1;
  size_t i = hash(text) & mask;
  for (; slots_[i] >= 0; i = (i + 1) & mask)
    if (text_of(slots_[i]) == text) return;
  slots_[i] = int32_t(ids_.size());
  ids_.push_back(id);
  arena_.append(text);
  start_.push_back(uint32_t(arena_.size()));
}

int32_t TokenIndex::find(std::string_view text) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash(text) & mask; slots_[i] >= 0; i = (i + 1) & mask)
    if (text_of(slots_[i]) == text) return ids_[size_t(slots_[i])];
  return -1;
}

}  // namespace dsinfer
