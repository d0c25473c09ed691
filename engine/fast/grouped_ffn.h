// Feed-forward blocks of the fast path: dense SwiGLU layers and the routed mixture of experts,
// executed as one group of SwiGLU "tasks" (an expert with the tokens routed to it, the shared
// expert with every token, or a dense FFN).
//
// Tokens are grouped by expert, so each expert's weights are read once per call whatever the
// number of tokens. The gate/up products of all tasks form one balanced job list; the down
// products split the hidden dimension between threads, and each thread adds every task's
// contribution to its slice in task order (routed experts by ascending id, then the shared
// expert): no thread waits on another, and sums do not depend on the thread count.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "engine/model/moe_router.h"
#include "engine/fast/linear.h"
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"

namespace dsinfer {

class RouterBiasHook;  // decoder.h

struct FfnScratch {
  // For up to max_T tokens of this model's layers.
  void reserve(const ModelConfig& c, const ModelWeights& w, int64_t max_T, int threads);

  int threads = 1;
  std::vector<float> logits, route_tmp, slot_w, g, u, xf, ytmp;
  std::vector<int32_t> ids, count, mark, slot_tok, used, predicted;
  std::vector<int64_t> first_slot;
  int64_t shared_slot = 0, predicted_layer = -1;
  std::vector<float> wts;
  std::vector<BlockQ8_0> xq, gq;
  std::vector<LinearJob> jobs;
  struct Task {
    const FfnWeights* w;
    int64_t slot0, n, goff, gqoff;  // first slot, slots, offsets into g/u and gq
  };
  std::vector<Task> tasks;
  std::vector<std::pair<int32_t, int32_t>> rows;  // (task, row) of every task's rows, for the SwiGLU
};

// out [T][hidden] = FFN(x) for a dense layer.
void ffn_fast(const FfnWeights& w, const Acts& x, float* out, FfnScratch& s);
// What moe_fast needs of the layers around it: where the expert bias comes from (the model's,
// or a hook's, see decoder.h), and the next MoE layer, whose experts an expert store can start
// reading while this one computes.
struct MoeContext {
  RouterBiasHook* hook = nullptr;
  int64_t layer = 0;
  const MoeWeights* next = nullptr;
  std::span<const int32_t> tokens;  // the tokens of x's rows, for an expert store's routing memory
};
// out [T][hidden] = shared(x) + sum_k w_k Expert_{e_k}(x); routing decisions appended to rec.
void moe_fast(const ModelConfig& c, const MoeWeights& w, const Acts& x, float* out, FfnScratch& s,
              RouterRecord* rec, MoeContext ctx = {});

}  // namespace dsinfer
