#include "engine/tokenizer/bpe_model.h"

#include <algorithm>
#include <functional>

namespace dsinfer {

BpeModel::BpeModel() : BpeModel(std::array<int32_t, 256>{}, 0) {}

BpeModel::BpeModel(const std::array<int32_t, 256>& byte_ids, size_t n_merges) : byte_ids_(byte_ids) {
  size_t cap = 16;
  while (cap < 2 * n_merges + 2) cap *= 2;
  slots_.assign(cap, Slot{kEmpty, 0, -1});
  mask_ = cap - 1;
}

void BpeModel::add_merge(int32_t left, int32_t right, uint32_t rank, int32_t merged) {
  const uint64_t key = uint64_t(uint32_t(left)) << 32 | uint32_t(right);
  for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == kEmpty || s.key == key) {
      s = Slot{key, rank, merged};
      return;
    }
  }
}

bool BpeModel::encode(std::string_view bytes, std::vector<int32_t>& out, BpeScratch& s) const {
  const size_t n = bytes.size();
  if (n == 0) return true;
  if (n == 1) {
    const int32_t id = byte_ids_[uint8_t(bytes[0])];
    if (id < 0) return false;
    out.push_back(id);
    return true;
  }
  s.id.resize(n);
  s.prev.resize(n);
  s.next.resize(n);
  for (size_t i = 0; i < n; ++i) {
    s.id[i] = byte_ids_[uint8_t(bytes[i])];
    if (s.id[i] < 0) return false;
    s.prev[i] = int32_t(i) - 1;
    s.next[i] = i + 1 < n ? int32_t(i + 1) : -1;
  }
  // Heap entries are rank << 32 | position of the left symbol: popping the smallest takes the
  // lowest rank, and among equal ranks the leftmost pair.
  auto& heap = s.heap;
  heap.clear();
  for (size_t i = 0; i + 1 < n; ++i)
    if (const Slot* m = find(s.id[i], s.id[i + 1])) heap.push_back(uint64_t(m->rank) << 32 | i);
  const auto later = std::greater<uint64_t>();
  std::make_heap(heap.begin(), heap.end(), later);
  auto push = [&](int32_t left) {
    const int32_t right = s.next[size_t(left)];
    if (right < 0) return;
    if (const Slot* m = find(s.id[size_t(left)], s.id[size_t(right)])) {
      heap.push_back(uint64_t(m->rank) << 32 | uint32_t(left));
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const uint64_t top = heap.back();
    heap.pop_back();
    const auto left = int32_t(uint32_t(top));
    const auto rank = uint32_t(top >> 32);
    const int32_t right = s.next[size_t(left)];
    // Stale entries: the left symbol was absorbed, or one side has changed since the push.
    if (s.id[size_t(left)] < 0 || right < 0) continue;
    const Slot* m = find(s.id[size_t(left)], s.id[size_t(right)]);
    if (!m || m->rank != rank) continue;
    s.id[size_t(left)] = m->merged;
    s.id[size_t(right)] = -1;
    s.next[size_t(left)] = s.next[size_t(right)];
    if (s.next[size_t(left)] >= 0) s.prev[size_t(s.next[size_t(left)])] = left;
    if (s.prev[size_t(left)] >= 0) push(s.prev[size_t(left)]);
    push(left);
  }
  for (int32_t i = 0; i >= 0; i = s.next[size_t(i)]) out.push_back(s.id[size_t(i)]);
  return true;
}

}  // namespace dsinfer
