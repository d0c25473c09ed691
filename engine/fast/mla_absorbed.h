// Multi-head latent attention of the fast engine, in the absorbed form over the latent-only
// cache: W_UK is folded into each head's query (q_lat = W_UK_h^T q_nope), attention runs on the
// cached latents directly (latent_attention.h), and W_UV is applied once to the weighted sum of
// latents. The same code serves one decoded token and a prefill chunk (causal).
//
// The steps, in order: project (q through its low-rank path when there is one, and the
// compressed kv), store the new positions' latents, absorb W_UK into the queries, attend, and
// project out (W_UV per head, then o_proj).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/fast/latent_attention.h"
#include "engine/fast/linear.h"
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "engine/model/rope.h"

namespace dsinfer {

// Every buffer of the MLA steps for up to max_T query tokens over caches of `context`
// positions, sized once.
struct MlaScratch {
  void reserve(const ModelConfig& c, int64_t max_T, int64_t context, int threads);

  std::vector<float> q_a;      // [T][q_lora_rank]: the low-rank query, normed in place
  std::vector<float> q;        // [T][H][nope + rope]: queries, rope part rotated
  std::vector<float> kv_a;     // [T][r + rope]: compressed kv as projected
  std::vector<float> latents;  // [T][r + rope]: normed latent and rotated rope key, as cached
  std::vector<float> q_nope;   // [H][T][nope]: head-major, for the per-head absorption
  std::vector<float> q_lat;    // [H][T][r]: the absorbed queries
  std::vector<float> o_lat;    // [H][T][r]: attention's weighted sums of latents
  std::vector<float> o_head;   // [H][T][v]: W_UV applied per head
  std::vector<float> o;        // [T][H][v]: token-major, o_proj's input
  std::vector<float> rope_cs;  // [T][2 * pairs]: each token's rotation (Rope::angles)
  // The same activations as Q8_0 blocks, for quantized weights.
  std::vector<BlockQ8_0> q_a_q, q_nope_q, o_lat_q, o_q;
  std::vector<LinearJob> jobs;
  std::vector<TransposedJob> tjobs;
  LatentAttention attention;
};

// h: the attention-normed input of T tokens ([T][hidden], with its Q8_0 blocks when the
// projections are quantized). Writes each token's latent into `layer` of its cache at its
// position, then attends causally. out [T][hidden].
void mla_absorbed(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, const TokenSlots& slots,
                  int64_t layer, const Acts& h, float* out, MlaScratch& s);
// mla_absorbed's cache stores alone (the same bits), for entries nobody reads the output of.
void mla_store_only(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, const TokenSlots& slots,
                    int64_t layer, const Acts& h, MlaScratch& s);

}  // namespace dsinfer
