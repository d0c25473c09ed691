// Multi-head latent attention of the fast path, in the absorbed form over the latent-only
// cache: W_UK is folded into each head's query (q_lat = W_UK_h^T q_nope), attention runs on
// the cached latents directly, and W_UV is applied once to the weighted sum of latents. Works
// for one decoded token as for a prefill chunk (causal).
//
// Positions are processed in fixed chunks of kAttnChunk with a running (max, sum, output)
// merged in chunk order, so the result is the same whether chunks are spread over threads
// (few query tokens: decode, speculative verify) or taken by one thread per token (prefill).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/linear.h"
#include "engine/model_config.h"
#include "engine/model_weights.h"
#include "engine/rope.h"

namespace dsinfer {

inline constexpr int64_t kAttnChunk = 256;

// Where each of T tokens lives: its sequence's cache and its position there. A prefill chunk
// is T consecutive positions of one cache; a batched decode step is one position in each of
// several caches. Token t attends to positions 0..pos[t] of cache[t].
struct TokenSlots {
  KvCache* const* cache = nullptr;
  const int64_t* pos = nullptr;
};

// Buffers for up to max_T query tokens over a cache of `context` positions, sized once.
struct MlaScratch {
  void reserve(const ModelConfig& c, int64_t max_T, int64_t context, int threads);

  int threads = 1;
  int64_t max_T = 0;
  std::vector<float> qa, q, kva, qn, qlat, olat, oh, o, row;
  std::vector<BlockQ8_0> qaq, qq, qnq, olatq, oq;
  std::vector<float> part;          // per (token, chunk) of few-token calls: [H][r] output, then [H] max, [H] sum
  std::vector<float> thread_space;  // per thread: scores, converted rows, running output, ...
  std::vector<const float*> thread_rows;
  std::vector<LinearJob> jobs;
};

// h: the attention-normed input of T tokens ([T][hidden], with its Q8_0 blocks when the
// projections are quantized). Writes each token's latent into `layer` of its cache at its
// position, then attends causally. out [T][hidden].
void mla_absorbed(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, const TokenSlots& slots,
                  int64_t layer, const Acts& h, float* out, MlaScratch& s);

}  // namespace dsinfer
