#include "quant/dtype.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "simd/blocks.h"

namespace dsinfer {

namespace {

constexpr uint32_t kQK_K = 256;  // super-block of the K-quants

void f32_row(const uint8_t* s, float* d, int64_t n) noexcept { std::memcpy(d, s, size_t(n) * 4); }
void f16_row(const uint8_t* s, float* d, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, s + 2 * i, 2);
    d[i] = fp16_to_f32(h);
  }
}
void bf16_row(const uint8_t* s, float* d, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, s + 2 * i, 2);
    d[i] = bf16_to_f32(h);
  }
}
void q8_0_row(const uint8_t* s, float* d, int64_t n) noexcept {
  dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(s), d, n);
}
void q4_0_row(const uint8_t* s, float* d, int64_t n) noexcept {
  dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(s), d, n);
}

// In enum order. Block sizes are written out from the block layouts.
constexpr std::array<DTypeInfo, 37> kTypes = {{
    {DType::F32, "F32", 0, "F32", 1, 4, f32_row},
    {DType::F16, "F16", 1, "F16", 1, 2, f16_row},
    {DType::BF16, "BF16", 30, "BF16", 1, 2, bf16_row},
    {DType::F8_E4M3, "F8_E4M3", -1, "F8_E4M3", 1, 1, nullptr},
    {DType::Q8_0, "Q8_0", 8, "", 32, 2 + 32, q8_0_row},
    {DType::Q4_0, "Q4_0", 2, "", 32, 2 + 16, q4_0_row},
    {DType::F64, "F64", 28, "F64", 1, 8, nullptr},
    {DType::I64, "I64", 27, "I64", 1, 8, nullptr},
    {DType::I32, "I32", 26, "I32", 1, 4, nullptr},
    {DType::I16, "I16", 25, "I16", 1, 2, nullptr},
    {DType::I8, "I8", 24, "I8", 1, 1, nullptr},
    {DType::U8, "U8", -1, "U8", 1, 1, nullptr},
    {DType::BOOL, "BOOL", -1, "BOOL", 1, 1, nullptr},
    {DType::Q4_1, "Q4_1", 3, "", 32, 2 + 2 + 16, nullptr},
    {DType::Q5_0, "Q5_0", 6, "", 32, 2 + 4 + 16, nullptr},
    {DType::Q5_1, "Q5_1", 7, "", 32, 2 + 2 + 4 + 16, nullptr},
    {DType::Q8_1, "Q8_1", 9, "", 32, 4 + 4 + 32, nullptr},
    {DType::Q2_K, "Q2_K", 10, "", kQK_K, 2 + 2 + kQK_K / 16 + kQK_K / 4, nullptr},
    {DType::Q3_K, "Q3_K", 11, "", kQK_K, 2 + kQK_K / 4 + kQK_K / 8 + 12, nullptr},
    {DType::Q4_K, "Q4_K", 12, "", kQK_K, 2 + 2 + kQK_K / 2 + 12, nullptr},
    {DType::Q5_K, "Q5_K", 13, "", kQK_K, 2 + 2 + kQK_K / 2 + kQK_K / 8 + 12, nullptr},
    {DType::Q6_K, "Q6_K", 14, "", kQK_K, 2 + kQK_K / 2 + kQK_K / 4 + kQK_K / 16, nullptr},
    {DType::Q8_K, "Q8_K", 15, "", kQK_K, 4 + kQK_K + kQK_K / 8, nullptr},
    {DType::IQ2_XXS, "IQ2_XXS", 16, "", kQK_K, 2 + kQK_K / 4, nullptr},
    {DType::IQ2_XS, "IQ2_XS", 17, "", kQK_K, 2 + kQK_K / 4 + kQK_K / 32, nullptr},
    {DType::IQ3_XXS, "IQ3_XXS", 18, "", kQK_K, 2 + kQK_K / 4 + kQK_K / 8, nullptr},
    {DType::IQ1_S, "IQ1_S", 19, "", kQK_K, 2 + kQK_K / 8 + kQK_K / 16, nullptr},
    {DType::IQ4_NL, "IQ4_NL", 20, "", 32, 2 + 16, nullptr},
    {DType::IQ3_S, "IQ3_S", 21, "", kQK_K, 2 + kQK_K / 4 + kQK_K / 8 + kQK_K / 32 + 4, nullptr},
    {DType::IQ2_S, "IQ2_S", 22, "", kQK_K, 2 + kQK_K / 4 + kQK_K / 16, nullptr},
    {DType::IQ4_XS, "IQ4_XS", 23, "", kQK_K, 2 + 2 + kQK_K / 2 + kQK_K / 64, nullptr},
    {DType::IQ1_M, "IQ1_M", 29, "", kQK_K, kQK_K / 8 + kQK_K / 16 + kQK_K / 32, nullptr},
    {DType::TQ1_0, "TQ1_0", 34, "", kQK_K, 2 + 4 * 13, nullptr},
    {DType::TQ2_0, "TQ2_0", 35, "", kQK_K, 2 + 64, nullptr},
    {DType::MXFP4, "MXFP4", 39, "", 32, 1 + 16, nullptr},
    {DType::NVFP4, "NVFP4", 40, "", 64, 4 + 32, nullptr},
    {DType::Q1_0, "Q1_0", 41, "", 128, 2 + 16, nullptr},
}};

constexpr bool in_enum_order() {
  for (size_t i = 0; i < kTypes.size(); ++i)
    if (size_t(kTypes[i].type) != i) return false;
  return true;
}
static_assert(in_enum_order(), "kTypes must list the types in enum order");

char upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

}  // namespace

const DTypeInfo& dtype_info(DType t) noexcept { return kTypes[size_t(t)]; }

std::optional<DType> dtype_from_gguf_id(uint32_t id) noexcept {
  for (const DTypeInfo& t : kTypes)
    if (t.gguf_id >= 0 && uint32_t(t.gguf_id) == id) return t.type;
  return std::nullopt;
}

std::optional<DType> dtype_from_safetensors(std::string_view s) noexcept {
  for (const DTypeInfo& t : kTypes)
    if (!t.safetensors.empty() && t.safetensors == s) return t.type;
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  for (const DTypeInfo& t : kTypes) {
    if (t.name.size() != name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k) same = upper(name[k]) == t.name[k];
    if (same) return t.type;
  }
  return std::nullopt;
}

namespace {
struct Fp8Table {
  std::array<float, 256> v{};
  Fp8Table() {
    for (int i = 0; i < 256; ++i) {
      const int sign = i >> 7, exp = (i >> 3) & 0xF, man = i & 7;
      float mag;
      if (exp == 0xF && man == 7)
        mag = std::numeric_limits<float>::quiet_NaN();
      else if (exp == 0)
        mag = std::ldexp(float(man), -9);  // subnormal: man/8 * 2^-6
      else
        mag = std::ldexp(1.0f + float(man) / 8.0f, exp - 7);
      v[size_t(i)] = sign ? -mag : mag;
    }
  }
};
const Fp8Table kFp8;  // immutable after static initialisation
}  // namespace

float fp8_e4m3_to_f32(uint8_t v) { return kFp8.v[v]; }

}  // namespace dsinfer
