#include "engine/experts/routing_memory.h"

#include <algorithm>

#include "simd/error.h"

namespace dsinfer {

RoutingMemory::RoutingMemory(int64_t layers, int64_t top_k, int64_t vocab, int64_t tokens)
    : layers_(layers), k_(top_k) {
  if (layers < 1 || top_k < 1 || vocab < 1 || tokens < 1) fail("routing memory", "needs layers, experts, tokens");
  tokens = std::min(tokens, vocab);
  row_of_.assign(size_t(vocab), -1);
  owner_.assign(size_t(tokens), -1);
  ids_.assign(size_t(tokens * layers * top_k), kNone);
}

std::span<const uint16_t> RoutingMemory::recall(int64_t layer, int32_t token) const {
  if (token < 0 || size_t(token) >= row_of_.size() || layer < 0 || layer >= layers_) return {};
  const int32_t r = row_of_[size_t(token)];
  if (r < 0) return {};
  const uint16_t* p = ids_.data() + (int64_t(r) * layers_ + layer) * k_;
  if (p[0] == kNone) return {};
  return {p, size_t(k_)};
}

int64_t RoutingMemory::remember(int64_t layer, int32_t token, std::span<const int32_t> experts) {
  if (token < 0 || size_t(token) >= row_of_.size() || layer < 0 || layer >= layers_ || int64_t(experts.size()) != k_)
    return -1;
  int32_t r = row_of_[size_t(token)];
  if (r < 0) {
    r = int32_t(next_++ % int64_t(owner_.size()));
    if (owner_[size_t(r)] >= 0) row_of_[size_t(owner_[size_t(r)])] = -1;
    owner_[size_t(r)] = token;
    row_of_[size_t(token)] = r;
    std::fill_n(ids_.begin() + int64_t(r) * layers_ * k_, layers_ * k_, kNone);
  }
  uint16_t* p = ids_.data() + (int64_t(r) * layers_ + layer) * k_;
  int64_t hits = p[0] == kNone ? -1 : 0;
  if (hits == 0)
    for (int32_t e : experts) hits += std::find(p, p + k_, uint16_t(e)) != p + k_;
  for (int64_t i = 0; i < k_; ++i) p[i] = uint16_t(experts[size_t(i)]);
  return hits;
}

}  // namespace dsinfer
