// Rotary position embedding with DeepSeek's YaRN extension, and the attention softmax scale.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model/model_config.h"

namespace dsinfer {

class Rope {
 public:
  explicit Rope(const ModelConfig& c);
  // Most pairs a rope vector may have (d_rope <= 2 * kMaxPairs).
  static constexpr int64_t kMaxPairs = 128;
  // Rotates consecutive pairs (x[2i], x[2i+1]) of a d_rope vector for position pos.
  void apply(float* x, int64_t pos) const noexcept;
  // The rotation of position pos as cos_sin [2 * pairs()] (cosines, then sines): computed once
  // for the many vectors of one position (every head's query and the key), then rotate().
  void angles(int64_t pos, float* cos_sin) const noexcept;
  // apply(x, pos) with angles(pos, cos_sin) computed beforehand: the same bits.
  void rotate(float* x, const float* cos_sin) const noexcept;
  int64_t pairs() const { return int64_t(inv_freq_.size()); }
  float softmax_scale() const { return softmax_scale_; }
  const std::vector<double>& inv_freq() const { return inv_freq_; }

 private:
  std::vector<double> inv_freq_;
  double cos_sin_scale_ = 1.0;  // m(mscale) / m(mscale_all_dim)
  float softmax_scale_ = 1.0f;
};

// YaRN's attention temperature m(s) = 0.1 * s * ln(factor) + 1 (1 when factor <= 1).
double yarn_mscale(double factor, double s);

}  // namespace dsinfer
