// Random activations and weights as Q8_0/Q4_0 blocks, and block levels, for the kernel tests
// (the GoogleTest suites and the NEON cross check, which has no GoogleTest: plain C++ only).
#pragma once
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "simd/blocks.h"

namespace dsinfer::test {

inline std::vector<float> random_floats(std::mt19937& rng, int64_t n, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

inline std::vector<BlockQ8_0> q8(const std::vector<float>& x) {
  std::vector<BlockQ8_0> b(x.size() / kBlockWeights);
  quantize_row_q8_0(x.data(), b.data(), int64_t(x.size()));
  return b;
}

inline std::vector<BlockQ4_0> q4(const std::vector<float>& x) {
  std::vector<BlockQ4_0> b(x.size() / kBlockWeights);
  quantize_row_q4_0(x.data(), b.data(), int64_t(x.size()));
  return b;
}

// Latent cache rows as TypedLatentCache stores them: Q8_0 blocks of the latent, then the float rope
// key (4 bytes each; unaligned after an odd number of blocks).
inline std::vector<std::vector<uint8_t>> latent_cache_rows(std::mt19937& rng, int64_t ns, int64_t latent,
                                                           int64_t rope) {
  std::vector<std::vector<uint8_t>> rows;
  for (int64_t s = 0; s < ns; ++s) {
    const auto x = random_floats(rng, latent + rope, 1.0f);
    const auto blocks = q8(std::vector<float>(x.begin(), x.begin() + latent));
    std::vector<uint8_t> r(blocks.size() * sizeof(BlockQ8_0) + size_t(rope) * 4);
    std::memcpy(r.data(), blocks.data(), blocks.size() * sizeof(BlockQ8_0));
    std::memcpy(r.data() + blocks.size() * sizeof(BlockQ8_0), x.data() + latent, size_t(rope) * 4);
    rows.push_back(std::move(r));
  }
  return rows;
}

// Element j's signed level.
inline int32_t level(const BlockQ8_0& b, int j) { return b.qs[j]; }
inline int32_t level(const BlockQ4_0& b, int j) { return j < 16 ? (b.qs[j] & 0x0F) - 8 : (b.qs[j - 16] >> 4) - 8; }

}  // namespace dsinfer::test
