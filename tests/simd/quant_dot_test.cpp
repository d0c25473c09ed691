// Quantized dot-product kernels: every ISA available on this CPU against the scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "simd/blocks.h"
#include "quant/dtype.h"
#include "simd/kernels.h"
#include "tests/simd/random_blocks.h"

namespace {

using dsinfer::BlockQ4_0;
using dsinfer::BlockQ8_0;
using dsinfer::kBlockWeights;
using dsinfer::simd::Kernels;

const Kernels& scalar() { return *dsinfer::simd::kernels_for("scalar"); }

// Every table this CPU can run (scalar included).
std::vector<const Kernels*> available() {
  std::vector<const Kernels*> out;
  for (const char* isa : {"scalar", "avx2", "avx2vnni", "avx512vnni", "avx512amx", "neon"})
    if (const Kernels* k = dsinfer::simd::kernels_for(isa)) out.push_back(k);
  return out;
}

using dsinfer::test::level;
using dsinfer::test::q4;
using dsinfer::test::q8;
using dsinfer::test::random_floats;

// sum over blocks of |integer dot * d_w * d_x|: the scale of the allowed rounding difference.
template <class Block>
double abs_terms(const Block* w, const BlockQ8_0* x, int64_t nb) {
  double s = 0;
  for (int64_t b = 0; b < nb; ++b) {
    int64_t i = 0;
    for (int j = 0; j < kBlockWeights; ++j) i += int64_t(level(w[b], j)) * x[b].qs[j];
    s += std::fabs(double(i) * dsinfer::fp16_to_f32(w[b].d) * dsinfer::fp16_to_f32(x[b].d));
  }
  return s;
}

TEST(SimdQuantDot, DispatchTables) {
  const Kernels& best = dsinfer::simd::kernels();
  ASSERT_NE(best.isa, nullptr);
  EXPECT_NE(dsinfer::simd::kernels_for(best.isa), nullptr);
  EXPECT_STREQ(scalar().isa, "scalar");
  EXPECT_EQ(dsinfer::simd::kernels_for("no-such-isa"), nullptr);
  EXPECT_EQ(dsinfer::simd::kernels_for(nullptr), nullptr);
  for (const Kernels* k : available()) EXPECT_STREQ(dsinfer::simd::kernels_for(k->isa)->isa, k->isa);
  std::printf("best ISA: %s; available:", best.isa);
  for (const Kernels* k : available()) std::printf(" %s", k->isa);
  std::printf("\n");
}

// Hand-checked single blocks, every ISA.
//  Q8_0: w d = 1.0 (fp16 0x3C00), levels j - 16 for j = 0..31 (-16..15); x d = 0.5 (0x3800),
//        levels all 2. Integer dot = 2 * (-16 + ... + 15) = 2 * (-16) = -32; times 1.0 * 0.5 = -16.
//  Q4_0: w d = 2.0 (0x4000), every byte 0x79: low nibble 9 -> level +1 (elements 0..15), high
//        nibble 7 -> level -1 (elements 16..31); x d = 0.25 (0x3400), levels j + 1 (1..32).
//        Integer dot = (1 + ... + 16) - (17 + ... + 32) = 136 - 392 = -256; times 0.5 = -128.
TEST(SimdQuantDot, HandChecked) {
  BlockQ8_0 w8{}, x8{}, x4{};
  BlockQ4_0 w4{};
  w8.d = 0x3C00;
  x8.d = 0x3800;
  w4.d = 0x4000;
  x4.d = 0x3400;
  for (int j = 0; j < 32; ++j) {
    w8.qs[j] = int8_t(j - 16);
    x8.qs[j] = 2;
    x4.qs[j] = int8_t(j + 1);
  }
  for (int j = 0; j < 16; ++j) w4.qs[j] = 0x79;
  for (const Kernels* k : available()) {
    SCOPED_TRACE(k->isa);
    EXPECT_EQ(k->dot_q8_0_q8_0(&w8, &x8, 1), -16.0f);
    EXPECT_EQ(k->dot_q4_0_q8_0(&w4, &x4, 1), -128.0f);
  }
}

// With every scale 1.0 and few blocks the float result equals the integer sum exactly, so the
// integer block dots are compared exactly, including the extreme levels -127 and 127.
TEST(SimdQuantDot, IntegerPartExact) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> lv(-127, 127), nib(0, 255);
  for (int trial = 0; trial < 40; ++trial) {
    const int nb = 1 + trial % 9;
    std::vector<BlockQ8_0> w8(nb), x(nb);
    std::vector<BlockQ4_0> w4(nb);
    for (int b = 0; b < nb; ++b) {
      w8[b].d = x[b].d = w4[b].d = 0x3C00;
      for (int j = 0; j < 32; ++j) {
        const bool extreme = trial % 4 == 0;
        w8[b].qs[j] = int8_t(extreme ? (j % 2 ? 127 : -127) : lv(rng));
        x[b].qs[j] = int8_t(extreme ? -127 : lv(rng));
      }
      for (int j = 0; j < 16; ++j) w4[b].qs[j] = uint8_t(nib(rng));
    }
    int64_t e8 = 0, e4 = 0;
    for (int b = 0; b < nb; ++b)
      for (int j = 0; j < 32; ++j) {
        e8 += int64_t(w8[b].qs[j]) * x[b].qs[j];
        e4 += int64_t(level(w4[b], j)) * x[b].qs[j];
      }
    for (const Kernels* k : available()) {
      SCOPED_TRACE(k->isa);
      EXPECT_EQ(k->dot_q8_0_q8_0(w8.data(), x.data(), nb), float(e8));
      EXPECT_EQ(k->dot_q4_0_q8_0(w4.data(), x.data(), nb), float(e4));
    }
  }
}

TEST(SimdQuantDot, ActivationQuantizationMatchesReference) {
  std::mt19937 rng(11);
  for (int64_t nb : {1, 2, 3, 7, 64}) {
    std::vector<float> x = random_floats(rng, nb * 32, 3.0f);
    // Special blocks: all zero, one tiny value (subnormal scale), exact halves after scaling
    // (amax 127 gives id = 1, so k + 0.5 must round away from zero), huge values.
    if (nb >= 3) {
      for (int j = 0; j < 32; ++j) x[size_t(j)] = 0.0f;
      x[32 + 5] = 1e-30f;
      for (int j = 0; j < 32; ++j) x[size_t(64 + j)] = j == 0 ? 127.0f : float(j) - 16.5f;
    }
    if (nb == 64)
      for (int j = 0; j < 32; ++j) x[size_t(32 * 10 + j)] = float(j - 16) * 1e4f;
    const std::vector<BlockQ8_0> ref = q8(x);
    for (const Kernels* k : available()) {
      SCOPED_TRACE(k->isa);
      std::vector<BlockQ8_0> got(static_cast<size_t>(nb));
      k->quantize_row_q8_0_act(x.data(), got.data(), nb * 32);
      EXPECT_EQ(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(BlockQ8_0)), 0) << "nb " << nb;
    }
  }
}

// Random shapes: rows not multiples of 4/8/16, odd block counts, 1..9 tokens plus 16 and 17
// (more than one register chunk), and a row sub-range that must leave other rows untouched.
template <class Block, class Quant, class GemmOf, class DotOf>
void check_gemm(Quant quant, GemmOf gemm_of, DotOf dot_of) {
  std::mt19937 rng(1234);
  const int64_t row_choices[] = {1, 3, 5, 7, 13, 17, 33};
  const int64_t nb_choices[] = {1, 2, 3, 5, 8, 11};
  const int64_t tok_choices[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17};
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t rows = row_choices[trial % 7], nb = nb_choices[trial % 6];
    const int64_t n_tok = tok_choices[trial % 11];
    const std::vector<Block> W = quant(random_floats(rng, rows * nb * 32, 0.05f));
    const std::vector<BlockQ8_0> X = q8(random_floats(rng, n_tok * nb * 32, 2.0f));
    std::vector<float> ref(size_t(rows * n_tok));
    gemm_of(scalar())(W.data(), rows, nb, X.data(), n_tok, ref.data(), 0, rows);
    for (const Kernels* k : available()) {
      SCOPED_TRACE(std::string(k->isa) + " rows " + std::to_string(rows) + " nb " +
                   std::to_string(nb) + " n_tok " + std::to_string(n_tok));
      std::vector<float> y(ref.size(), -999.0f);
      const int64_t row0 = rows > 2 ? 1 : 0, row1 = rows > 2 ? rows - 1 : rows;
      gemm_of(*k)(W.data(), rows, nb, X.data(), n_tok, y.data(), row0, row1);
      for (int64_t t = 0; t < n_tok; ++t)
        for (int64_t r = 0; r < rows; ++r) {
          const float got = y[size_t(t * rows + r)];
          if (r < row0 || r >= row1) {
            EXPECT_EQ(got, -999.0f);
            continue;
          }
          const double tol = 1e-5 * abs_terms(&W[size_t(r * nb)], &X[size_t(t * nb)], nb) + 1e-30;
          EXPECT_NEAR(got, ref[size_t(t * rows + r)], tol) << "t " << t << " r " << r;
          const float d = dot_of(*k)(&W[size_t(r * nb)], &X[size_t(t * nb)], nb);
          EXPECT_NEAR(d, ref[size_t(t * rows + r)], tol);
        }
    }
  }
}

TEST(SimdQuantDot, GemmQ8_0MatchesScalar) {
  check_gemm<BlockQ8_0>(q8, [](const Kernels& k) { return k.gemm_q8_0; },
                        [](const Kernels& k) { return k.dot_q8_0_q8_0; });
}

TEST(SimdQuantDot, GemmQ4_0MatchesScalar) {
  check_gemm<BlockQ4_0>(q4, [](const Kernels& k) { return k.gemm_q4_0; },
                        [](const Kernels& k) { return k.dot_q4_0_q8_0; });
}

// Rows wide enough (800 blocks, 16 tokens) that the AVX-512 kernel cannot keep the converted
// activation scales on its stack and converts them per row instead.
TEST(SimdQuantDot, WideRowsMatchScalar) {
  std::mt19937 rng(99);
  const int64_t rows = 5, nb = 800, n_tok = 16;
  const auto W8 = q8(random_floats(rng, rows * nb * 32, 0.05f));
  const auto W4 = q4(random_floats(rng, rows * nb * 32, 0.05f));
  const auto X = q8(random_floats(rng, n_tok * nb * 32, 1.0f));
  std::vector<float> r8(size_t(rows * n_tok)), r4(r8.size());
  scalar().gemm_q8_0(W8.data(), rows, nb, X.data(), n_tok, r8.data(), 0, rows);
  scalar().gemm_q4_0(W4.data(), rows, nb, X.data(), n_tok, r4.data(), 0, rows);
  for (const Kernels* k : available()) {
    SCOPED_TRACE(k->isa);
    std::vector<float> y8(r8.size()), y4(r8.size());
    k->gemm_q8_0(W8.data(), rows, nb, X.data(), n_tok, y8.data(), 0, rows);
    k->gemm_q4_0(W4.data(), rows, nb, X.data(), n_tok, y4.data(), 0, rows);
    for (int64_t t = 0; t < n_tok; ++t)
      for (int64_t r = 0; r < rows; ++r) {
        const size_t i = size_t(t * rows + r);
        EXPECT_NEAR(y8[i], r8[i], 1e-5 * abs_terms(&W8[size_t(r * nb)], &X[size_t(t * nb)], nb));
        EXPECT_NEAR(y4[i], r4[i], 1e-5 * abs_terms(&W4[size_t(r * nb)], &X[size_t(t * nb)], nb));
      }
  }
}

// The scalar reference itself against a double-precision dequantized dot.
TEST(SimdQuantDot, ScalarMatchesDequantized) {
  std::mt19937 rng(5);
  const int64_t nb = 13;
  const std::vector<float> wf = random_floats(rng, nb * 32, 0.1f), xf = random_floats(rng, nb * 32, 1.0f);
  const auto w8 = q8(wf);
  const auto w4 = q4(wf);
  const auto x = q8(xf);
  std::vector<float> dw8(size_t(nb * 32)), dw4(size_t(nb * 32)), dx(size_t(nb * 32));
  dsinfer::dequantize_row_q8_0(w8.data(), dw8.data(), nb * 32);
  dsinfer::dequantize_row_q4_0(w4.data(), dw4.data(), nb * 32);
  dsinfer::dequantize_row_q8_0(x.data(), dx.data(), nb * 32);
  double e8 = 0, e4 = 0;
  for (size_t i = 0; i < dx.size(); ++i) {
    e8 += double(dw8[i]) * dx[i];
    e4 += double(dw4[i]) * dx[i];
  }
  EXPECT_NEAR(scalar().dot_q8_0_q8_0(w8.data(), x.data(), nb), e8, 1e-5 * abs_terms(w8.data(), x.data(), nb));
  EXPECT_NEAR(scalar().dot_q4_0_q8_0(w4.data(), x.data(), nb), e4, 1e-5 * abs_terms(w4.data(), x.data(), nb));
  // The dispatched wrappers reach some table.
  EXPECT_NEAR(dsinfer::simd::kernels().dot_q8_0_q8_0(w8.data(), x.data(), nb), e8, 1e-5 * abs_terms(w8.data(), x.data(), nb));
}

}  // namespace
