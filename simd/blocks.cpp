#include "simd/blocks.h"

#include <cmath>

#include "simd/half.h"

namespace dsinfer {

namespace {

constexpr int QK = kBlockWeights;

// ---- round to nearest, as ggml's reference quantizers compute it ----
// The float operations below are ggml's, in ggml's order: x * (1/d), then the rounding. Keep
// them so, and this file compiled with -ffp-contract=off (simd/CMakeLists.txt), or bytes differ.

int8_t round_q8(float v) {
  const float r = std::round(v);  // halves away from zero, like C's roundf
  // |r| <= 127 for finite input; saturating (and NaN to 0) keeps the cast defined regardless.
  if (r >= 127.0f) return 127;
  if (r <= -127.0f) return -127;
  if (r != r) return 0;
  return int8_t(r);
}

// ggml truncates v + 8.5 toward zero and caps at 15; v >= -8 for finite input.
uint8_t trunc_q4(float v) {
  const float t = v + 8.5f;
  if (!(t > 0.0f)) return 0;
  if (t >= 15.0f) return 15;
  return uint8_t(t);
}

void q8_0_nearest(const float* x, BlockQ8_0& b) {
  float amax = 0.0f;
  for (int j = 0; j < QK; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;
  }
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = f32_to_fp16(d);
  for (int j = 0; j < QK; ++j) b.qs[j] = round_q8(x[j] * id);
}

void q4_0_nearest(const float* x, BlockQ4_0& b) {
  float amax = 0.0f, vmax = 0.0f;  // the first element of largest magnitude, with its sign
  for (int j = 0; j < QK; ++j) {
    const float a = std::fabs(x[j]);
    if (amax < a) {
      amax = a;
      vmax = x[j];
    }
  }
  const float d = vmax / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = f32_to_fp16(d);
  for (int j = 0; j < QK / 2; ++j)
    b.qs[j] = uint8_t(trunc_q4(x[j] * id) | (trunc_q4(x[j + QK / 2] * id) << 4));
}

}  // namespace

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n / QK; ++i) q8_0_nearest(x + i * QK, y[i]);
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = fp16_to_f32(x[i].d);
    for (int j = 0; j < QK; ++j) y[i * QK + j] = float(x[i].qs[j]) * d;
  }
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n / QK; ++i) q4_0_nearest(x + i * QK, y[i]);
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = fp16_to_f32(x[i].d);
    for (int j = 0; j < QK / 2; ++j) {
      y[i * QK + j] = float((x[i].qs[j] & 0x0F) - 8) * d;
      y[i * QK + j + QK / 2] = float((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

}  // namespace dsinfer
