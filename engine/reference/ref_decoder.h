// The float32 reference engine: DeepSeek's forward pass computed plainly in float32 over an
// f32 latent cache (naive or absorbed attention). Slow; it is what the fast engine, the
// quantized formats and the golden files are checked against.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/decoder.h"
#include "engine/reference/f32_latent_cache.h"
#include "engine/model/rope.h"

namespace dsinfer {

class RefDecoder final : public Decoder {
 public:
  RefDecoder(const Model& m, SessionOptions o = {});

  void forward(std::span<const int32_t> tokens, std::vector<float>& logits, ForwardTrace* trace = nullptr,
               bool last_only = false) override;
  void mtp_forward(std::span<const int32_t> next_tokens, const float* hidden, std::vector<float>& logits,
                   RouterRecord* rec = nullptr, bool last_only = false) override;
  const float* last_mtp_hidden() const override { return mtp_hidden_.data(); }

  const std::vector<float>& last_hidden() const override { return hidden_; }
  int64_t n_past() const override { return n_past_; }
  int64_t mtp_past() const override { return mtp_past_; }
  int64_t context() const override { return cache_.capacity(); }
  void truncate(int64_t n, int64_t mtp_n) override;
  const Model& model() const override { return model_; }
  size_t cache_bytes() const override { return cache_.bytes() + mtp_cache_.bytes(); }

 private:
  void check_tokens(std::span<const int32_t> tokens, int64_t past, const char* what) const;
  const Model& model_;
  SessionOptions opt_;
  Rope rope_;
  F32LatentCache cache_, mtp_cache_;
  int64_t n_past_ = 0, mtp_past_ = 0;
  std::vector<float> hidden_, mtp_hidden_;
};

}  // namespace dsinfer
