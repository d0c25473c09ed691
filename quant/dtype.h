// Storage types of weights and their element conversions to float32.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "simd/half.h"

namespace dsinfer {

// Element types of safetensors, plus the GGUF block types the engine computes with.
enum class DType : uint8_t { F32, F16, BF16, F8_E4M3, F64, I64, I32, I16, I8, U8, BOOL, Q8_0, Q4_0 };

// Bytes per element of a non-block type; 0 for a block type.
size_t dtype_size(DType t);
bool dtype_is_block(DType t);  // Q8_0, Q4_0: 32 weights a block
// Bytes of `n` consecutive elements (n a multiple of 32 for block types).
size_t dtype_row_bytes(DType t, int64_t n);
std::string_view dtype_name(DType t);
// The safetensors spelling ("F32", "BF16", "F8_E4M3", ...); nullopt when unknown.
std::optional<DType> dtype_from_safetensors(std::string_view s);

// E4M3 "fn" variant: bias 7, no infinities, 0x7F/0xFF are NaN, max 448.
float fp8_e4m3_to_f32(uint8_t v);

}  // namespace dsinfer
