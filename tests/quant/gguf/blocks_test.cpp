// Q8_0 and Q4_0 blocks. The expected bytes of the hand-made blocks are derived by hand from
// the format and from ggml's reference quantizer (quantize_row_q8_0_ref / _q4_0_ref), as the
// comments show; none come from running our own code.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "quant/block_quantize.h"
#include "quant/dtype.h"

namespace dsinfer {
namespace {

std::vector<uint8_t> bytes_of(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return std::vector<uint8_t>(b, b + n);
}

// A block's bytes: d little-endian, then the quants (the rest zero for Q8_0, 0x88 for Q4_0).
std::vector<uint8_t> q8_bytes(uint16_t d, const std::vector<int8_t>& qs) {
  std::vector<uint8_t> out(34, 0);
  out[0] = uint8_t(d & 0xFF);
  out[1] = uint8_t(d >> 8);
  for (size_t i = 0; i < qs.size(); ++i) out[2 + i] = uint8_t(qs[i]);
  return out;
}

std::vector<uint8_t> q4_bytes(uint16_t d, const std::vector<uint8_t>& qs) {
  std::vector<uint8_t> out(18, 0x88);
  out[0] = uint8_t(d & 0xFF);
  out[1] = uint8_t(d >> 8);
  for (size_t i = 0; i < qs.size(); ++i) out[2 + i] = qs[i];
  return out;
}

std::vector<uint8_t> quant_q8(const std::vector<float>& x) {
  BlockQ8_0 b;
  quantize_row_q8_0(x.data(), &b, 32);
  return bytes_of(&b, sizeof b);
}

std::vector<uint8_t> quant_q4(const std::vector<float>& x) {
  BlockQ4_0 b;
  quantize_row_q4_0(x.data(), &b, 32);
  return bytes_of(&b, sizeof b);
}

TEST(Blocks, Layout) {
  EXPECT_EQ(sizeof(BlockQ8_0), 34u);
  EXPECT_EQ(offsetof(BlockQ8_0, d), 0u);
  EXPECT_EQ(offsetof(BlockQ8_0, qs), 2u);
  EXPECT_EQ(sizeof(BlockQ4_0), 18u);
  EXPECT_EQ(offsetof(BlockQ4_0, d), 0u);
  EXPECT_EQ(offsetof(BlockQ4_0, qs), 2u);
}

// amax = 127 -> d = 127/127 = 1.0 exactly: fp16 0x3C00, 1/d = 1, q = roundf(x), halves away
// from zero (0.5 -> 1, -2.5 -> -3: round-half-even would give 0 and -2).
TEST(BlocksQ8_0, HandMadeBlockRoundsHalvesAway) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;   // q 127 = 0x7F
  x[1] = -127.0f;  // q -127 = 0x81
  x[2] = 2.5f;     // 3
  x[3] = -2.5f;    // -3
  x[4] = 0.5f;     // 1
  x[5] = -0.5f;    // -1
  x[6] = 1.49f;    // 1
  x[7] = 100.51f;  // 101
  x[8] = -63.7f;   // -64
  x[9] = 0.4999f;  // 0
  EXPECT_EQ(quant_q8(x), q8_bytes(0x3C00, {127, -127, 3, -3, 1, -1, 1, 101, -64, 0}));
}

// d = amax/127 = 1 + 2^-11 (exact in float), exactly between fp16 1.0 (0x3C00) and 1 + 2^-10
// (0x3C01): round-to-nearest-even gives 0x3C00. With d = 1 + 3*2^-11, between 0x3C01 and
// 0x3C02, it gives 0x3C02. The largest weight still maps to 127; -50 * (1/d) = -49.98 -> -50.
TEST(BlocksQ8_0, ScaleRoundsToNearestEven) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f + 127.0f / 2048.0f;
  x[1] = -50.0f;
  EXPECT_EQ(quant_q8(x), q8_bytes(0x3C00, {127, -50}));
  x[0] = 127.0f + 381.0f / 2048.0f;
  EXPECT_EQ(quant_q8(x), q8_bytes(0x3C02, {127, -50}));
}

TEST(BlocksQ8_0, ZeroBlock) {
  EXPECT_EQ(quant_q8(std::vector<float>(32, 0.0f)), q8_bytes(0x0000, {}));
}

TEST(BlocksQ8_0, Dequantize) {
  // d = fp16 0x3800 = 0.5; x = d * q, and -128 (representable, never produced) too.
  auto b = q8_bytes(0x3800, {-128, 127, 1, -3});
  BlockQ8_0 blk;
  std::memcpy(&blk, b.data(), sizeof blk);
  float y[32];
  dequantize_row_q8_0(&blk, y, 32);
  EXPECT_EQ(y[0], -64.0f);
  EXPECT_EQ(y[1], 63.5f);
  EXPECT_EQ(y[2], 0.5f);
  EXPECT_EQ(y[3], -1.5f);
  EXPECT_EQ(y[4], 0.0f);
}

// The largest magnitude is -8 (first of the two 8s): d = -8 / -8 = 1.0 (0x3C00), 1/d = 1,
// q = trunc(x + 8.5) capped at 15. Element j < 16 is the low nibble of qs[j], j + 16 the high.
TEST(BlocksQ4_0, HandMadeBlockNibbleOrder) {
  std::vector<float> x(32, 0.0f);  // 0 -> trunc(8.5) = 8
  x[0] = -8.0f;    // 0.5 -> 0
  x[2] = 0.5f;     // 9.0 -> 9
  x[3] = -0.5f;    // 8.0 -> 8
  x[4] = 1.49f;    // 9.99 -> 9
  x[5] = 1.5f;     // 10.0 -> 10
  x[6] = -3.2f;    // 5.3 -> 5
  x[7] = 6.9f;     // 15.4 -> 15
  x[8] = 8.0f;     // 16.5 -> 16, capped to 15 (as large as x[0] but later: x[0] sets d)
  x[9] = -7.6f;    // 0.9 -> 0
  x[16] = 7.0f;    // 15.5 -> 15
  x[17] = -8.0f;   // 0
  x[18] = 2.25f;   // 10.75 -> 10
  x[19] = -2.25f;  // 6.25 -> 6
  x[31] = -1.0f;   // 7.5 -> 7
  // qs[j] = q[j] | q[j+16] << 4
  EXPECT_EQ(quant_q4(x), q4_bytes(0x3C00, {0xF0, 0x08, 0xA9, 0x68, 0x89, 0x8A, 0x85, 0x8F, 0x8F, 0x80, 0x88, 0x88,
                                           0x88, 0x88, 0x88, 0x78}));
}

// A positive largest weight gives a negative scale: d = 4 / -8 = -0.5 (fp16 0xB800), 1/d = -2.
TEST(BlocksQ4_0, PositiveMaximumGivesNegativeScale) {
  std::vector<float> x(32, 0.0f);
  x[0] = 3.0f;   // -6 + 8.5 = 2.5 -> 2
  x[1] = 4.0f;   // -8 + 8.5 = 0.5 -> 0
  x[2] = -4.0f;  // 8 + 8.5 = 16.5 -> 16 -> 15
  x[3] = 1.0f;   // 6.5 -> 6
  x[4] = -1.0f;  // 10.5 -> 10
  EXPECT_EQ(quant_q4(x), q4_bytes(0xB800, {0x82, 0x80, 0x8F, 0x86, 0x8A}));
}

// 5 and -5 tie in magnitude: the first (5) sets d = 5 / -8 = -0.625 = -1.25 * 2^-1, fp16 sign 1,
// exponent 14, mantissa 256: 0xB900. 5 * (1/d) = -8 -> 0; -5 -> 8 + 8.5 -> 15.
TEST(BlocksQ4_0, FirstOfEqualMagnitudesSetsTheScale) {
  std::vector<float> x(32, 0.0f);
  x[3] = 5.0f;
  x[7] = -5.0f;
  EXPECT_EQ(quant_q4(x), q4_bytes(0xB900, {0x88, 0x88, 0x88, 0x80, 0x88, 0x88, 0x88, 0x8F}));
}

// d = -(8 + 2^-8) / 8 = -(1 + 2^-11), halfway between fp16 0xBC00 and 0xBC01: nearest-even 0xBC00.
TEST(BlocksQ4_0, ScaleRoundsToNearestEven) {
  std::vector<float> x(32, 0.0f);
  x[0] = 8.0f + 1.0f / 256.0f;  // * (1/d) = -8 (within float rounding) -> trunc(0.5) = 0
  EXPECT_EQ(quant_q4(x), q4_bytes(0xBC00, {0x80}));
}

// ggml rounds x * (1/d) to float before adding 8.5. 7 sets d = 7 / -8 = -0.875 (fp16 0xBB00: sign
// 1, exponent 14, mantissa 768) and 1/d = -1.14285719 (float). 3.9375 * (1/d) = -4.5000002 exactly,
// which rounds to the float -4.5; + 8.5 = 4.0 -> level 4 (0x84 with element 17's 8). Fused into
// one fma, as C++ compilers do by default where the CPU has one (aarch64; x86 with -mfma), the sum
// would be 3.9999998 -> level 3. 7 itself: -8.0000003 rounds to -8, + 8.5 -> 0.
TEST(BlocksQ4_0, ProductRoundedBeforeTheOffset) {
  std::vector<float> x(32, 0.0f);
  x[0] = 7.0f;
  x[1] = 3.9375f;
  EXPECT_EQ(quant_q4(x), q4_bytes(0xBB00, {0x80, 0x84}));
}

// All zero: the largest "value" stays 0.0, d = 0.0 / -8 = -0.0 (fp16 0x8000), 1/d taken as 0,
// so every q = trunc(8.5) = 8.
TEST(BlocksQ4_0, ZeroBlock) {
  EXPECT_EQ(quant_q4(std::vector<float>(32, 0.0f)), q4_bytes(0x8000, {}));
}

TEST(BlocksQ4_0, Dequantize) {
  // d = fp16 0x4000 = 2.0. qs[0] = 0x1F: element 0 is 15 -> (15-8)*2 = 14, element 16 is 1 -> -14.
  // qs[2] = 0x3A: element 2 is 10 -> 4, element 18 is 3 -> -10. 0x88 is 0 twice.
  auto b = q4_bytes(0x4000, {0x1F, 0x88, 0x3A});
  BlockQ4_0 blk;
  std::memcpy(&blk, b.data(), sizeof blk);
  float y[32];
  dequantize_row_q4_0(&blk, y, 32);
  EXPECT_EQ(y[0], 14.0f);
  EXPECT_EQ(y[16], -14.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[17], 0.0f);
  EXPECT_EQ(y[2], 4.0f);
  EXPECT_EQ(y[18], -10.0f);
}

// ---- random data ----

enum class Dist { Gauss, StudentT, Uniform, Outliers };

std::vector<float> random_row(Dist dist, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 0.02f);
  std::student_t_distribution<float> t(3.0f);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    switch (dist) {
      case Dist::Gauss: x[i] = g(rng); break;
      case Dist::StudentT: x[i] = t(rng); break;
      case Dist::Uniform: x[i] = u(rng); break;
      case Dist::Outliers: x[i] = g(rng) * (i % 97 == 0 ? 50.0f : 1.0f); break;
    }
  }
  return x;
}

constexpr Dist kDists[] = {Dist::Gauss, Dist::StudentT, Dist::Uniform, Dist::Outliers};

// Per-block squared error, summed in order in double.
std::vector<double> block_sse(const std::vector<float>& x, const std::vector<float>& y) {
  std::vector<double> out(x.size() / 32, 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = double(x[i]) - double(y[i]);
    out[i / 32] += e * e;
  }
  return out;
}

double total(const std::vector<double>& v) {
  double s = 0.0;
  for (double e : v) s += e;
  return s;
}

TEST(BlocksQ8_0, ErrorBound) {
  const size_t n = 32 * 512;
  for (Dist dist : kDists) {
    const auto x = random_row(dist, n, 1);
    std::vector<BlockQ8_0> b(n / 32);
    quantize_row_q8_0(x.data(), b.data(), int64_t(n));
    std::vector<float> y(n);
    dequantize_row_q8_0(b.data(), y.data(), int64_t(n));
    for (size_t i = 0; i < n; ++i) {
      float amax = 0.0f;
      for (size_t j = i / 32 * 32; j < i / 32 * 32 + 32; ++j) amax = std::max(amax, std::fabs(x[j]));
      // Half a step, plus the fp16 rounding of d (relative 2^-11) times |q| <= 127.
      const float d = amax / 127.0f;
      ASSERT_LE(std::fabs(x[i] - y[i]), 0.5f * d + amax * 0.0005f + 1e-12f) << i;
    }
  }
}

TEST(BlocksQ4_0, ErrorBound) {
  const size_t n = 32 * 512;
  for (Dist dist : kDists) {
    const auto x = random_row(dist, n, 2);
    std::vector<BlockQ4_0> b(n / 32);
    quantize_row_q4_0(x.data(), b.data(), int64_t(n));
    std::vector<float> y(n);
    dequantize_row_q4_0(b.data(), y.data(), int64_t(n));
    for (size_t i = 0; i < n; ++i) {
      float amax = 0.0f;
      for (size_t j = i / 32 * 32; j < i / 32 * 32 + 32; ++j) amax = std::max(amax, std::fabs(x[j]));
      // Level +8 does not exist: a weight of the other sign than the largest loses up to a step.
      const float d = amax / 8.0f;
      ASSERT_LE(std::fabs(x[i] - y[i]), d + amax * 0.004f + 1e-12f) << i;
    }
  }
}

TEST(BlocksQ8_0, RelativeErrorOnGaussianWeights) {
  const size_t n = 32 * 1024;
  const auto x = random_row(Dist::Gauss, n, 3);
  std::vector<BlockQ8_0> b(n / 32);
  quantize_row_q8_0(x.data(), b.data(), int64_t(n));
  std::vector<float> y(n);
  dequantize_row_q8_0(b.data(), y.data(), int64_t(n));
  double e2 = 0, x2 = 0;
  for (size_t i = 0; i < n; ++i) {
    e2 += (x[i] - y[i]) * double(x[i] - y[i]);
    x2 += x[i] * double(x[i]);
  }
  EXPECT_LT(std::sqrt(e2 / x2), 0.01);  // ~0.5%: a step of amax/127 over ~2.4 sigma
}

TEST(BlocksQ4_0, RelativeErrorOnGaussianWeights) {
  const size_t n = 32 * 1024;
  const auto x = random_row(Dist::Gauss, n, 4);
  std::vector<BlockQ4_0> b(n / 32);
  quantize_row_q4_0(x.data(), b.data(), int64_t(n));
  std::vector<float> y(n);
  dequantize_row_q4_0(b.data(), y.data(), int64_t(n));
  double e2 = 0, x2 = 0;
  for (size_t i = 0; i < n; ++i) {
    e2 += (x[i] - y[i]) * double(x[i] - y[i]);
    x2 += x[i] * double(x[i]);
  }
  EXPECT_LT(std::sqrt(e2 / x2), 0.12);  // ~9%
}

TEST(BlocksQ8_0, SearchedScaleNeverWorseThanNearest) {
  const size_t n = 32 * 2048;
  for (Dist dist : kDists) {
    const auto x = random_row(dist, n, 5);
    std::vector<BlockQ8_0> a(n / 32), b(n / 32), b2(n / 32);
    quantize_row_q8_0(x.data(), a.data(), int64_t(n));
    quantize_row_q8_0_mse(x.data(), b.data(), int64_t(n));
    quantize_row_q8_0_mse(x.data(), b2.data(), int64_t(n));
    ASSERT_EQ(std::memcmp(b.data(), b2.data(), b.size() * sizeof b[0]), 0) << "not deterministic";
    std::vector<float> ya(n), yb(n);
    dequantize_row_q8_0(a.data(), ya.data(), int64_t(n));
    dequantize_row_q8_0(b.data(), yb.data(), int64_t(n));
    const auto ea = block_sse(x, ya), eb = block_sse(x, yb);
    for (size_t i = 0; i < ea.size(); ++i) ASSERT_LE(eb[i], ea[i]) << "block " << i;
    // Blocks holding an outlier are dominated by it: nothing much to gain there.
    if (dist != Dist::Outliers) {
      EXPECT_LT(total(eb), 0.97 * total(ea)) << "the search should find something";
    }
    for (const BlockQ8_0& blk : b)
      for (int8_t q : blk.qs) ASSERT_NE(q, -128);
  }
}

TEST(BlocksQ4_0, SearchedScaleNeverWorseThanNearest) {
  const size_t n = 32 * 2048;
  for (Dist dist : kDists) {
    const auto x = random_row(dist, n, 6);
    std::vector<BlockQ4_0> a(n / 32), b(n / 32), b2(n / 32);
    quantize_row_q4_0(x.data(), a.data(), int64_t(n));
    quantize_row_q4_0_mse(x.data(), b.data(), int64_t(n));
    quantize_row_q4_0_mse(x.data(), b2.data(), int64_t(n));
    ASSERT_EQ(std::memcmp(b.data(), b2.data(), b.size() * sizeof b[0]), 0) << "not deterministic";
    std::vector<float> ya(n), yb(n);
    dequantize_row_q4_0(a.data(), ya.data(), int64_t(n));
    dequantize_row_q4_0(b.data(), yb.data(), int64_t(n));
    const auto ea = block_sse(x, ya), eb = block_sse(x, yb);
    for (size_t i = 0; i < ea.size(); ++i) ASSERT_LE(eb[i], ea[i]) << "block " << i;
    if (dist != Dist::Outliers) {
      EXPECT_LT(total(eb), 0.97 * total(ea)) << "the search should find something";
    }
  }
}

TEST(Blocks, SearchKeepsZeroBlocks) {
  std::vector<float> x(32, 0.0f);
  BlockQ8_0 a8, b8;
  quantize_row_q8_0(x.data(), &a8, 32);
  quantize_row_q8_0_mse(x.data(), &b8, 32);
  EXPECT_EQ(bytes_of(&a8, sizeof a8), bytes_of(&b8, sizeof b8));
  BlockQ4_0 a4, b4;
  quantize_row_q4_0(x.data(), &a4, 32);
  quantize_row_q4_0_mse(x.data(), &b4, 32);
  EXPECT_EQ(bytes_of(&a4, sizeof a4), bytes_of(&b4, sizeof b4));
}

// A constant block is not exact under round-to-nearest when amax/127 is not an fp16 number
// (0.25/127 is not: q = 127 times the rounded d misses 0.25); the search finds an exact scale.
TEST(Blocks, SearchMakesConstantBlocksExact) {
  for (float v : {0.25f, -3.0f, 0.1f}) {
    std::vector<float> x(32, v), y(32);
    BlockQ8_0 b8;
    quantize_row_q8_0_mse(x.data(), &b8, 32);
    dequantize_row_q8_0(&b8, y.data(), 32);
    for (float e : y) EXPECT_NEAR(e, v, std::fabs(v) * 1e-3f) << v;
    BlockQ4_0 b4;
    quantize_row_q4_0_mse(x.data(), &b4, 32);
    dequantize_row_q4_0(&b4, y.data(), 32);
    for (float e : y) EXPECT_NEAR(e, v, std::fabs(v) * 1e-3f) << v;
  }
}

TEST(Blocks, WritesExactlyTheRowsBlocks) {
  const auto x = random_row(Dist::Uniform, 96, 7);
  std::vector<BlockQ4_0> b(4);
  std::memset(b.data(), 0xAB, b.size() * sizeof b[0]);
  quantize_row_q4_0_mse(x.data(), b.data(), 96);
  const auto tail = bytes_of(&b[3], sizeof b[3]);
  EXPECT_EQ(tail, std::vector<uint8_t>(18, 0xAB));
}

TEST(Blocks, NonFiniteInputStaysMemorySafe) {
  std::vector<float> x(32, 1.0f);
  x[5] = NAN;
  x[9] = INFINITY;
  BlockQ8_0 b8;
  BlockQ4_0 b4;
  quantize_row_q8_0(x.data(), &b8, 32);
  quantize_row_q8_0_mse(x.data(), &b8, 32);
  quantize_row_q4_0(x.data(), &b4, 32);
  quantize_row_q4_0_mse(x.data(), &b4, 32);
  for (int8_t q : b8.qs) EXPECT_GE(q, -127);
  std::vector<float> tiny(32, 1e-40f);  // subnormal: the scale underflows fp16
  quantize_row_q4_0_mse(tiny.data(), &b4, 32);
  quantize_row_q8_0_mse(tiny.data(), &b8, 32);
}

}  // namespace
}  // namespace dsinfer
