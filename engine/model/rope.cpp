#include "engine/model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "simd/error.h"

namespace dsinfer {

double yarn_mscale(double factor, double s) { return factor <= 1.0 ? 1.0 : 0.1 * s * std::log(factor) + 1.0; }

Rope::Rope(const ModelConfig& c) {
  const int64_t d = c.qk_rope_head_dim;
  const double theta = c.rope_theta;
  if (d / 2 > kMaxPairs) fail("config", "qk_rope_head_dim " + std::to_string(d) + " is above " + std::to_string(2 * kMaxPairs));
  inv_freq_.resize(size_t(d / 2));
  for (int64_t i = 0; i < d / 2; ++i) inv_freq_[size_t(i)] = std::pow(theta, -double(2 * i) / double(d));
  double scale = 1.0 / std::sqrt(double(c.qk_head_dim()));
  const RopeScaling& y = c.rope_scaling;
  if (y.yarn) {
    auto corr_dim = [&](double rotations) {
      return double(d) * std::log(double(y.original_max_position) / (rotations * 2.0 * std::numbers::pi)) /
             (2.0 * std::log(theta));
    };
    const double low = std::max(std::floor(corr_dim(y.beta_fast)), 0.0);
    double high = std::min(std::ceil(corr_dim(y.beta_slow)), double(d - 1));
    if (high == low) high += 0.001;
    for (int64_t i = 0; i < d / 2; ++i) {
      const double ramp = std::clamp((double(i) - low) / (high - low), 0.0, 1.0);
      const double f = inv_freq_[size_t(i)];
      // ramp 0: high-frequency dims keep f; ramp 1: low-frequency dims are interpolated (f / factor).
      inv_freq_[size_t(i)] = f / y.factor * ramp + f * (1.0 - ramp);
    }
    cos_sin_scale_ = yarn_mscale(y.factor, y.mscale) / yarn_mscale(y.factor, y.mscale_all_dim);
    if (y.mscale_all_dim != 0.0) {
      const double m = yarn_mscale(y.factor, y.mscale_all_dim);
      scale *= m * m;
    }
  }
  softmax_scale_ = float(scale);
}

void Rope::apply(float* x, int64_t pos) const noexcept {
  float cos_sin[2 * kMaxPairs];
  angles(pos, cos_sin);
  rotate(x, cos_sin);
}

void Rope::angles(int64_t pos, float* cos_sin) const noexcept {
  const size_t n = inv_freq_.size();
  for (size_t i = 0; i < n; ++i) {
    const double a = double(pos) * inv_freq_[i];
    cos_sin[i] = float(std::cos(a) * cos_sin_scale_);
    cos_sin[n + i] = float(std::sin(a) * cos_sin_scale_);
  }
}

void Rope::rotate(float* x, const float* cos_sin) const noexcept {
  const size_t n = inv_freq_.size();
  for (size_t i = 0; i < n; ++i) {
    const float cs = cos_sin[i], sn = cos_sin[n + i];
    const float x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = x0 * cs - x1 * sn;
    x[2 * i + 1] = x0 * sn + x1 * cs;
  }
}

}  // namespace dsinfer
