// Rotary position embedding with DeepSeek's YaRN extension, and the attention softmax scale.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model/model_config.h"

namespace dsinfer {

class Rope {
 public:
  explicit Rope(const ModelConfig& c);
  // Rotates consecutive pairs (x[2i], x[2i+1]) of a d_rope vector for position pos.
  void apply(float* x, int64_t pos) const noexcept;
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
