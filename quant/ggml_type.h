// GGML tensor types as GGUF files number them, and the byte size of their rows.
// The ids are part of the file format; the table matches llama.cpp's gguf-py constants
// (GGMLQuantizationType and GGML_QUANT_SIZES). Only F32, F16, BF16, Q8_0 and Q4_0 are
// computed with in dsinfer; the others are known so any llama.cpp file can be validated
// and listed.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace dsinfer {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
};

// True when `id` names a type of the table (ids of removed types, e.g. 4, 5, 31-33, are not).
bool ggml_type_known(uint32_t id);
// "Q4_0", "BF16", ...; "?" for an unknown id.
std::string_view ggml_type_name(GgmlType t);
// Case-insensitive inverse of ggml_type_name ("q4_0" works); nullopt when unknown.
std::optional<GgmlType> ggml_type_from_name(std::string_view name);

// Elements per block (1 for plain types) and bytes per block; 0 for an unknown id.
uint32_t ggml_block_size(GgmlType t);
uint32_t ggml_type_size(GgmlType t);
bool ggml_is_quantized(GgmlType t);  // block size > 1

// Bytes of `n` consecutive elements; `n` must be a multiple of ggml_block_size(t). 0 for an unknown type.
uint64_t ggml_row_size(GgmlType t, uint64_t n);

}  // namespace dsinfer
