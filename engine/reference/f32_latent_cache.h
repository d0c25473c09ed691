// The latent-only KV cache of MLA: per layer and position, the normalized latent c
// (kv_lora_rank values) followed by the rotated shared rope key (qk_rope_head_dim values).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsinfer {

class F32LatentCache {
 public:
  F32LatentCache() = default;
  F32LatentCache(int64_t layers, int64_t capacity, int64_t latent_dim)
      : layers_(layers), capacity_(capacity), dim_(latent_dim), data_(size_t(layers * capacity * latent_dim), 0.0f) {}

  float* row(int64_t layer, int64_t pos) { return data_.data() + (layer * capacity_ + pos) * dim_; }
  const float* row(int64_t layer, int64_t pos) const { return data_.data() + (layer * capacity_ + pos) * dim_; }
  int64_t capacity() const { return capacity_; }
  int64_t dim() const { return dim_; }
  int64_t layers() const { return layers_; }
  size_t bytes() const { return data_.size() * sizeof(float); }

 private:
  int64_t layers_ = 0, capacity_ = 0, dim_ = 0;
  std::vector<float> data_;
};

}  // namespace dsinfer
