// The last step the integer attention score kernels share (simd/latent_scores_{avx2,avx512,neon}.cpp,
// each compiled with its own ISA flags): a tile's scores, computed position by position, written
// out head by head.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "simd/latent_scores.h"

namespace dsinfer::simd::detail {
namespace {  // internal linkage: each ISA file keeps its own copy, none merged across flags

// out[(16 g + h) * ldo + t] = tile[t][h] for the tile's positions t and head group g's real heads
// (the padding heads of the last group are not written).
template <size_t NT>
inline void store_head_rows(const float (&tile)[NT][kScoreHeads], const LatentQueryQ8& q, int64_t g, float* out,
                            int64_t ldo) {
  const int64_t h0 = g * kScoreHeads, nh = std::min<int64_t>(kScoreHeads, q.heads - h0);
  for (int64_t hh = 0; hh < nh; ++hh)
    for (size_t t = 0; t < NT; ++t) out[(h0 + hh) * ldo + int64_t(t)] = tile[t][hh];
}

}  // namespace
}  // namespace dsinfer::simd::detail
