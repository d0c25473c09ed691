// Packing a query for the integer attention scores, and the scalar reference of the scores.
#include "simd/latent_scores.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "simd/blocks.h"
#include "simd/half.h"
#include "simd/kernels.h"
#include "simd/kernels_isa.h"

namespace dsinfer::simd {

void LatentQueryBuffer::reserve(int64_t heads, int64_t latent, int64_t rope) {
  q_.heads = heads;
  q_.groups = (heads + kScoreHeads - 1) / kScoreHeads;
  q_.blocks = latent / kBlockWeights;
  q_.rope = rope;
  const size_t per_group = size_t(q_.blocks) * kScoreHeads;
  levels_.assign(size_t(q_.groups) * per_group * kBlockWeights, 0);
  floats_.assign(size_t(q_.groups) * (per_group + size_t(rope) * kScoreHeads), 0.0f);
  corr_.assign(size_t(q_.groups) * per_group, 0);
  q_.q = levels_.data();
  q_.d = floats_.data();
  q_.rope_q = floats_.data() + size_t(q_.groups) * per_group;
  q_.corr = corr_.data();
}

void pack_latent_query_q8(const float* lat, int64_t lat_stride, const float* rope, int64_t rope_stride, float scale,
                          LatentQueryQ8& q) noexcept {
  kernels().latent_pack_q8(lat, lat_stride, rope, rope_stride, scale, q);
}

namespace detail {

void store_packed_block(LatentQueryQ8& q, int64_t h, int64_t b, const int8_t* levels, float d, int32_t sum) noexcept {
  const int64_t g = h / kScoreHeads, lane = h % kScoreHeads, gb = g * q.blocks + b;
  int8_t* dst = q.q + gb * kScoreHeads * kBlockWeights;
  for (int k = 0; k < 8; ++k) std::memcpy(dst + (k * kScoreHeads + lane) * 4, levels + 4 * k, 4);
  q.d[gb * kScoreHeads + lane] = d;
  q.corr[gb * kScoreHeads + lane] = -128 * sum;
}

void store_packed_rope(LatentQueryQ8& q, int64_t h, const float* rope, int64_t rope_stride) noexcept {
  const int64_t g = h / kScoreHeads, lane = h % kScoreHeads;
  for (int64_t j = 0; j < q.rope; ++j)
    q.rope_q[(g * q.rope + j) * kScoreHeads + lane] = h < q.heads ? rope[h * rope_stride + j] : 0.0f;
}

void latent_pack_q8_scalar(const float* lat, int64_t lat_stride, const float* rope, int64_t rope_stride, float scale,
                           LatentQueryQ8& q) noexcept {
  q.scale = scale;
  const int64_t padded = q.groups * kScoreHeads;
  for (int64_t h = 0; h < padded; ++h) {
    const int64_t g = h / kScoreHeads, lane = h % kScoreHeads;
    for (int64_t b = 0; b < q.blocks; ++b) {
      const int64_t gb = g * q.blocks + b;
      int8_t* levels = q.q + gb * kScoreHeads * kBlockWeights;
      if (h >= q.heads) {
        // Padding heads: zero levels and scale, so their (unused) scores are finite.
        for (int k = 0; k < 8; ++k) std::memset(levels + (k * kScoreHeads + lane) * 4, 0, 4);
        q.d[gb * kScoreHeads + lane] = 0.0f;
        q.corr[gb * kScoreHeads + lane] = 0;
        continue;
      }
      const float* x = lat + h * lat_stride + b * kBlockWeights;
      float amax = 0.0f;
      for (int j = 0; j < kBlockWeights; ++j) amax = std::max(amax, std::fabs(x[j]));
      const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
      int32_t sum = 0;
      for (int j = 0; j < kBlockWeights; ++j) {
        const int8_t l = int8_t(std::clamp(std::nearbyint(x[j] * id), -127.0f, 127.0f));
        levels[((j / 4) * kScoreHeads + lane) * 4 + j % 4] = l;
        sum += l;
      }
      q.d[gb * kScoreHeads + lane] = d;
      q.corr[gb * kScoreHeads + lane] = -128 * sum;
    }
    store_packed_rope(q, h, rope, rope_stride);
  }
}

void latent_scores_q8_scalar(const LatentQueryQ8& q, const uint8_t* const* rows, int64_t ns, float* out,
                             int64_t ldo) noexcept {
  for (int64_t h = 0; h < q.heads; ++h) {
    const int64_t g = h / kScoreHeads, lane = h % kScoreHeads;
    for (int64_t s = 0; s < ns; ++s) {
      float acc = 0.0f;
      for (int64_t b = 0; b < q.blocks; ++b) {
        const int64_t gb = g * q.blocks + b;
        const int8_t* levels = q.q + gb * kScoreHeads * kBlockWeights;
        BlockQ8_0 c;
        std::memcpy(&c, rows[s] + b * int64_t(sizeof(BlockQ8_0)), sizeof c);
        int32_t dot = 0;
        for (int j = 0; j < kBlockWeights; ++j)
          dot += int32_t(levels[((j / 4) * kScoreHeads + lane) * 4 + j % 4]) * int32_t(c.qs[j]);
        acc = std::fma(float(dot), q.d[gb * kScoreHeads + lane] * fp16_to_f32(c.d), acc);
      }
      const uint8_t* key = rows[s] + q.blocks * int64_t(sizeof(BlockQ8_0));
      for (int64_t j = 0; j < q.rope; ++j) {
        float k;
        std::memcpy(&k, key + 4 * j, 4);
        acc = std::fma(q.rope_q[(g * q.rope + j) * kScoreHeads + lane], k, acc);
      }
      out[h * ldo + s] = q.scale * acc;
    }
  }
}

void latent_wsum_q8_scalar(const float* p, int64_t ldp, int64_t nh, const uint8_t* const* rows, int64_t ns,
                           int64_t n, float* o) noexcept {
  for (int64_t h = 0; h < nh; ++h)
    for (int64_t i = 0; i < n; ++i) {
      const int64_t off = (i / kBlockWeights) * int64_t(sizeof(BlockQ8_0));
      float acc = 0.0f;
      for (int64_t s = 0; s < ns; ++s) {
        uint16_t d;
        std::memcpy(&d, rows[s] + off, 2);
        const float v = float(int8_t(rows[s][off + 2 + i % kBlockWeights])) * fp16_to_f32(d);
        acc = std::fma(p[h * ldp + s], v, acc);
      }
      o[h * n + i] = acc;
    }
}

}  // namespace detail
}  // namespace dsinfer::simd
