// IEEE binary16 and bfloat16 scalars to and from float32 (block scales, bf16 weights and
// cache rows).
#pragma once
#include <cstdint>
#include <cstring>

namespace dsinfer {

float fp16_to_f32(uint16_t h);
uint16_t f32_to_fp16(float f);  // round to nearest even, saturating to inf like IEEE

inline float bf16_to_f32(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t f32_to_bf16(float f);  // round to nearest even, NaN kept quiet

}  // namespace dsinfer
