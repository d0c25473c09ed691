#include "simd/repack.h"

#include <cstring>

namespace dsinfer {

void repack_q4_0_rows(const BlockQ4_0* rows, int64_t nb, uint8_t* dst) noexcept {
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* g = dst + size_t(b) * kQ4GroupBlockBytes;
    for (int64_t i = 0; i < kRowGroup; ++i) {
      const BlockQ4_0& blk = rows[i * nb + b];
      std::memcpy(g + 2 * i, &blk.d, 2);
      for (int p = 0; p < 4; ++p) std::memcpy(g + 32 + 64 * p + 4 * i, blk.qs + 4 * p, 4);
    }
  }
}

void repack_q8_0_rows(const BlockQ8_0* rows, int64_t nb, uint8_t* dst) noexcept {
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* g = dst + size_t(b) * kQ8GroupBlockBytes;
    for (int64_t i = 0; i < kRowGroup; ++i) {
      const BlockQ8_0& blk = rows[i * nb + b];
      std::memcpy(g + 2 * i, &blk.d, 2);
      for (int k = 0; k < 8; ++k) std::memcpy(g + 32 + 64 * k + 4 * i, blk.qs + 4 * k, 4);
    }
  }
}

void unpack_q4_0_row(const uint8_t* group, int64_t nb, int64_t i, BlockQ4_0* out) noexcept {
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* g = group + size_t(b) * kQ4GroupBlockBytes;
    std::memcpy(&out[b].d, g + 2 * i, 2);
    for (int p = 0; p < 4; ++p) std::memcpy(out[b].qs + 4 * p, g + 32 + 64 * p + 4 * i, 4);
  }
}

void unpack_q8_0_row(const uint8_t* group, int64_t nb, int64_t i, BlockQ8_0* out) noexcept {
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* g = group + size_t(b) * kQ8GroupBlockBytes;
    std::memcpy(&out[b].d, g + 2 * i, 2);
    for (int k = 0; k < 8; ++k) std::memcpy(out[b].qs + 4 * k, g + 32 + 64 * k + 4 * i, 4);
  }
}

}  // namespace dsinfer
