// The fast path's latent-only KV cache: per layer and position, MLA's normalized latent
// (kv_lora_rank values) and the rotated shared rope key (qk_rope_head_dim values), stored as
// f32, bf16 or q8_0 (latent in Q8_0 blocks, rope key kept f32: it is small and
// position-sensitive). Allocated once for the session's context.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/decoder.h"

namespace dsinfer {

class TypedLatentCache {
 public:
  TypedLatentCache() = default;
  // latent: kv_lora_rank (a multiple of 32 for q8_0), rope: qk_rope_head_dim.
  TypedLatentCache(int64_t layers, int64_t capacity, int64_t latent, int64_t rope, KvType type);

  // Stores one position from float values [latent + rope].
  void store(int64_t layer, int64_t pos, const float* row) noexcept;
  // The position as float [latent + rope]. For f32 the stored row itself (tmp unused),
  // otherwise converted into tmp.
  const float* load(int64_t layer, int64_t pos, float* tmp) const noexcept;

  // The stored bytes of a position: for q8_0 the latent's Q8_0 blocks, then the float rope key
  // (what simd::Kernels::latent_scores_q8 reads).
  const uint8_t* row(int64_t layer, int64_t pos) const noexcept { return at(layer, pos); }

  KvType type() const noexcept { return type_; }
  int64_t capacity() const noexcept { return capacity_; }
  int64_t row_dim() const noexcept { return latent_ + rope_; }
  size_t bytes() const noexcept { return data_.size(); }
  // Bytes of one position in one layer.
  size_t row_bytes() const noexcept { return row_bytes_; }

 private:
  const uint8_t* at(int64_t layer, int64_t pos) const noexcept {
    return data_.data() + (size_t(layer) * size_t(capacity_) + size_t(pos)) * row_bytes_;
  }
  int64_t capacity_ = 0, latent_ = 0, rope_ = 0;
  KvType type_ = KvType::F32;
  size_t row_bytes_ = 0;
  std::vector<uint8_t> data_;
};

}  // namespace dsinfer
