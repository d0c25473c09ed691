// Attention scores against a Q8_0 latent cache in integers: each head's latent query quantized
// to int8 in 32-value blocks, each block's dot product with the cached row exact in int32, then
// float(dot) * (d_q * d_c) fused into one float accumulator, blocks in order, and the rope
// part (float query against the float rope key) fused after them; the score is scale times
// that. Every ISA computes exactly this, so results are bit-identical to the scalar reference.
//
// Heads go in groups of 16 (the last padded with zero heads) so that one 512-bit register holds
// one position's partial scores for a group; a query is packed once a token and layer.
#pragma once
#include <cstdint>
#include <vector>

namespace dsinfer::simd {

inline constexpr int64_t kScoreHeads = 16;

// One token's queries, packed. Sizes in kScoreHeads-head groups g and 32-value latent blocks b.
struct LatentQueryQ8 {
  int64_t heads = 0, groups = 0, blocks = 0, rope = 0;
  float scale = 1.0f;
  // Levels [g][b][k < 8][head < 16][4]: register k of block b holds values 4k..4k+3 of each head.
  int8_t* q = nullptr;
  float* d = nullptr;        // [g][b][head]: the block's scale
  int32_t* corr = nullptr;   // [g][b][head]: -128 * the sum of the block's levels
  float* rope_q = nullptr;   // [g][j < rope][head]
};

// Storage for one packed query of a shape; the buffers are sized once.
class LatentQueryBuffer {
 public:
  void reserve(int64_t heads, int64_t latent, int64_t rope);
  LatentQueryQ8& query() noexcept { return q_; }

 private:
  LatentQueryQ8 q_;
  std::vector<int8_t> levels_;
  std::vector<float> floats_;
  std::vector<int32_t> corr_;
};

// Packs heads [0, q.heads) of one token: latent query of head h at lat + h * lat_stride
// (q.blocks * 32 values), rope query at rope + h * rope_stride (q.rope values).
void pack_latent_query_q8(const float* lat, int64_t lat_stride, const float* rope, int64_t rope_stride, float scale,
                          LatentQueryQ8& q) noexcept;

}  // namespace dsinfer::simd
