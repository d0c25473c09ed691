// The experts each MoE layer routed a token to the last time the model saw that token.
//
// A token's routing depends mostly on the token itself: measured on held-out text, 83% of a
// repeated token's experts are those of its previous occurrence on the trained demo model (92%
// in its first MoE layer; 24-44% are shared with the token just before), 90% on random-weight
// files of V2-Lite's shape. So when a forward's tokens are known before it runs (a decode
// step's, a speculative draft's), the experts of every layer can be read ahead of it.
//
// Fixed memory: `tokens` rows of [layers][top_k] expert ids, a row per distinct token, the
// oldest row taken over when they run out; nothing is allocated after construction.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace dsinfer {

class RoutingMemory {
 public:
  // `layers`: layer indices 0..layers-1; `top_k` experts a token and layer (ids below 65,535);
  // token ids 0..vocab-1; at most `tokens` distinct tokens remembered.
  RoutingMemory(int64_t layers, int64_t top_k, int64_t vocab, int64_t tokens);

  // The experts `token` went to in `layer` the last time (empty: not remembered).
  std::span<const uint16_t> recall(int64_t layer, int32_t token) const;
  // `token` went to `experts` (top_k of them) in `layer`. Returns how many of them the memory
  // had recalled (the prediction's hits), -1 when it had nothing for that token and layer.
  int64_t remember(int64_t layer, int32_t token, std::span<const int32_t> experts);

  int64_t top_k() const { return k_; }

 private:
  static constexpr uint16_t kNone = 0xFFFF;
  int64_t layers_, k_;
  std::vector<int32_t> row_of_;  // [vocab] -> row, -1
  std::vector<int32_t> owner_;   // [rows] -> token, -1
  std::vector<uint16_t> ids_;    // [rows][layers][top_k]
  int64_t next_ = 0;             // the row taken next when a new token comes
};

}  // namespace dsinfer
