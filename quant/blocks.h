// The Q8_0 and Q4_0 block formats, bit-compatible with GGUF, and their quantizers.
//
// Q8_0 (ggml type 8): 32 weights in 34 bytes, x[j] = d * qs[j], qs int8.
// Q4_0 (ggml type 2): 32 weights in 18 bytes, x[j] = d * (q[j] - 8), q in 0..15; element
//   j < 16 is the low nibble of qs[j], element j + 16 its high nibble.
// d is IEEE fp16 (little-endian bits). Rows hold n weights, n a multiple of 32.
//
// Two quantizers per format:
//  - quantize_row_*: ggml's reference round-to-nearest, byte for byte (same scale choice, same
//    fp16 rounding to nearest even, same integer rounding), so files match llama.cpp's.
//  - quantize_row_*_mse: the same format, each block's scale searched to minimise the squared
//    error of the dequantized block. Never a larger error than round-to-nearest on any block,
//    deterministic; costs about 25x (Q4_0) and 4x (Q8_0) round-to-nearest.
// Non-finite input gives unspecified (but memory-safe) blocks. All functions are noexcept.
#pragma once
#include <cstdint>

namespace dsinfer {

inline constexpr int kBlockWeights = 32;  // weights per Q8_0 or Q4_0 block

struct BlockQ8_0 {
  uint16_t d;  // fp16 bits of the scale
  int8_t qs[kBlockWeights];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must be 34 bytes");

struct BlockQ4_0 {
  uint16_t d;  // fp16 bits of the scale
  uint8_t qs[kBlockWeights / 2];
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must be 18 bytes");

// ggml: d = max|x| / 127; q = round(x / d), halves away from zero.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) noexcept;
// Levels stay within -127..127 as ggml's do: integer dot-product kernels that take |q| with a
// sign trick overflow on -128.
void quantize_row_q8_0_mse(const float* x, BlockQ8_0* y, int64_t n) noexcept;
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) noexcept;

// ggml: d = (the element of largest magnitude, first one on ties) / -8; q = x / d + 8.5
// truncated, capped at 15.
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) noexcept;
void quantize_row_q4_0_mse(const float* x, BlockQ4_0* y, int64_t n) noexcept;
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) noexcept;

}  // namespace dsinfer
