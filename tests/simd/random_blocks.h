// Random activations and weights as Q8_0/Q4_0 blocks, and block levels, for the kernel tests
// (the GoogleTest suites and the NEON cross check, which has no GoogleTest: plain C++ only).
#pragma once
#include <cstdint>
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

// Element j's signed level.
inline int32_t level(const BlockQ8_0& b, int j) { return b.qs[j]; }
inline int32_t level(const BlockQ4_0& b, int j) { return j < 16 ? (b.qs[j] & 0x0F) - 8 : (b.qs[j - 16] >> 4) - 8; }

}  // namespace dsinfer::test
