// Internal: latent cache rows back to float, as plain loops. Each kernel translation unit
// gets its own copy (internal linkage) compiled with its ISA's flags, so the compiler
// vectorises it for that ISA and no copy built for a wide ISA can stand in for another's.
#pragma once
#include <cstdint>
#include <cstring>

#include "simd/blocks.h"
#include "simd/half.h"

namespace dsinfer::simd::detail {
namespace {  // NOLINT(google-build-namespaces): one copy per ISA translation unit, on purpose

void bf16_row_to_f32(const uint16_t* x, float* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t u = uint32_t(x[i]) << 16;
    std::memcpy(y + i, &u, 4);
  }
}

void q8_0_row_to_f32(const BlockQ8_0* x, float* y, int64_t n) noexcept {
  for (int64_t b = 0; b < n / kBlockWeights; ++b) {
    const float d = fp16_to_f32(x[b].d);
    for (int j = 0; j < kBlockWeights; ++j) y[b * kBlockWeights + j] = d * float(x[b].qs[j]);
  }
}

}  // namespace
}  // namespace dsinfer::simd::detail
