// Attention of absorbed queries over the latent cache (the inner part of MLA decode and
// prefill): for each query token and head, scores against every cached position
// (q_lat . c + q_rope . k_rope, times the softmax scale), softmax, and the weighted sum of the
// cached latents.
//
// Positions are taken in fixed chunks of kAttnChunk with a running (max, sum, output) merged in
// chunk order, so the result is the same whether chunks are spread over threads (a few query
// tokens: decode, a short verify) or taken by one thread per token (prefill); one token over a
// single chunk splits that chunk's positions and heads between the threads instead.
//
// Over a q8_0 cache, where the CPU has the integer kernel, the scores are integer dot
// products of each head's query quantized to int8 against the cached levels
// (simd/latent_scores.h); the weighted sum stays in float over the rows converted back.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/fast/typed_latent_cache.h"
#include "simd/latent_scores.h"

namespace dsinfer {

inline constexpr int64_t kAttnChunk = 256;

// Where each of T tokens lives: its sequence's cache and its position there. A prefill chunk
// is T consecutive positions of one cache; a batched decode step is one position in each of
// several caches. Token t attends to positions 0..pos[t] of cache[t].
struct TokenSlots {
  TypedLatentCache* const* cache = nullptr;
  const int64_t* pos = nullptr;
};

// The absorbed queries of T tokens.
struct LatentQueries {
  int64_t T = 0;
  const float* lat = nullptr;   // [H][T][r]: head h of token t at lat + (h * T + t) * r
  const float* rope = nullptr;  // token t, head h at rope + (t * H + h) * rope_stride
  int64_t rope_stride = 0;
  float scale = 1.0f;
};

// Buffers for up to max_T query tokens over caches of `context` positions, sized once.
class LatentAttention {
 public:
  void reserve(int64_t heads, int64_t latent, int64_t rope, int64_t max_T, int64_t context, int threads);
  // Off: float scores over a q8_0 cache too (the rows converted back), for comparisons.
  void set_integer_scores(bool on) noexcept { integer_scores_ = on; }
  // out [H][T][r]: each token's softmax-weighted sum of latents per head, normalised.
  void run(const LatentQueries& q, const TokenSlots& slots, int64_t layer, float* out);

 private:
  // A running softmax state: unnormalised output [H][r], max [H], sum [H].
  struct State {
    float *o, *m, *l;
  };
  // One thread's working memory.
  struct Space {
    float* scores;            // [H][kAttnChunk]
    float* rope_scores;       // [H][kAttnChunk]: the rope keys' part
    float* rows_f;            // [kAttnChunk][r + rope]: rows converted from the cache's type
    const float** rows;       // [kAttnChunk]: each row as float
    const float** rope_rows;  // [kAttnChunk]: its rope key
    const uint8_t** raw;      // [kAttnChunk]: each row as stored (integer scores)
    State run, chunk;
  };
  Space space(int thread);
  State partial(int64_t t, int64_t ch, int64_t chunks);
  // qq: token t's packed query for the integer scores, or nullptr for the float ones.
  void attend_chunk(const LatentQueries& q, const simd::LatentQueryQ8* qq, const TokenSlots& slots, int64_t layer,
                    int64_t t, int64_t sa, int64_t sb, Space& sp, const State& out) const;
  void pack(const LatentQueries& q, int64_t t, simd::LatentQueryQ8& into) const;
  void merge(bool first, const State& into, const State& from) const;
  // Heads [h0, h1) of token t, normalised into out.
  void finish(const LatentQueries& q, int64_t t, const State& s, float* out, int64_t h0, int64_t h1) const;
  // One token over its only chunk (n positions, integer scores), on every thread: the scores
  // split by positions, then softmax and weighted sum by heads. Each score and each head's sums
  // are the operations attend_chunk does, in its order: the same bits.
  void attend_spread(const LatentQueries& q, const simd::LatentQueryQ8& qq, const TokenSlots& slots, int64_t layer,
                     int64_t n, float* out);

  int64_t H_ = 0, r_ = 0, dr_ = 0;
  int threads_ = 1;
  bool integer_scores_ = true;
  int64_t few_ = 0;  // packed_[0, few_) for the tokens of a few-token call
  std::vector<float> part_;   // per (token, chunk) of few-token calls: one State each
  std::vector<float> space_;  // per thread: one Space
  std::vector<const float*> rows_;
  std::vector<const uint8_t*> raw_;
  // Packed queries: one per token of a few-token call, then one per thread.
  std::vector<simd::LatentQueryBuffer> packed_;
};

}  // namespace dsinfer
