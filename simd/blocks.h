// The Q8_0 and Q4_0 block formats, bit-compatible with GGUF (ggml types 8 and 2), and the
// round-to-nearest quantizers that define them: what every kernel computes on.
//
// Byte layout (little-endian; a row of n weights, n a multiple of 32, is n / 32 blocks):
//   Q8_0: 34 bytes = fp16 d (2 bytes), int8 qs[32];           x[j] = d * qs[j]
//   Q4_0: 18 bytes = fp16 d (2 bytes), uint8 qs[16];          x[j] = d * (q[j] - 8), q in 0..15
//         element j < 16 is the low nibble of qs[j], element j + 16 its high nibble.
// d is IEEE binary16. Blocks are read in place, so a block pointer needs 2-byte alignment.
//
// Rounding contract (ggml's reference quantizers, byte for byte, so files match llama.cpp's):
//   Q8_0: amax = max |x|; d = amax / 127; q = round(x * (1 / d)), halves away from zero;
//         levels stay in -127..127 (kernels move signs between operands: -128 would overflow).
//   Q4_0: m = the element of largest magnitude (the first on ties), with its sign; d = m / -8;
//         q = trunc(x * (1 / d) + 8.5), capped at 15.
//   d is rounded to fp16 to nearest even; a zero block has d = 0 and all levels zero (Q8_0)
//   or 8 (Q4_0). The float operations are ggml's, in its order, each rounded (blocks.cpp is
//   compiled with -ffp-contract=off: C++ compilers fuse a * b + c by default where the CPU has
//   fma): x * (1 / d), not x / d.
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

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) noexcept;
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) noexcept;
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) noexcept;
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) noexcept;

}  // namespace dsinfer
