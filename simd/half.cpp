#include "simd/half.h"

#include <cmath>
#include <limits>

namespace dsinfer {

float fp16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t man = h & 0x3FF;
  float mag;
  if (exp == 0) {
    mag = std::ldexp(float(man), -24);
  } else if (exp == 31) {
    mag = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    uint32_t u = ((exp + 112) << 23) | (man << 13);
    std::memcpy(&mag, &u, 4);
  }
  uint32_t bits;
  std::memcpy(&bits, &mag, 4);
  bits |= sign;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_fp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7FFFFFFF;
  if (ax > 0x7F800000) return uint16_t(sign | 0x7E00);  // NaN
  if (ax >= 0x477FF000) return uint16_t(sign | 0x7C00);  // rounds to >= 65520: inf
  if (ax < 0x38800000) {                                 // below the smallest normal half
    // Subnormal half: value / 2^-24, rounded to nearest even.
    float a;
    std::memcpy(&a, &ax, 4);
    float scaled = a * 16777216.0f;  // exact: power of two
    uint32_t q = uint32_t(std::nearbyint(scaled));
    return uint16_t(sign | q);
  }
  uint32_t e = (ax >> 23) - 112;
  uint32_t m = ax & 0x7FFFFF;
  uint32_t half = (e << 10) | (m >> 13);
  const uint32_t rest = m & 0x1FFF;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return uint16_t(sign | half);
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7FFFFFFF) > 0x7F800000) return uint16_t((x >> 16) | 0x40);
  x += 0x7FFF + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

}  // namespace dsinfer
