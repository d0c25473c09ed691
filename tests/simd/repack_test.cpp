// The row-group layout (simd/repack.h) and its kernels: repacking loses nothing, every ISA's
// row-group products are bit-identical to the scalar reference for any token count and row
// range, and they agree with the stored layout's products to rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "simd/kernels.h"
#include "simd/repack.h"
#include "tests/simd/random_blocks.h"

namespace dsinfer {
namespace {

using simd::Kernels;

std::vector<const Kernels*> available() {
  std::vector<const Kernels*> out;
  for (const char* isa : {"scalar", "avx2", "avx2vnni", "avx512vnni", "avx512amx", "neon"})
    if (const Kernels* k = simd::kernels_for(isa)) out.push_back(k);
  return out;
}

// A rows x nb matrix in both layouts.
template <class Block>
struct Both {
  std::vector<Block> rows;
  std::vector<uint8_t> groups;
};

template <class Block>
Both<Block> make(std::mt19937& rng, int64_t rows, int64_t nb) {
  Both<Block> m;
  const auto x = test::random_floats(rng, rows * nb * kBlockWeights, 0.05f);
  if constexpr (std::is_same_v<Block, BlockQ4_0>)
    m.rows = test::q4(x);
  else
    m.rows = test::q8(x);
  m.groups.resize(m.rows.size() * sizeof(Block));
  for (int64_t g = 0; g < rows / kRowGroup; ++g) {
    uint8_t* dst = m.groups.data() + size_t(g * kRowGroup * nb) * sizeof(Block);
    if constexpr (std::is_same_v<Block, BlockQ4_0>)
      repack_q4_0_rows(m.rows.data() + g * kRowGroup * nb, nb, dst);
    else
      repack_q8_0_rows(m.rows.data() + g * kRowGroup * nb, nb, dst);
  }
  return m;
}

TEST(RowGroups, RepackAndUnpackRoundTrip) {
  std::mt19937 rng(3);
  const int64_t rows = 48, nb = 5;
  const auto q4 = make<BlockQ4_0>(rng, rows, nb);
  const auto q8 = make<BlockQ8_0>(rng, rows, nb);
  std::vector<BlockQ4_0> r4(nb);
  std::vector<BlockQ8_0> r8(nb);
  for (int64_t r = 0; r < rows; ++r) {
    const size_t g = size_t(r / kRowGroup);
    unpack_q4_0_row(q4.groups.data() + g * kRowGroup * nb * sizeof(BlockQ4_0), nb, r % kRowGroup, r4.data());
    unpack_q8_0_row(q8.groups.data() + g * kRowGroup * nb * sizeof(BlockQ8_0), nb, r % kRowGroup, r8.data());
    EXPECT_EQ(std::memcmp(r4.data(), q4.rows.data() + r * nb, nb * sizeof(BlockQ4_0)), 0) << r;
    EXPECT_EQ(std::memcmp(r8.data(), q8.rows.data() + r * nb, nb * sizeof(BlockQ8_0)), 0) << r;
  }
  // The documented layout: block 0 of row 3 of group 0, Q4_0 slice 2 holds its bytes 8..11.
  EXPECT_EQ(std::memcmp(q4.groups.data() + 32 + 64 * 2 + 4 * 3, q4.rows[3 * nb].qs + 8, 4), 0);
  EXPECT_EQ(std::memcmp(q4.groups.data() + 2 * 3, &q4.rows[3 * nb].d, 2), 0);
}

template <class Block>
void check_products(const char* what) {
  std::mt19937 rng(11);
  const Kernels& ref = *simd::kernels_for("scalar");
  // {32, 300}: 40 tokens of 300 blocks are more than the AVX-512 kernel prepares at once.
  for (const auto& [rows, nb] :
       {std::pair<int64_t, int64_t>{16, 1}, {32, 7}, {64, 64}, {48, 44}, {272, 3}, {32, 300}}) {
    const auto m = make<Block>(rng, rows, nb);
    for (int64_t T : {1, 2, 5, 8, 9, 17, 40}) {
      const auto X = test::q8(test::random_floats(rng, T * nb * kBlockWeights, 1.0f));
      std::vector<float> want(size_t(T * rows)), stored(size_t(T * rows));
      constexpr bool q4 = std::is_same_v<Block, BlockQ4_0>;
      (q4 ? ref.gemm_q4_0_r16 : ref.gemm_q8_0_r16)(m.groups.data(), nb, X.data(), T, want.data(), rows, 0,
                                                   rows / kRowGroup);
      if constexpr (q4)
        ref.gemm_q4_0(m.rows.data(), rows, nb, X.data(), T, stored.data(), 0, rows);
      else
        ref.gemm_q8_0(m.rows.data(), rows, nb, X.data(), T, stored.data(), 0, rows);
      for (size_t i = 0; i < want.size(); ++i)  // one fused step per block instead of two roundings
        ASSERT_NEAR(want[i], stored[i], 1e-5f * (1.0f + std::fabs(stored[i]))) << what << " T " << T << " i " << i;
      for (const Kernels* k : available()) {
        // Row ranges split in two, as threads split them: the same bits.
        std::vector<float> got(size_t(T * rows), -1.0f);
        const int64_t groups = rows / kRowGroup, mid = groups / 2;
        auto run = q4 ? k->gemm_q4_0_r16 : k->gemm_q8_0_r16;
        run(m.groups.data(), nb, X.data(), T, got.data(), rows, 0, mid);
        run(m.groups.data(), nb, X.data(), T, got.data(), rows, mid, groups);
        ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
            << what << " " << k->isa << " rows " << rows << " nb " << nb << " T " << T;
      }
    }
  }
}

TEST(RowGroups, Q4_0ProductsBitIdenticalToTheReference) { check_products<BlockQ4_0>("q4_0"); }
TEST(RowGroups, Q8_0ProductsBitIdenticalToTheReference) { check_products<BlockQ8_0>("q8_0"); }

TEST(RowGroups, AmxTableOnlyWhereTheCpuHasIt) {
  // AMX tiles exist on some Xeons only; where the CPU (or the kernel) refuses them the table is
  // not offered, so nothing can call an AMX instruction by mistake. Where it is offered, the
  // products above check its kernels against the reference bit for bit, as for every ISA.
  const Kernels* amx = simd::kernels_for("avx512amx");
  std::printf("avx512amx kernels: %s\n", amx ? "available, tested above" : "not available on this CPU");
  if (amx) {
    EXPECT_TRUE(amx->r16_native);
    EXPECT_NE(simd::kernels_for("avx512vnni"), nullptr);
  }
}

TEST(RowGroups, AvxVnniTableExactlyWhereLinuxListsTheFlag) {
  // The avx2vnni table rests on a CPUID bit read by hand (libcpuinfo does not report it); Linux's
  // own reading of CPUID, the flags in /proc/cpuinfo, must agree with it, or a CPU without
  // AVX-VNNI would be handed vpdpbusd (or one with it would not get it).
#if defined(__linux__) && defined(__x86_64__)
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::set<std::string> flags;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      for (std::string w; words >> w;) flags.insert(w);
      break;
    }
  if (flags.empty()) {
    GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  }
  const bool listed = flags.count("avx_vnni") && flags.count("avx2") && flags.count("fma") && flags.count("f16c");
  const Kernels* vnni = simd::kernels_for("avx2vnni");
  std::printf("avx2vnni kernels: %s; /proc/cpuinfo %s avx_vnni\n", vnni ? "available" : "not available",
              flags.count("avx_vnni") ? "lists" : "does not list");
  EXPECT_EQ(vnni != nullptr, listed);
  EXPECT_TRUE(!vnni || vnni->r16_native);
#else
  GTEST_SKIP() << "reads Linux's x86 CPU flags";
#endif
}

TEST(RowGroups, ExtremeLevelsStayExact) {
  // Levels -127 / 127 (Q8_0) and 0 / 15 (Q4_0) against activations of -127, all scales 1: the
  // integer dots are exact, so every ISA returns the exact sum.
  const int64_t nb = 3;
  std::vector<BlockQ8_0> w8(static_cast<size_t>(kRowGroup * nb)), x(static_cast<size_t>(nb));
  std::vector<BlockQ4_0> w4(static_cast<size_t>(kRowGroup * nb));
  for (auto& b : x) {
    b.d = 0x3C00;
    std::memset(b.qs, 0x81, 32);  // -127
  }
  for (size_t i = 0; i < w8.size(); ++i) {
    w8[i].d = w4[i].d = 0x3C00;
    for (int j = 0; j < 32; ++j) w8[i].qs[j] = int8_t((i + size_t(j)) % 2 ? 127 : -127);
    std::memset(w4[i].qs, (i / size_t(nb)) % 2 ? 0xFF : 0x00, 16);  // odd rows level 7, even rows -8
  }
  std::vector<uint8_t> g8(w8.size() * sizeof(BlockQ8_0)), g4(w4.size() * sizeof(BlockQ4_0));
  repack_q8_0_rows(w8.data(), nb, g8.data());
  repack_q4_0_rows(w4.data(), nb, g4.data());
  for (const Kernels* k : available()) {
    float y8[kRowGroup], y4[kRowGroup];
    k->gemm_q8_0_r16(g8.data(), nb, x.data(), 1, y8, kRowGroup, 0, 1);
    k->gemm_q4_0_r16(g4.data(), nb, x.data(), 1, y4, kRowGroup, 0, 1);
    for (int64_t r = 0; r < kRowGroup; ++r) {
      EXPECT_EQ(y8[r], 0.0f) << k->isa;  // 16 x 127 and 16 x -127 per block
      EXPECT_EQ(y4[r], float((r % 2 ? 7 : -8) * -127 * 32 * nb)) << k->isa;
    }
  }
}

}  // namespace
}  // namespace dsinfer
