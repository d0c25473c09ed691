#include "quant/ggml_type.h"

#include <array>

namespace dsinfer {

namespace {

struct TypeInfo {
  GgmlType type;
  std::string_view name;
  uint32_t block_size, type_size;
};

constexpr uint32_t kQK_K = 256;  // super-block of the K-quants

// Sizes written out from the block layouts (llama.cpp gguf-py GGML_QUANT_SIZES).
constexpr std::array<TypeInfo, 34> kTypes = {{
    {GgmlType::F32, "F32", 1, 4},
    {GgmlType::F16, "F16", 1, 2},
    {GgmlType::Q4_0, "Q4_0", 32, 2 + 16},
    {GgmlType::Q4_1, "Q4_1", 32, 2 + 2 + 16},
    {GgmlType::Q5_0, "Q5_0", 32, 2 + 4 + 16},
    {GgmlType::Q5_1, "Q5_1", 32, 2 + 2 + 4 + 16},
    {GgmlType::Q8_0, "Q8_0", 32, 2 + 32},
    {GgmlType::Q8_1, "Q8_1", 32, 4 + 4 + 32},
    {GgmlType::Q2_K, "Q2_K", kQK_K, 2 + 2 + kQK_K / 16 + kQK_K / 4},
    {GgmlType::Q3_K, "Q3_K", kQK_K, 2 + kQK_K / 4 + kQK_K / 8 + 12},
    {GgmlType::Q4_K, "Q4_K", kQK_K, 2 + 2 + kQK_K / 2 + 12},
    {GgmlType::Q5_K, "Q5_K", kQK_K, 2 + 2 + kQK_K / 2 + kQK_K / 8 + 12},
    {GgmlType::Q6_K, "Q6_K", kQK_K, 2 + kQK_K / 2 + kQK_K / 4 + kQK_K / 16},
    {GgmlType::Q8_K, "Q8_K", kQK_K, 4 + kQK_K + kQK_K / 8},
    {GgmlType::IQ2_XXS, "IQ2_XXS", kQK_K, 2 + kQK_K / 4},
    {GgmlType::IQ2_XS, "IQ2_XS", kQK_K, 2 + kQK_K / 4 + kQK_K / 32},
    {GgmlType::IQ3_XXS, "IQ3_XXS", kQK_K, 2 + kQK_K / 4 + kQK_K / 8},
    {GgmlType::IQ1_S, "IQ1_S", kQK_K, 2 + kQK_K / 8 + kQK_K / 16},
    {GgmlType::IQ4_NL, "IQ4_NL", 32, 2 + 16},
    {GgmlType::IQ3_S, "IQ3_S", kQK_K, 2 + kQK_K / 4 + kQK_K / 8 + kQK_K / 32 + 4},
    {GgmlType::IQ2_S, "IQ2_S", kQK_K, 2 + kQK_K / 4 + kQK_K / 16},
    {GgmlType::IQ4_XS, "IQ4_XS", kQK_K, 2 + 2 + kQK_K / 2 + kQK_K / 64},
    {GgmlType::I8, "I8", 1, 1},
    {GgmlType::I16, "I16", 1, 2},
    {GgmlType::I32, "I32", 1, 4},
    {GgmlType::I64, "I64", 1, 8},
    {GgmlType::F64, "F64", 1, 8},
    {GgmlType::IQ1_M, "IQ1_M", kQK_K, kQK_K / 8 + kQK_K / 16 + kQK_K / 32},
    {GgmlType::BF16, "BF16", 1, 2},
    {GgmlType::TQ1_0, "TQ1_0", kQK_K, 2 + 4 * 13},
    {GgmlType::TQ2_0, "TQ2_0", kQK_K, 2 + 64},
    {GgmlType::MXFP4, "MXFP4", 32, 1 + 16},
    {GgmlType::NVFP4, "NVFP4", 64, 4 + 32},
    {GgmlType::Q1_0, "Q1_0", 128, 2 + 16},
}};

const TypeInfo* info(uint32_t id) {
  for (const TypeInfo& t : kTypes)
    if (uint32_t(t.type) == id) return &t;
  return nullptr;
}

char upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

}  // namespace

bool ggml_type_known(uint32_t id) { return info(id) != nullptr; }

std::string_view ggml_type_name(GgmlType t) {
  const TypeInfo* i = info(uint32_t(t));
  return i ? i->name : "?";
}

std::optional<GgmlType> ggml_type_from_name(std::string_view name) {
  for (const TypeInfo& t : kTypes) {
    if (t.name.size() != name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k) same = upper(name[k]) == t.name[k];
    if (same) return t.type;
  }
  return std::nullopt;
}

uint32_t ggml_block_size(GgmlType t) {
  const TypeInfo* i = info(uint32_t(t));
  return i ? i->block_size : 0;
}

uint32_t ggml_type_size(GgmlType t) {
  const TypeInfo* i = info(uint32_t(t));
  return i ? i->type_size : 0;
}

bool ggml_is_quantized(GgmlType t) { return ggml_block_size(t) > 1; }

uint64_t ggml_row_size(GgmlType t, uint64_t n) {
  const TypeInfo* i = info(uint32_t(t));
  return i ? n / i->block_size * i->type_size : 0;
}

}  // namespace dsinfer
