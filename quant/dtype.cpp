#include "quant/dtype.h"

#include <array>
#include <cmath>
#include <limits>

namespace dsinfer {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::F8_E4M3: case DType::I8: case DType::U8: case DType::BOOL: return 1;
    case DType::Q8_0: case DType::Q4_0: return 0;
  }
  return 0;
}

bool dtype_is_block(DType t) { return t == DType::Q8_0 || t == DType::Q4_0; }

size_t dtype_row_bytes(DType t, int64_t n) {
  if (t == DType::Q8_0) return size_t(n / 32) * 34;
  if (t == DType::Q4_0) return size_t(n / 32) * 18;
  return size_t(n) * dtype_size(t);
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F8_E4M3: return "F8_E4M3";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::BOOL: return "BOOL";
    case DType::Q8_0: return "Q8_0";
    case DType::Q4_0: return "Q4_0";
  }
  return "?";
}

std::optional<DType> dtype_from_safetensors(std::string_view s) {
  static constexpr std::array<DType, 11> all = {DType::F32, DType::F16, DType::BF16, DType::F8_E4M3,
                                                DType::F64, DType::I64, DType::I32, DType::I16,
                                                DType::I8,  DType::U8,  DType::BOOL};
  for (DType t : all)
    if (dtype_name(t) == s) return t;
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
