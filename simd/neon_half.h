// fp16 scales to float with the NEON conversion (exact, as fp16_to_f32), for the NEON kernel
// files (simd/*_neon*.cpp, all compiled with the same flags).
#pragma once
#include <arm_neon.h>

#include <cstdint>

namespace dsinfer::simd::detail {

inline float half_to_f32(uint16_t h) {
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

// Four consecutive fp16 values at p.
inline float32x4_t half4_to_f32(const uint8_t* p) { return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p))); }

}  // namespace dsinfer::simd::detail
