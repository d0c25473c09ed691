// The one catalogue of tensor element types, for every format dsinfer reads or writes: each
// type's name, its GGUF id (the file format's number, as llama.cpp's gguf-py constants
// GGMLQuantizationType and GGML_QUANT_SIZES give them), its safetensors spelling, its block
// size and bytes, and its conversion to float32 where dsinfer computes with it. The GGUF
// reader and writer, the safetensors reader, the quantizer and the engine all use it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "simd/half.h"

namespace dsinfer {

enum class DType : uint8_t {
  // computed with (F8_E4M3 only with its block scales, see engine/model/matrix.h)
  F32, F16, BF16, F8_E4M3, Q8_0, Q4_0,
  // plain types that files may hold (read and validated, not computed with)
  F64, I64, I32, I16, I8, U8, BOOL,
  // GGUF block types known by size only: llama.cpp files holding them can be listed
  Q4_1, Q5_0, Q5_1, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ4_NL,
  IQ3_S, IQ2_S, IQ4_XS, IQ1_M, TQ1_0, TQ2_0, MXFP4, NVFP4, Q1_0,
};

struct DTypeInfo {
  DType type;
  std::string_view name;         // "Q4_0", "BF16", ...
  int32_t gguf_id;               // -1: no GGUF type (F8_E4M3, U8, BOOL)
  std::string_view safetensors;  // "": no safetensors dtype
  uint32_t block_size, block_bytes;  // elements per block (1 for plain types) and its bytes
  // n elements (a multiple of block_size) to float32; null where dsinfer does not compute
  // with the type by itself (F8_E4M3 needs its block scales).
  void (*to_float)(const uint8_t* src, float* dst, int64_t n) noexcept;
};

const DTypeInfo& dtype_info(DType t) noexcept;
inline std::string_view dtype_name(DType t) noexcept { return dtype_info(t).name; }
inline bool dtype_is_block(DType t) noexcept { return dtype_info(t).block_size > 1; }
// Bytes of n consecutive elements (n a multiple of the block size).
inline size_t dtype_row_bytes(DType t, int64_t n) noexcept {
  const DTypeInfo& i = dtype_info(t);
  return size_t(n) / i.block_size * i.block_bytes;
}

std::optional<DType> dtype_from_gguf_id(uint32_t id) noexcept;
std::optional<DType> dtype_from_safetensors(std::string_view s) noexcept;
// Case-insensitive name ("q4_0" works).
std::optional<DType> dtype_from_name(std::string_view name) noexcept;

// E4M3 "fn" variant: bias 7, no infinities, 0x7F/0xFF are NaN, max 448.
float fp8_e4m3_to_f32(uint8_t v);

}  // namespace dsinfer
