#include "quant/block_quantize.h"

#include <cmath>
#include <cstring>
#include <iterator>

#include "simd/half.h"

namespace dsinfer {

namespace {

constexpr int QK = kBlockWeights;

// ---- scale search ----
// Written over float arrays with fixed 8-lane partial sums so that the compiler vectorises it;
// the lane order is fixed, so results do not depend on the machine.

constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: (v + kMagic) - kMagic rounds v to an integer
constexpr float kMaxLevelInput = 2097152.0f;  // 2^21: inputs below it round exactly that way

// l[j] = x[j] * s rounded to the nearest integer (ties to even), clamped to [lo, hi]. The caller
// guarantees |x[j] * s| < kMaxLevelInput. Clamping in integers keeps the loop branch-free.
void levels_at(const float* x, float s, int lo, int hi, float* l) {
  for (int j = 0; j < QK; ++j) {
    int q = int((x[j] * s + kMagic) - kMagic);
    q = q < lo ? lo : q;
    q = q > hi ? hi : q;
    l[j] = float(q);
  }
}

float sum_lanes(const float* acc) {
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

float dot(const float* a, const float* b) {
  float acc[8] = {};
  for (int j = 0; j < QK; j += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[j + k] * b[j + k];
  return sum_lanes(acc);
}

// Squared error of levels l at scale d, dequantized as dequantize_row_* does.
float sse_at(const float* x, const float* l, float d) {
  float acc[8] = {};
  for (int j = 0; j < QK; j += 8)
    for (int k = 0; k < 8; ++k) {
      const float e = x[j + k] - l[j + k] * d;
      acc[k] += e * e;
    }
  return sum_lanes(acc);
}

// The same error summed exactly in order in double: the arbiter against round-to-nearest.
double sse_exact(const float* x, const int8_t* l, float d) {
  double sse = 0.0;
  for (int j = 0; j < QK; ++j) {
    const double e = double(x[j]) - double(float(l[j]) * d);
    sse += e * e;
  }
  return sse;
}

// Searches the block's fp16 scale and levels in [lo, hi]. Each start s maps the largest weight
// to level s (or -s when the range is asymmetric); the scale is then refit by least squares,
// rounded to fp16, and the levels re-chosen for that exact scale, twice. The error of 32
// weights against a lattice is far from smooth in the scale, hence several starts.
// On entry `l`/`d` hold the round-to-nearest block; they are replaced only by a candidate whose
// exact error is lower by a relative margin, so the result is never worse than round-to-nearest
// however the error is summed.
void search_scale(const float* x, int lo, int hi, const float* starts, int nstarts, int8_t* l, uint16_t& d) {
  float amax = 0.0f;
  for (int j = 0; j < QK; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;
  }
  // Below 1e-30 the start scales overflow; such a block's fp16 scale is 0 anyway.
  if (!(amax > 1e-30f) || !std::isfinite(amax)) return;
  const int nsigns = (lo == -hi) ? 1 : 2;  // a symmetric range mirrors: one sign suffices
  float cand[QK], best[QK];
  float best_sse = INFINITY;
  uint16_t best_d = 0;
  for (int si = 0; si < nstarts; ++si) {
    for (int sign = 0; sign < nsigns; ++sign) {
      levels_at(x, (sign ? -starts[si] : starts[si]) / amax, lo, hi, cand);
      for (int iter = 0; iter < 2; ++iter) {
        const float sll = dot(cand, cand);
        if (!(sll > 0.0f)) break;
        const uint16_t bits = f32_to_fp16(dot(x, cand) / sll);
        const float dh = fp16_to_f32(bits);
        if (!(std::fabs(dh) * kMaxLevelInput > amax) || !std::isfinite(dh)) break;  // also dh == 0
        levels_at(x, 1.0f / dh, lo, hi, cand);
        const float sse = sse_at(x, cand, dh);
        if (sse < best_sse) {
          best_sse = sse;
          best_d = bits;
          std::memcpy(best, cand, sizeof best);
        }
      }
    }
  }
  if (!(best_sse < INFINITY)) return;
  int8_t lb[QK];
  for (int j = 0; j < QK; ++j) lb[j] = int8_t(best[j]);
  const double rtn = sse_exact(x, l, fp16_to_f32(d));
  if (sse_exact(x, lb, fp16_to_f32(best_d)) < rtn * (1.0 - 1e-6)) {
    std::memcpy(l, lb, QK);
    d = best_d;
  }
}

// Starts of the search: the level the largest weight maps to. Chosen on Gaussian, Student-t(3)
// and uniform blocks: these cut the squared error by 6-18% (Q4_0) and 9-18% (Q8_0) against
// round-to-nearest; twice as many starts gained under a further 0.5%.
constexpr float kStartsQ8[] = {127.0f, 126.0f, 124.0f};
constexpr float kStartsQ4[] = {8.0f, 7.5f, 7.0f, 6.5f, 8.5f, 9.0f, 10.0f};

}  // namespace

void quantize_row_q8_0_mse(const float* x, BlockQ8_0* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n / QK; ++i) {
    const float* xb = x + i * QK;
    quantize_row_q8_0(xb, &y[i], QK);
    search_scale(xb, -127, 127, kStartsQ8, int(std::size(kStartsQ8)), y[i].qs, y[i].d);
  }
}

void quantize_row_q4_0_mse(const float* x, BlockQ4_0* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n / QK; ++i) {
    const float* xb = x + i * QK;
    BlockQ4_0 b;
    quantize_row_q4_0(xb, &b, QK);
    int8_t l[QK];
    for (int j = 0; j < QK / 2; ++j) {
      l[j] = int8_t((b.qs[j] & 0x0F) - 8);
      l[j + QK / 2] = int8_t((b.qs[j] >> 4) - 8);
    }
    search_scale(xb, -8, 7, kStartsQ4, int(std::size(kStartsQ4)), l, b.d);
    y[i].d = b.d;
    for (int j = 0; j < QK / 2; ++j) y[i].qs[j] = uint8_t((l[j] + 8) | ((l[j + QK / 2] + 8) << 4));
  }
}

}  // namespace dsinfer
