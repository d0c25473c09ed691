#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/model/model_config.h"
#include "engine/model/rope.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

// The rotation by its definition, in double: pair i turned by pos * inv_freq[i], both parts
// scaled by YaRN's cos/sin factor (1 without YaRN, recovered from pos 0).
std::vector<double> rotated(const Rope& r, std::vector<float> x, int64_t pos) {
  std::vector<float> unit(x.size(), 0.0f);
  unit[0] = 1.0f;
  r.apply(unit.data(), 0);
  const double m = unit[0];
  std::vector<double> y(x.size());
  for (size_t i = 0; i < r.inv_freq().size(); ++i) {
    const double a = double(pos) * r.inv_freq()[i], c = std::cos(a) * m, s = std::sin(a) * m;
    y[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
    y[2 * i + 1] = x[2 * i] * s + x[2 * i + 1] * c;
  }
  return y;
}

TEST(Rope, AnglesOnceThenRotateIsApplyBitForBit) {
  for (const char* fixture : {"tiny-v3-fp8", "tiny-v2lite-bf16"}) {
    const ModelConfig c = load_hf_config(test::fixture(std::string(fixture) + "/config.json"));
    const Rope r(c);
    const int64_t d = c.qk_rope_head_dim;
    ASSERT_EQ(r.pairs() * 2, d);
    std::vector<float> cs(size_t(2 * r.pairs()));
    for (int64_t pos : {int64_t(0), int64_t(1), int64_t(7), int64_t(4095), int64_t(163839)}) {
      r.angles(pos, cs.data());
      for (int v = 0; v < 3; ++v) {  // several vectors share one position's angles
        std::vector<float> x(static_cast<size_t>(d));
        for (int64_t i = 0; i < d; ++i) x[size_t(i)] = std::sin(0.37f * float(i + 11 * v) + 0.1f * float(pos % 13));
        std::vector<float> a = x, b = x;
        r.apply(a.data(), pos);
        r.rotate(b.data(), cs.data());
        const std::vector<double> want = rotated(r, x, pos);
        for (int64_t i = 0; i < d; ++i) {
          EXPECT_EQ(a[size_t(i)], b[size_t(i)]) << fixture << " pos " << pos << " i " << i;
          EXPECT_NEAR(a[size_t(i)], want[size_t(i)], 1e-5) << fixture << " pos " << pos << " i " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace dsinfer
