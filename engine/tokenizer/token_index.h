// Token text -> id for a whole vocabulary: every text in one arena and an open-addressing
// table of ids, so building it costs two allocations instead of one per token.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsinfer {

class TokenIndex {
 public:
  // Adds a text; an id whose text is already present is not added (the first one wins).
  // `capacity_hint`: how many texts will be added.
  explicit TokenIndex(size_t capacity_hint = 0);
  void add(std::string_view text, int32_t id);
  int32_t find(std::string_view text) const;  // -1 when absent

 private:
  std::string_view text_of(int32_t entry) const {
    return std::string_view(arena_).substr(start_[size_t(entry)], start_[size_t(entry) + 1] - start_[size_t(entry)]);
  }
  void grow();
  static uint64_t hash(std::string_view s);

  std::string arena_;
  std::vector<uint32_t> start_{0};  // entry -> offset in arena_ (one past the last entry too)
  std::vector<int32_t> ids_;        // entry -> token id
  std::vector<int32_t> slots_;      // entry index, or -1
};

}  // namespace dsinfer
