// The BPE merge table and the merge loop. A pre-token starts as one symbol per byte; the pair of
// neighbours with the lowest merge rank (leftmost on ties) is merged until no pair has a rank.
// A heap of candidate pairs over a linked list of symbols makes this O(n log n) in the length
// of the pre-token, so a long run of one character costs no more than ordinary text.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace dsinfer {

// Per-thread working memory of BpeModel::encode, reused across pre-tokens.
struct BpeScratch {
  std::vector<int32_t> id, prev, next;
  std::vector<uint64_t> heap;
};

class BpeModel {
 public:
  BpeModel();
  // byte_ids: the token of each single byte (-1 when the vocabulary lacks it).
  explicit BpeModel(const std::array<int32_t, 256>& byte_ids, size_t n_merges);

  // Registers merge `rank`: left + right -> merged. A repeated pair keeps the later rank, as
  // Hugging Face's table does.
  void add_merge(int32_t left, int32_t right, uint32_t rank, int32_t merged);
  int32_t byte_id(uint8_t b) const { return byte_ids_[b]; }

  // Appends the tokens of `bytes` to out. Returns false if a byte has no token.
  bool encode(std::string_view bytes, std::vector<int32_t>& out, BpeScratch& s) const;

 private:
  struct Slot {
    uint64_t key;  // left << 32 | right; kEmpty when free
    uint32_t rank;
    int32_t merged;
  };
  static constexpr uint64_t kEmpty = ~uint64_t(0);

  const Slot* find(int32_t left, int32_t right) const {
    const uint64_t key = uint64_t(uint32_t(left)) << 32 | uint32_t(right);
    for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s;
      if (s.key == kEmpty) return nullptr;
    }
  }
  static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
  }

  std::array<int32_t, 256> byte_ids_{};
  std::vector<Slot> slots_;  // open addressing, at most half full
  uint64_t mask_ = 0;
};

}  // namespace dsinfer
