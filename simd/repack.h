// The kernels' own weight layout: Q8_0 and Q4_0 rows interleaved in groups of 16 ("row
// groups"), same bytes as GGUF's layout, arranged so that one 512-bit register holds 4
// consecutive weights of each of 16 rows. Weights copied into RAM are repacked once at load
// (the file stays standard GGUF); the products over them (Kernels::gemm_*_r16) produce one
// register of 16 outputs per token per pass.
//
// A row group g of a matrix with nb blocks a row is nb consecutive block groups; block group b
// holds block b of the 16 rows 16g .. 16g + 15:
//   Q4_0: 288 bytes = 16 fp16 scales (row order), then 4 slices of 64 bytes; slice p holds,
//         for each row i in order, bytes qs[4p .. 4p + 3] of that row's block (low nibbles:
//         elements 4p..4p+3, high nibbles: elements 16+4p..16+4p+3).
//   Q8_0: 544 bytes = 16 fp16 scales, then 8 slices of 64 bytes; slice k holds, for each row
//         i, levels qs[4k .. 4k + 3] of its block.
// Scales and levels are the GGUF block's, unchanged: a repacked row dequantizes to exactly
// what the stored row does.
#pragma once
#include <cstddef>
#include <cstdint>

#include "simd/blocks.h"

namespace dsinfer {

inline constexpr int64_t kRowGroup = 16;
// Rows up to this many blocks (32768 weights) are repacked; wider ones keep the stored layout.
inline constexpr int64_t kR16MaxBlocks = 1024;
inline constexpr size_t kQ4GroupBlockBytes = kRowGroup * sizeof(BlockQ4_0);  // 288
inline constexpr size_t kQ8GroupBlockBytes = kRowGroup * sizeof(BlockQ8_0);  // 544

// 16 rows of nb blocks, as stored, into one row group (dst: 16 * nb blocks' bytes).
void repack_q4_0_rows(const BlockQ4_0* rows, int64_t nb, uint8_t* dst) noexcept;
void repack_q8_0_rows(const BlockQ8_0* rows, int64_t nb, uint8_t* dst) noexcept;
// Row i (0..15) of a row group back to stored blocks [nb].
void unpack_q4_0_row(const uint8_t* group, int64_t nb, int64_t i, BlockQ4_0* out) noexcept;
void unpack_q8_0_row(const uint8_t* group, int64_t nb, int64_t i, BlockQ8_0* out) noexcept;

}  // namespace dsinfer
