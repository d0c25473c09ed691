// Quantizers that search each block's scale: the Q8_0 and Q4_0 formats of simd/blocks.h, each
// block's scale chosen to minimise the squared error of the dequantized block. Never a larger
// error than round-to-nearest on any block, deterministic; costs about 25x (Q4_0) and 4x
// (Q8_0) round-to-nearest. Non-finite input gives unspecified (but memory-safe) blocks.
#pragma once
#include <cstdint>

#include "simd/blocks.h"

namespace dsinfer {

// Levels stay within -127..127, as round-to-nearest's do.
void quantize_row_q8_0_mse(const float* x, BlockQ8_0* y, int64_t n) noexcept;
void quantize_row_q4_0_mse(const float* x, BlockQ4_0* y, int64_t n) noexcept;

}  // namespace dsinfer
