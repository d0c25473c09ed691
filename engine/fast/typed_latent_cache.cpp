#include "engine/fast/typed_latent_cache.h"

#include <cstring>

#include "simd/blocks.h"
#include "quant/dtype.h"
#include "simd/error.h"
#include "simd/kernels.h"

namespace dsinfer {

TypedLatentCache::TypedLatentCache(int64_t layers, int64_t capacity, int64_t latent, int64_t rope, KvType type)
    : capacity_(capacity), latent_(latent), rope_(rope), type_(type) {
  if (type == KvType::Q8_0 && latent % kBlockWeights != 0)
    fail("--kv-type", "q8_0 needs kv_lora_rank to be a multiple of 32 (it is " + std::to_string(latent) + ")");
  switch (type) {
    case KvType::F32: row_bytes_ = size_t(latent + rope) * 4; break;
    case KvType::BF16: row_bytes_ = size_t(latent + rope) * 2; break;
    case KvType::Q8_0: row_bytes_ = size_t(latent / kBlockWeights) * sizeof(BlockQ8_0) + size_t(rope) * 4; break;
  }
  row_bytes_ = (row_bytes_ + 3) & ~size_t(3);  // keeps the f32 rope key of q8_0 rows aligned
  data_.assign(size_t(layers) * size_t(capacity) * row_bytes_, 0);
}

void TypedLatentCache::store(int64_t layer, int64_t pos, const float* row) noexcept {
  uint8_t* p = const_cast<uint8_t*>(at(layer, pos));
  const int64_t n = latent_ + rope_;
  switch (type_) {
    case KvType::F32:
      std::memcpy(p, row, size_t(n) * 4);
      break;
    case KvType::BF16: {
      auto* o = reinterpret_cast<uint16_t*>(p);
      for (int64_t i = 0; i < n; ++i) o[i] = f32_to_bf16(row[i]);
      break;
    }
    case KvType::Q8_0: {
      auto* b = reinterpret_cast<BlockQ8_0*>(p);
      simd::kernels().quantize_row_q8_0_act(row, b, latent_);
      std::memcpy(p + size_t(latent_ / kBlockWeights) * sizeof(BlockQ8_0), row + latent_, size_t(rope_) * 4);
      break;
    }
  }
}

const float* TypedLatentCache::load(int64_t layer, int64_t pos, float* tmp) const noexcept {
  const uint8_t* p = at(layer, pos);
  switch (type_) {
    case KvType::F32:
      return reinterpret_cast<const float*>(p);
    case KvType::BF16:
      simd::kernels().bf16_to_f32(reinterpret_cast<const uint16_t*>(p), tmp, latent_ + rope_);
      return tmp;
    case KvType::Q8_0:
      simd::kernels().q8_0_to_f32(reinterpret_cast<const BlockQ8_0*>(p), tmp, latent_);
      std::memcpy(tmp + latent_, p + size_t(latent_ / kBlockWeights) * sizeof(BlockQ8_0), size_t(rope_) * 4);
      return tmp;
  }
  return tmp;
}

}  // namespace dsinfer
