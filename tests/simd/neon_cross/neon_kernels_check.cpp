// The NEON kernels against the scalar reference, as a standalone aarch64 program (no
// GoogleTest: there is none for arm64 on an x86-64 CI host). Built by the aarch64 cross compiler
// and run under qemu-aarch64 (tests/simd/neon_cross/CMakeLists.txt). The quantized dots follow
// tests/simd/quant_dot_test.cpp: integer parts exact, float results within a worst-case rounding
// bound (see tolerance()), activation quantization byte for byte. The row-group products and the
// integer attention kernels (scores, weighted sum) follow tests/simd/repack_test.cpp and
// tests/simd/latent_scores_test.cpp: bit for bit the scalar reference. The float vector kernels
// (Kernels, xsimd::neon64) follow tests/simd/vec_kernels_test.cpp: sums within 1e-6 of
// sum |terms|, exp-based results within a relative 2e-6, cache-row conversions bit for bit, and
// integer-valued inputs exact. The tables are taken directly from detail:: (the libcpuinfo
// dispatch is not built here).
//
// Usage: neon_kernels_check [seed]. Prints every failed check (up to a limit) and returns 1 when
// any failed. Inputs sit right before a PROT_NONE page, so a kernel reading past the end of
// a row, a token or an output buffer stops with a message instead of passing by luck.
#if !defined(__aarch64__)
#error "neon_kernels_check is an aarch64 program (cross-compiled; see CMakeLists.txt)"
#endif

#include <asm/hwcap.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <utility>
#include <vector>
#include <xsimd/config/xsimd_config.hpp>

#include "simd/blocks.h"
#include "simd/half.h"
#include "simd/kernels_isa.h"
#include "simd/latent_scores.h"
#include "simd/repack.h"
#include "tests/simd/random_blocks.h"

// simd/vec_kernels_neon.cpp instantiates VecImpl<xsimd::neon64>: the cross compiler must find
// xsimd (the -isystem link, see CMakeLists.txt) and xsimd must see an aarch64 NEON target.
static_assert(XSIMD_WITH_NEON64, "xsimd does not see AArch64 NEON: wrong compiler or xsimd headers");

// simd/latent_scores.cpp's pack_latent_query_q8 calls the dispatch, which is not built here:
// this is what it returns on an aarch64 CPU with dot products (simd/dispatch.cpp's "neon").
namespace dsinfer::simd {
const Kernels& kernels() noexcept {
  static const Kernels k = [] {
    Kernels t{};
    detail::add_quant_scalar(t);  // the reference row-group and latent kernels first, as assemble() does
    t.latent_pack_q8 = detail::latent_pack_q8_scalar;
    t.latent_scores_q8 = detail::latent_scores_q8_scalar;
    t.latent_wsum_q8 = detail::latent_wsum_q8_scalar;
    t.latent_wsum_exact = true;
    detail::add_quant_neon(t);
    detail::add_vec_neon(t);
    detail::add_r16_neon(t);
    detail::add_latent_scores_neon(t);
    t.isa = "neon";
    return t;
  }();
  return k;
}
}  // namespace dsinfer::simd

namespace {

using dsinfer::BlockQ4_0;
using dsinfer::BlockQ8_0;
using dsinfer::kBlockWeights;
using dsinfer::simd::Kernels;

// ---- reporting ----

const char* g_section = "start";  // what is running, for failure and crash messages
int64_t g_checks = 0, g_failures = 0;
double g_worst = 0;  // the largest |NEON - scalar| / tolerance seen
constexpr int64_t kMaxPrinted = 60;

__attribute__((format(printf, 1, 2))) void fail(const char* fmt, ...) {
  ++g_failures;
  if (g_failures > kMaxPrinted) return;
  std::printf("FAIL [%s] ", g_section);
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
  std::printf("\n");
}

void on_segv(int) {
  // Only async-signal-safe calls here.
  const char a[] = "CRASH (SIGSEGV: out-of-bounds access, e.g. into a guard page) during [";
  const char b[] = "]\n";
  (void)!write(2, a, sizeof a - 1);
  (void)!write(2, g_section, std::strlen(g_section));
  (void)!write(2, b, sizeof b - 1);
  _exit(3);
}

// ---- buffers whose last element is followed by an inaccessible page ----

template <class T>
class Guarded {
 public:
  explicit Guarded(size_t n) : n_(n) {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    const size_t bytes = n * sizeof(T);
    body_ = (bytes + page - 1) / page * page;
    len_ = body_ + page;
    void* p = mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(static_cast<char*>(p) + body_, page, PROT_NONE) != 0) {
      std::perror("mmap/mprotect");
      std::exit(2);
    }
    base_ = static_cast<char*>(p);
    data_ = reinterpret_cast<T*>(base_ + body_ - bytes);  // sizeof(T) keeps T's alignment here
  }
  explicit Guarded(const std::vector<T>& v) : Guarded(v.size()) {
    if (!v.empty()) std::memcpy(static_cast<void*>(data_), v.data(), v.size() * sizeof(T));
  }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;
  ~Guarded() { munmap(base_, len_); }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  size_t n_, body_ = 0, len_ = 0;
  char* base_ = nullptr;
  T* data_ = nullptr;
};

// ---- data ----

// The two tables assembled as simd/dispatch.cpp does (its libcpuinfo check is not built here).
Kernels assemble(void (*quant)(Kernels&) noexcept, void (*vec)(Kernels&) noexcept, const char* isa) {
  Kernels k{};
  quant(k);
  vec(k);
  k.isa = isa;
  return k;
}
const Kernels& scalar() {
  static const Kernels k = assemble(dsinfer::simd::detail::add_quant_scalar, dsinfer::simd::detail::add_vec_scalar, "scalar");
  return k;
}
const Kernels& neon() {
  static const Kernels k = assemble(dsinfer::simd::detail::add_quant_neon, dsinfer::simd::detail::add_vec_neon, "neon");
  return k;
}

using dsinfer::test::level;
using dsinfer::test::q4;
using dsinfer::test::q8;
using dsinfer::test::random_floats;


// The allowed difference from the scalar result. The SIMD kernels do not sum a block's 32
// products into one integer: each of NEON's 4 lanes holds a partial sum of 8, scaled and
// accumulated in float on its own, so when a block's partial sums cancel, rounding is relative
// to them, not to the block's dot (a block whose dot is exactly 0 can come out as +-1 ulp of a
// partial sum). The bound is therefore taken over S = sum over blocks of
// |d_w * d_x| * sum_j |w_j * x_j|: scalar (one product and one add per block) and NEON (one fma
// per block and lane, then 3 adds) each err by at most (nb + 3) rounding units of S. The
// tolerance is that worst case with margin (below 1e-5 * S up to 80 blocks), plus a few
// subnormal steps for underflow.
template <class Block>
double tolerance(const Block* w, const BlockQ8_0* x, int64_t nb) {
  double s = 0;
  for (int64_t b = 0; b < nb; ++b) {
    int64_t i = 0;
    for (int j = 0; j < kBlockWeights; ++j) i += std::abs(int64_t(level(w[b], j)) * x[b].qs[j]);
    s += double(i) * std::fabs(double(dsinfer::fp16_to_f32(w[b].d)) * dsinfer::fp16_to_f32(x[b].d));
  }
  return double(2 * nb + 8) * (0x1p-24 * s + 0x1p-149);
}

bool close(float got, float want, double tol) {
  const double diff = std::fabs(double(got) - double(want));
  if (diff / tol > g_worst) g_worst = diff / tol;
  return diff <= tol;  // false for NaN
}

template <class Block>
struct Ops;
template <>
struct Ops<BlockQ8_0> {
  static constexpr const char* name = "q8_0";
  static auto dot(const Kernels& k) { return k.dot_q8_0_q8_0; }
  static auto gemm(const Kernels& k) { return k.gemm_q8_0; }
  static std::vector<BlockQ8_0> quant(const std::vector<float>& x) { return q8(x); }
};
template <>
struct Ops<BlockQ4_0> {
  static constexpr const char* name = "q4_0";
  static auto dot(const Kernels& k) { return k.dot_q4_0_q8_0; }
  static auto gemm(const Kernels& k) { return k.gemm_q4_0; }
  static std::vector<BlockQ4_0> quant(const std::vector<float>& x) { return q4(x); }
};

// Blocks with every level equal: Q8_0 level v, Q4_0 level v (nibble v + 8, v in -8..7).
BlockQ8_0 q8_const(uint16_t d, int v) {
  BlockQ8_0 b;
  b.d = d;
  for (int8_t& q : b.qs) q = int8_t(v);
  return b;
}
BlockQ4_0 q4_const(uint16_t d, int v) {
  BlockQ4_0 b;
  b.d = d;
  for (uint8_t& q : b.qs) q = uint8_t((v + 8) | ((v + 8) << 4));
  return b;
}

// ---- checks with exactly known answers ----

// A result that must be exact: both tables, dot and gemm (rows 3, several token counts).
template <class Block>
void expect_exact(const char* what, const std::vector<Block>& w1, const std::vector<BlockQ8_0>& x1, float want) {
  const int64_t nb = int64_t(w1.size());
  for (const Kernels* k : {&scalar(), &neon()}) {
    ++g_checks;
    const Guarded<Block> w(w1);
    const Guarded<BlockQ8_0> x(x1);
    const float got = Ops<Block>::dot(*k)(w.data(), x.data(), nb);
    if (got != want)
      fail("%s %s dot %s nb %lld: got %.9g, want %.9g", k->isa, Ops<Block>::name, what, (long long)nb, double(got),
           double(want));
  }
  // gemm: 3 identical rows, n_tok identical tokens; every element is `want`.
  for (int64_t n_tok : {1, 2, 7, 16, 17, 33}) {
    const int64_t rows = 3;
    std::vector<Block> W;
    std::vector<BlockQ8_0> X;
    for (int64_t r = 0; r < rows; ++r) W.insert(W.end(), w1.begin(), w1.end());
    for (int64_t t = 0; t < n_tok; ++t) X.insert(X.end(), x1.begin(), x1.end());
    const Guarded<Block> gw(W);
    const Guarded<BlockQ8_0> gx(X);
    Guarded<float> y(size_t(rows * n_tok));
    Ops<Block>::gemm(neon())(gw.data(), rows, nb, gx.data(), n_tok, y.data(), 0, rows);
    for (size_t i = 0; i < y.size(); ++i) {
      ++g_checks;
      if (y[i] != want)
        fail("neon %s gemm %s nb %lld n_tok %lld: Y[%zu] = %.9g, want %.9g", Ops<Block>::name, what, (long long)nb,
             (long long)n_tok, i, double(y[i]), double(want));
    }
  }
}

void check_exact() {
  g_section = "exact: all levels 1";
  // Levels all 1 at scale 1.0 (fp16 0x3C00): the dot is 32 per block.
  for (int64_t nb : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33}) {
    const std::vector<BlockQ8_0> x(size_t(nb), q8_const(0x3C00, 1));
    expect_exact("levels 1", std::vector<BlockQ8_0>(size_t(nb), q8_const(0x3C00, 1)), x, float(32 * nb));
    expect_exact("levels 1", std::vector<BlockQ4_0>(size_t(nb), q4_const(0x3C00, 1)), x, float(32 * nb));
  }

  g_section = "exact: scales";
  // fp16 scales: negative (Q4_0's d = vmax / -8 is often negative), subnormal, the largest.
  {
    const std::vector<BlockQ8_0> x(3, q8_const(0x3C00, 1));
    expect_exact("w d -1", std::vector<BlockQ8_0>(3, q8_const(0xBC00, 1)), x, -96.0f);
    expect_exact("w d -1", std::vector<BlockQ4_0>(3, q4_const(0xBC00, 1)), x, -96.0f);
    expect_exact("w d 2^-24", std::vector<BlockQ8_0>(3, q8_const(0x0001, 1)), x, 96.0f * 0x1p-24f);
    expect_exact("w d 2^-24", std::vector<BlockQ4_0>(3, q4_const(0x0001, 1)), x, 96.0f * 0x1p-24f);
    expect_exact("w d 65504", std::vector<BlockQ8_0>(3, q8_const(0x7BFF, 1)), x, 96.0f * 65504.0f);
    const std::vector<BlockQ8_0> xq(3, q8_const(0x3400, 1));  // x d = 0.25
    expect_exact("w d 2, x d 0.25", std::vector<BlockQ4_0>(3, q4_const(0x4000, 1)), xq, 48.0f);
    const std::vector<BlockQ8_0> x0(3, q8_const(0x0000, 1));  // x d = 0
    expect_exact("x d 0", std::vector<BlockQ8_0>(3, q8_const(0x3C00, 5)), x0, 0.0f);
  }

  g_section = "exact: extreme levels";
  {
    const std::vector<BlockQ8_0> xn(3, q8_const(0x3C00, -127)), xp(3, q8_const(0x3C00, 127));
    expect_exact("127 * -127", std::vector<BlockQ8_0>(3, q8_const(0x3C00, 127)), xn, -3.0f * 32 * 127 * 127);
    expect_exact("-127 * -127", std::vector<BlockQ8_0>(3, q8_const(0x3C00, -127)), xn, 3.0f * 32 * 127 * 127);
    expect_exact("-8 * 127", std::vector<BlockQ4_0>(3, q4_const(0x3C00, -8)), xp, -3.0f * 32 * 8 * 127);
    expect_exact("-8 * -127", std::vector<BlockQ4_0>(3, q4_const(0x3C00, -8)), xn, 3.0f * 32 * 8 * 127);
    expect_exact("7 * -127", std::vector<BlockQ4_0>(3, q4_const(0x3C00, 7)), xn, -3.0f * 32 * 7 * 127);
    expect_exact("level 0", std::vector<BlockQ4_0>(3, q4_const(0x3C00, 0)), xn, 0.0f);
  }

  g_section = "exact: hand-checked blocks";
  // As tests/simd/quant_dot_test.cpp HandChecked:
  //  Q8_0: w d 1.0, levels j - 16; x d 0.5, levels 2: -32 * 0.5 = -16.
  //  Q4_0: w d 2.0, bytes 0x79 (elements 0..15 level +1, 16..31 level -1); x d 0.25, levels j + 1:
  //        (136 - 392) * 0.5 = -128.
  {
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
    expect_exact("hand-checked", std::vector<BlockQ8_0>{w8}, std::vector<BlockQ8_0>{x8}, -16.0f);
    expect_exact("hand-checked", std::vector<BlockQ4_0>{w4}, std::vector<BlockQ8_0>{x4}, -128.0f);
  }

  g_section = "exact: one-hot positions";
  // One weight of level 1 at element p of block b, the rest 0; activation levels all distinct
  // (j + 1 + 32 b), scales 2 * 0.25: the dot is (p + 1 + 32 b) / 2. Catches swapped halves,
  // nibbles or blocks.
  {
    const int64_t nb = 3;
    std::vector<BlockQ8_0> x(static_cast<size_t>(nb));
    for (int64_t b = 0; b < nb; ++b) {
      x[size_t(b)].d = 0x3400;
      for (int j = 0; j < 32; ++j) x[size_t(b)].qs[j] = int8_t(j + 1 + 32 * b);
    }
    char what[64];
    for (int64_t b = 0; b < nb; ++b)
      for (int p = 0; p < 32; ++p) {
        std::snprintf(what, sizeof what, "one-hot block %lld element %d", (long long)b, p);
        const float want = float(p + 1 + 32 * b) * 0.5f;
        std::vector<BlockQ8_0> w8(size_t(nb), q8_const(0x4000, 0));
        w8[size_t(b)].qs[p] = 1;
        expect_exact(what, w8, x, want);
        std::vector<BlockQ4_0> w4(size_t(nb), q4_const(0x4000, 0));
        uint8_t& byte = w4[size_t(b)].qs[p % 16];
        byte = p < 16 ? uint8_t((byte & 0xF0) | 9) : uint8_t((byte & 0x0F) | (9 << 4));
        expect_exact(what, w4, x, want);
      }
  }
}

// Random levels at scale 1.0 and few blocks: the float result is the exact integer sum.
void check_integer_part(std::mt19937& rng) {
  g_section = "integer part exact";
  std::uniform_int_distribution<int> lv(-127, 127), nib(0, 255);
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t nb = 1 + trial % 9;
    const bool extreme = trial % 4 == 0;
    std::vector<BlockQ8_0> w8(static_cast<size_t>(nb)), x(static_cast<size_t>(nb));
    std::vector<BlockQ4_0> w4(static_cast<size_t>(nb));
    int64_t e8 = 0, e4 = 0;
    for (size_t b = 0; b < size_t(nb); ++b) {
      w8[b].d = x[b].d = w4[b].d = 0x3C00;
      for (int j = 0; j < 32; ++j) {
        w8[b].qs[j] = int8_t(extreme ? (j % 2 ? 127 : -127) : lv(rng));
        x[b].qs[j] = int8_t(extreme ? -127 : lv(rng));
      }
      for (int j = 0; j < 16; ++j) w4[b].qs[j] = uint8_t(nib(rng));
      for (int j = 0; j < 32; ++j) {
        e8 += int64_t(w8[b].qs[j]) * x[b].qs[j];
        e4 += int64_t(level(w4[b], j)) * x[b].qs[j];
      }
    }
    expect_exact("random levels", w8, x, float(e8));
    expect_exact("random levels", w4, x, float(e4));
  }
}

// ---- activation quantization: the same bytes as quantize_row_q8_0 ----

// NEON's quantize_row_q8_0_act against quantize_row_q8_0 on x (whole blocks), byte for byte.
void compare_act(const std::vector<float>& x, const char* what) {
  const int64_t nb = int64_t(x.size()) / kBlockWeights;
  const Guarded<float> gx(x);
  const std::vector<BlockQ8_0> ref = q8(x);
  Guarded<BlockQ8_0> got(static_cast<size_t>(nb));
  std::memset(static_cast<void*>(got.data()), 0x55, got.size() * sizeof(BlockQ8_0));
  neon().quantize_row_q8_0_act(gx.data(), got.data(), nb * 32);
  for (size_t b = 0; b < size_t(nb); ++b) {
    ++g_checks;
    if (std::memcmp(&got[b], &ref[b], sizeof(BlockQ8_0)) != 0) {
      int j = 0;
      while (j < 32 && got[b].qs[j] == ref[b].qs[j]) ++j;
      if (got[b].d != ref[b].d)
        fail("%s nb %lld block %zu: d 0x%04x, want 0x%04x", what, (long long)nb, b, got[b].d, ref[b].d);
      else
        fail("%s nb %lld block %zu element %d (x %.9g): level %d, want %d", what, (long long)nb, b, j,
             double(x[b * 32 + size_t(j)]), got[b].qs[j], ref[b].qs[j]);
    }
    for (int j = 0; j < 32; ++j)
      if (got[b].qs[j] == -128) fail("%s nb %lld block %zu element %d: level -128", what, (long long)nb, b, j);
  }
}

// The scalar Q4_0 quantizer rounds x * (1/d) before adding 8.5, as ggml does, also where the
// compiler could fuse the two into one fma (aarch64 has it in every CPU): tests/quant/gguf's
// BlocksQ4_0.ProductRoundedBeforeTheOffset, whose bytes are derived there by hand.
void check_q4_rounding() {
  g_section = "quantize_row_q4_0 rounding";
  std::vector<float> x(32, 0.0f);
  x[0] = 7.0f;
  x[1] = 3.9375f;
  BlockQ4_0 b;
  dsinfer::quantize_row_q4_0(x.data(), &b, 32);
  ++g_checks;
  if (b.d != 0xBB00 || b.qs[0] != 0x80 || b.qs[1] != 0x84)
    fail("7, 3.9375: d 0x%04X qs 0x%02X 0x%02X, want 0xBB00 0x80 0x84 (0x83: the product was not rounded)", b.d,
         b.qs[0], b.qs[1]);
}

void check_quantize_act(std::mt19937& rng) {
  g_section = "quantize_row_q8_0_act";
  char what[64];
  for (int64_t nb : {1, 2, 3, 5, 7, 8, 9, 64, 100}) {
    for (float scale : {3.0f, 1e-3f, 1e4f}) {
      std::vector<float> x = random_floats(rng, nb * 32, scale);
      // Special blocks: all zero; one tiny value (fp16-subnormal scale); subnormal floats (the
      // reciprocal scale overflows); exact halves after scaling (amax 127 gives id 1, so k + 0.5
      // rounds away from zero), the largest magnitude negative; huge values.
      auto blk = [&](int64_t b, int j) -> float& { return x[size_t(b * 32 + j)]; };
      if (nb >= 5) {
        for (int j = 0; j < 32; ++j) blk(0, j) = 0.0f;
        blk(1, 5) = 1e-30f;
        for (int j = 0; j < 32; ++j) blk(2, j) = j == 0 ? 127.0f : float(j) - 16.5f;
        for (int j = 0; j < 32; ++j) blk(3, j) = j == 7 ? -127.0f : 16.5f - float(j);
        for (int j = 0; j < 32; ++j) blk(4, j) = j % 3 == 0 ? 1e-40f * float(j - 15) : 0.0f;
      }
      if (nb >= 64)
        for (int j = 0; j < 32; ++j) blk(10, j) = float(j - 16) * 1e4f;
      std::snprintf(what, sizeof what, "normal(0, %g)", double(scale));
      compare_act(x, what);
    }
  }
  // Values that scale to within a few ulps of k + 0.5 for random block maxima: the rounding of
  // the scale, its reciprocal and the product must all be quantize_row_q8_0's (1 / (amax / 127),
  // not 127 / amax; no fused multiply-add) or some levels come out one off.
  std::uniform_real_distribution<float> mag(-6.0f, 6.0f);
  std::uniform_int_distribution<int> lv(-127, 126);
  std::vector<float> x(size_t(2000 * 32));
  for (size_t b = 0; b < 2000; ++b) {
    const float amax = std::exp2(mag(rng)) * (b % 2 ? -1.0f : 1.0f);
    const float step = amax / 127.0f;
    for (size_t j = 0; j < 32; ++j) x[b * 32 + j] = j == b % 32 ? amax : (float(lv(rng)) + 0.5f) * step;
  }
  compare_act(x, "near halves");
}

// ---- random shapes against the scalar reference ----

// gemm over rows [row0, row1) and n_tok tokens; every element against scalar dot (and NEON
// dot), rows outside the range must stay untouched.
template <class Block>
void check_gemm_case(std::mt19937& rng, int64_t rows, int64_t nb, int64_t n_tok, int64_t row0, int64_t row1) {
  const Guarded<Block> W(Ops<Block>::quant(random_floats(rng, rows * nb * 32, 0.05f)));
  const Guarded<BlockQ8_0> X(q8(random_floats(rng, n_tok * nb * 32, 2.0f)));
  Guarded<float> y(size_t(rows * n_tok));
  for (size_t i = 0; i < y.size(); ++i) y[i] = -999.0f;
  Ops<Block>::gemm(neon())(W.data(), rows, nb, X.data(), n_tok, y.data(), row0, row1);
  // The scalar gemm too, as the reference's own consistency check.
  std::vector<float> ref(size_t(rows * n_tok), -999.0f);
  Ops<Block>::gemm(scalar())(W.data(), rows, nb, X.data(), n_tok, ref.data(), row0, row1);
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      ++g_checks;
      const size_t i = size_t(t * rows + r);
      if (r < row0 || r >= row1) {
        if (y[i] != -999.0f)
          fail("%s gemm rows %lld nb %lld n_tok %lld range [%lld,%lld): wrote row %lld token %lld", Ops<Block>::name,
               (long long)rows, (long long)nb, (long long)n_tok, (long long)row0, (long long)row1, (long long)r,
               (long long)t);
        continue;
      }
      const Block* w = W.data() + r * nb;
      const BlockQ8_0* x = X.data() + t * nb;
      const float want = Ops<Block>::dot(scalar())(w, x, nb);
      const double tol = tolerance(w, x, nb);
      if (!close(y[i], want, tol))
        fail("%s gemm rows %lld nb %lld n_tok %lld range [%lld,%lld) row %lld token %lld: %.9g, scalar %.9g (tol %.3g)",
             Ops<Block>::name, (long long)rows, (long long)nb, (long long)n_tok, (long long)row0, (long long)row1,
             (long long)r, (long long)t, double(y[i]), double(want), tol);
      if (ref[i] != want)
        fail("scalar %s gemm differs from scalar dot at row %lld token %lld", Ops<Block>::name, (long long)r,
             (long long)t);
      const float d = Ops<Block>::dot(neon())(w, x, nb);
      if (!close(d, want, tol))
        fail("%s dot nb %lld row %lld token %lld: %.9g, scalar %.9g (tol %.3g)", Ops<Block>::name, (long long)nb,
             (long long)r, (long long)t, double(d), double(want), tol);
    }
}

template <class Block>
void check_gemm(std::mt19937& rng) {
  // Token counts around the 16-token register chunk; rows and block counts not multiples of
  // anything; each with the full range, an inner sub-range, one row and an empty range.
  struct Shape {
    int64_t rows, nb;
  };
  const Shape shapes[] = {{1, 1}, {3, 2}, {5, 3}, {7, 5}, {13, 8}, {17, 11}, {4, 17}, {33, 1}, {2, 7}};
  for (int64_t n_tok : {1, 2, 7, 16, 17, 33}) {
    int s = 0;
    for (const Shape& sh : shapes) {
      const int64_t rows = sh.rows, nb = sh.nb;
      check_gemm_case<Block>(rng, rows, nb, n_tok, 0, rows);
      if (rows > 2) check_gemm_case<Block>(rng, rows, nb, n_tok, 1, rows - 1);
      const int64_t r = (s++ * 5) % rows;
      check_gemm_case<Block>(rng, rows, nb, n_tok, r, r + 1);
      check_gemm_case<Block>(rng, rows, nb, n_tok, r, r);
    }
  }
  // Random shapes: n_tok 1..40, rows 1..40, 1..40 blocks, random sub-range.
  std::uniform_int_distribution<int64_t> tok(1, 40), rws(1, 40), blk(1, 40);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t rows = rws(rng), nb = blk(rng), n_tok = tok(rng);
    std::uniform_int_distribution<int64_t> pick(0, rows);
    int64_t a = pick(rng), b = pick(rng);
    if (a > b) std::swap(a, b);
    check_gemm_case<Block>(rng, rows, nb, n_tok, a, b);
  }
  // Wide rows: many blocks per dot (the float accumulation order matters most here).
  check_gemm_case<Block>(rng, 3, 800, 16, 0, 3);
}

template <class Block>
void check_dot(std::mt19937& rng) {
  for (int64_t nb = 1; nb <= 40; ++nb)
    for (int rep = 0; rep < 3; ++rep) {
      ++g_checks;
      const Guarded<Block> w(Ops<Block>::quant(random_floats(rng, nb * 32, rep == 2 ? 10.0f : 0.05f)));
      const Guarded<BlockQ8_0> x(q8(random_floats(rng, nb * 32, rep == 1 ? 1e-3f : 2.0f)));
      const float want = Ops<Block>::dot(scalar())(w.data(), x.data(), nb);
      const float got = Ops<Block>::dot(neon())(w.data(), x.data(), nb);
      const double tol = tolerance(w.data(), x.data(), nb);
      if (!close(got, want, tol))
        fail("%s dot nb %lld rep %d: %.9g, scalar %.9g (tol %.3g)", Ops<Block>::name, (long long)nb, rep, double(got),
             double(want), tol);
    }
}

// ---- row-group products and integer attention: bit for bit the scalar reference ----

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

const Kernels& scalar_full() {
  static const Kernels k = [] {
    Kernels t{};
    dsinfer::simd::detail::add_quant_scalar(t);
    t.latent_scores_q8 = dsinfer::simd::detail::latent_scores_q8_scalar;
    t.latent_wsum_q8 = dsinfer::simd::detail::latent_wsum_q8_scalar;
    return t;
  }();
  return k;
}

// groups row groups of nb blocks (random levels over the whole byte range, -128 included for
// Q8_0; random scales) against n_tok tokens, groups [g0, g1), outputs with row stride ldy.
template <bool kQ4>
void check_r16_case(std::mt19937& rng, int64_t groups, int64_t nb, int64_t n_tok, int64_t g0, int64_t g1,
                    bool extreme) {
  const size_t gb = kQ4 ? dsinfer::kQ4GroupBlockBytes : dsinfer::kQ8GroupBlockBytes;
  std::vector<uint8_t> w(size_t(groups * nb) * gb);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& v : w) v = uint8_t(extreme ? (byte(rng) & 1 ? (kQ4 ? 0xFF : 0x80) : (kQ4 ? 0x00 : 0x7F)) : byte(rng));
  std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
  for (int64_t b = 0; b < groups * nb; ++b)
    for (int r = 0; r < 16; ++r) {
      const uint16_t d = dsinfer::f32_to_fp16(extreme ? 0.0078125f : scale(rng));
      std::memcpy(w.data() + size_t(b) * gb + 2 * size_t(r), &d, 2);
    }
  const Guarded<uint8_t> W(w);
  std::vector<BlockQ8_0> xs = q8(random_floats(rng, n_tok * nb * 32, 2.0f));
  if (extreme)
    for (auto& x : xs)
      for (auto& l : x.qs) l = int8_t(byte(rng) & 1 ? 127 : -127);
  const Guarded<BlockQ8_0> X(xs);
  const int64_t ldy = groups * 16 + 3;
  Guarded<float> y(size_t(n_tok * ldy));
  std::vector<float> ref(size_t(n_tok * ldy), -999.0f);
  for (size_t i = 0; i < y.size(); ++i) y[i] = -999.0f;
  auto& kn = dsinfer::simd::kernels();
  (kQ4 ? kn.gemm_q4_0_r16 : kn.gemm_q8_0_r16)(W.data(), nb, X.data(), n_tok, y.data(), ldy, g0, g1);
  (kQ4 ? scalar_full().gemm_q4_0_r16 : scalar_full().gemm_q8_0_r16)(W.data(), nb, X.data(), n_tok, ref.data(), ldy,
                                                                     g0, g1);
  for (size_t i = 0; i < y.size(); ++i) {
    ++g_checks;
    if (!same_bits(y[i], ref[i]))
      fail("%s r16 groups %lld nb %lld n_tok %lld range [%lld,%lld)%s: token %lld row %lld %.9g, scalar %.9g",
           kQ4 ? "q4_0" : "q8_0", (long long)groups, (long long)nb, (long long)n_tok, (long long)g0, (long long)g1,
           extreme ? " extreme" : "", (long long)(int64_t(i) / ldy), (long long)(int64_t(i) % ldy), double(y[i]),
           double(ref[i]));
  }
}

template <bool kQ4>
void check_r16(std::mt19937& rng) {
  ++g_checks;
  if (!dsinfer::simd::kernels().r16_native) fail("the neon table's row-group products are not its own");
  for (int64_t n_tok : {1, 2, 3, 4, 5, 7, 8, 9, 17})
    for (int64_t nb : {1, 2, 5, 17, 64}) {
      check_r16_case<kQ4>(rng, 6, nb, n_tok, 0, 6, false);
      check_r16_case<kQ4>(rng, 6, nb, n_tok, 1, 5, false);
      check_r16_case<kQ4>(rng, 3, nb, n_tok, 2, 2, false);
    }
  for (int64_t n_tok : {1, 4, 6})
    for (int64_t nb : {1, 3, 40}) check_r16_case<kQ4>(rng, 2, nb, n_tok, 0, 2, true);
  // More tokens than the kernel prepares scales and sums for at once (4,096 token-blocks), and the
  // widest rows repacked (kR16MaxBlocks) with a whole tile (exactly 4,096) and one token more.
  check_r16_case<kQ4>(rng, 5, 64, 67, 0, 5, false);
  check_r16_case<kQ4>(rng, 1, dsinfer::kR16MaxBlocks, 4, 0, 1, false);
  check_r16_case<kQ4>(rng, 1, dsinfer::kR16MaxBlocks, 5, 0, 1, false);
  // A real repack: rows quantized as the model's are, then grouped (simd/repack.h).
  std::vector<float> f = random_floats(rng, 32 * 8 * 32, 0.05f);
  std::vector<uint8_t> g(2 * 8 * (kQ4 ? dsinfer::kQ4GroupBlockBytes : dsinfer::kQ8GroupBlockBytes));
  if constexpr (kQ4) {
    const auto rows = q4(f);
    for (int i = 0; i < 2; ++i) dsinfer::repack_q4_0_rows(rows.data() + 16 * 8 * i, 8, g.data() + size_t(i) * 8 * 288);
  } else {
    const auto rows = q8(f);
    for (int i = 0; i < 2; ++i) dsinfer::repack_q8_0_rows(rows.data() + 16 * 8 * i, 8, g.data() + size_t(i) * 8 * 544);
  }
  const auto x = q8(random_floats(rng, 3 * 8 * 32, 1.0f));
  std::vector<float> a(3 * 32), b(3 * 32);
  auto& kn = dsinfer::simd::kernels();
  (kQ4 ? kn.gemm_q4_0_r16 : kn.gemm_q8_0_r16)(g.data(), 8, x.data(), 3, a.data(), 32, 0, 2);
  (kQ4 ? scalar_full().gemm_q4_0_r16 : scalar_full().gemm_q8_0_r16)(g.data(), 8, x.data(), 3, b.data(), 32, 0, 2);
  for (size_t i = 0; i < a.size(); ++i) {
    ++g_checks;
    if (!same_bits(a[i], b[i])) fail("%s r16 of repacked rows, output %zu: %.9g, scalar %.9g", kQ4 ? "q4_0" : "q8_0", i,
                                     double(a[i]), double(b[i]));
  }
}

// Latent cache rows (tests/simd/random_blocks.h); every third has a block with the extreme levels
// -128 and 127 and a subnormal fp16 scale, which the cache never writes but a kernel must take as
// the reference does.
std::vector<std::vector<uint8_t>> cache_rows(std::mt19937& rng, int64_t ns, int64_t latent, int64_t rope) {
  auto rows = dsinfer::test::latent_cache_rows(rng, ns, latent, rope);
  const int64_t nblocks = latent / kBlockWeights;
  for (int64_t s = 2; s < ns; s += 3) {
    BlockQ8_0 e;
    e.d = uint16_t(0x0001 + 0x3FE * (s % 2));  // 2^-24, or just below the smallest normal
    for (int j = 0; j < kBlockWeights; ++j) e.qs[j] = int8_t(j % 2 ? 127 : -128);
    std::memcpy(rows[size_t(s)].data() + size_t(s % nblocks) * sizeof(BlockQ8_0), &e, sizeof e);
  }
  return rows;
}

// Each row in its own guarded buffer (a kernel reading past a row's end stops), and their addresses.
struct GuardedRows {
  explicit GuardedRows(const std::vector<std::vector<uint8_t>>& rows) {
    for (const auto& r : rows) {
      owned.push_back(std::make_unique<Guarded<uint8_t>>(r));
      ptrs.push_back(owned.back()->data());
    }
  }
  std::vector<std::unique_ptr<Guarded<uint8_t>>> owned;
  std::vector<const uint8_t*> ptrs;
};

// The NEON packing (already in q) against the scalar one: the same bytes.
void check_pack(const dsinfer::simd::LatentQueryQ8& q, const float* lat, int64_t lat_stride, const float* rope,
                int64_t rope_stride) {
  dsinfer::simd::LatentQueryBuffer ref;
  ref.reserve(q.heads, q.blocks * kBlockWeights, q.rope);
  dsinfer::simd::detail::latent_pack_q8_scalar(lat, lat_stride, rope, rope_stride, 0.0721f, ref.query());
  const auto& r = ref.query();
  const size_t gb = size_t(q.groups * q.blocks * dsinfer::simd::kScoreHeads);
  ++g_checks;
  if (q.scale != r.scale || std::memcmp(q.q, r.q, gb * kBlockWeights) != 0 || std::memcmp(q.d, r.d, gb * 4) != 0 ||
      std::memcmp(q.corr, r.corr, gb * 4) != 0 ||
      std::memcmp(q.rope_q, r.rope_q, size_t(q.groups * q.rope * dsinfer::simd::kScoreHeads) * 4) != 0)
    fail("packed query of %lld heads, %lld blocks, rope %lld differs from the scalar packing", (long long)q.heads,
         (long long)q.blocks, (long long)q.rope);
}

void check_latent(std::mt19937& rng) {
  const auto& kn = dsinfer::simd::kernels();
  ++g_checks;
  if (!kn.latent_scores_native || !kn.latent_wsum_exact) fail("the neon table's latent kernels are not its own, exact");
  g_section = "latent scores";
  struct Case {
    int64_t heads, latent, rope;
  };
  for (const Case c : {Case{16, 512, 64}, Case{1, 32, 0}, Case{2, 64, 1}, Case{20, 96, 64}, Case{128, 512, 64},
                       Case{17, 32, 3}})
    for (int64_t ns : {1, 2, 3, 5, 9, 40}) {
      dsinfer::simd::LatentQueryBuffer buf;
      buf.reserve(c.heads, c.latent, c.rope);
      const auto lat = random_floats(rng, c.heads * (c.latent + 5), 1.0f);
      const auto rope = random_floats(rng, c.heads * (c.rope + 2), 1.0f);
      dsinfer::simd::pack_latent_query_q8(lat.data(), c.latent + 5, rope.data(), c.rope + 2, 0.0721f, buf.query());
      if (ns == 1) check_pack(buf.query(), lat.data(), c.latent + 5, rope.data(), c.rope + 2);
      const GuardedRows rows(cache_rows(rng, ns, c.latent, c.rope));
      const int64_t ldo = ns + 3;
      Guarded<float> got(size_t(c.heads * ldo));  // a write past the last head's row stops the check
      std::vector<float> want(size_t(c.heads * ldo), -7.0f);
      for (size_t i = 0; i < got.size(); ++i) got[i] = -7.0f;
      kn.latent_scores_q8(buf.query(), rows.ptrs.data(), ns, got.data(), ldo);
      scalar_full().latent_scores_q8(buf.query(), rows.ptrs.data(), ns, want.data(), ldo);
      for (size_t i = 0; i < got.size(); ++i) {
        ++g_checks;
        if (!same_bits(got[i], want[i]))
          fail("heads %lld latent %lld rope %lld ns %lld: head %lld position %lld %.9g, scalar %.9g",
               (long long)c.heads, (long long)c.latent, (long long)c.rope, (long long)ns, (long long)(int64_t(i) / ldo),
               (long long)(int64_t(i) % ldo), double(got[i]), double(want[i]));
      }
    }
  // Halves: 127 sets the scale to 1, so the others round from exactly k + 0.5 (to even: 2, -4, 0).
  {
    std::vector<float> lat(32, 0.0f);
    lat[0] = 127.0f;
    lat[1] = 2.5f;
    lat[2] = -3.5f;
    lat[3] = 0.5f;
    dsinfer::simd::LatentQueryBuffer buf;
    buf.reserve(1, 32, 0);
    dsinfer::simd::pack_latent_query_q8(lat.data(), 32, nullptr, 0, 0.0721f, buf.query());
    check_pack(buf.query(), lat.data(), 32, nullptr, 0);
  }
  g_section = "latent weighted sum";
  for (int64_t nh : {1, 2, 3, 4, 5, 7, 16, 21})
    for (int64_t latent : {32, 64, 512})
      for (int64_t ns : {0, 1, 6, 33, 300}) {
        if (ns == 300 && nh != 5) continue;  // more positions than NEON's buffer holds (256)
        const GuardedRows rows(cache_rows(rng, ns, latent, 64));
        const int64_t ldp = ns + 2;
        const auto p = random_floats(rng, nh * ldp, 0.3f);
        for (int64_t n : {int64_t(16), latent}) {
          Guarded<float> got(size_t(nh * n));
          for (size_t i = 0; i < got.size(); ++i) got[i] = -7.0f;  // no position: zeros must be written
          std::vector<float> want(size_t(nh * n));
          kn.latent_wsum_q8(p.data(), ldp, nh, rows.ptrs.data(), ns, n, got.data());
          scalar_full().latent_wsum_q8(p.data(), ldp, nh, rows.ptrs.data(), ns, n, want.data());
          for (size_t i = 0; i < want.size(); ++i) {
            ++g_checks;
            if (!same_bits(got[i], want[i]))
              fail("heads %lld latent %lld ns %lld n %lld: head %lld value %lld %.9g, scalar %.9g", (long long)nh,
                   (long long)latent, (long long)ns, (long long)n, (long long)(int64_t(i) / n),
                   (long long)(int64_t(i) % n), double(got[i]), double(want[i]));
          }
        }
      }
}

// ---- float vector kernels ----


const Kernels& vscalar() { return scalar(); }
const Kernels& vneon() { return neon(); }

// Lengths around NEON's 4-float batch and the 2-batch dot / weighted_sum step, with tails, and the
// model's sizes (512 latent, 576 latent + rope).
constexpr int64_t kVecSizes[] = {1, 3, 15, 16, 17, 31, 32, 33, 64, 100, 512, 576, 1000};

// A guarded copy of v, owned by a pointer (Guarded neither copies nor moves).
std::unique_ptr<Guarded<float>> guarded(const std::vector<float>& v) { return std::make_unique<Guarded<float>>(v); }

double abs_dot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(double(a[i]) * double(b[i]));
  return s;
}

// Sums in another order (NEON: 4 lanes, 2 accumulators, fma, then a horizontal add) differ from
// the scalar loop by a few rounding units of sum |terms|: 1e-6 is about 17 units (u = 2^-24);
// random inputs use at most about a third of it. Exp-based results: xsimd's exp against
// std::exp, a relative 2e-6 (elements come within 2 units). The 1e-30 / 1e-37 terms cover
// results that underflow.
constexpr double kSumTol = 1e-6, kExpTol = 2e-6;

void check_vec_random(std::mt19937& rng) {
  const Kernels &k = vneon(), &ref = vscalar();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t n : kVecSizes) {
    const std::vector<float> av = random_floats(rng, n, 1.0f), bv = random_floats(rng, n, 2.0f);
    const Guarded<float> a(av), b(bv);

    g_section = "vec dot";
    {
      ++g_checks;
      const float got = k.dot(a.data(), b.data(), n), want = ref.dot(a.data(), b.data(), n);
      const double tol = kSumTol * abs_dot(a.data(), b.data(), n) + 1e-30;
      if (!close(got, want, tol))
        fail("n %lld: %.9g, scalar %.9g (tol %.3g)", (long long)n, double(got), double(want), tol);
    }

    g_section = "vec axpy";
    {
      const std::vector<float> y0 = random_floats(rng, n, 1.0f);
      Guarded<float> y(y0);
      std::vector<float> want = y0;
      const float alpha = 0.37f;
      k.axpy(alpha, a.data(), y.data(), n);
      ref.axpy(alpha, a.data(), want.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        ++g_checks;
        const size_t j = size_t(i);
        const double tol = kSumTol * (std::fabs(y0[j]) + std::fabs(double(alpha) * a[j])) + 1e-30;
        if (!close(y[j], want[j], tol))
          fail("n %lld i %lld: %.9g, scalar %.9g (tol %.3g)", (long long)n, (long long)i, double(y[j]), double(want[j]),
               tol);
      }
    }

    g_section = "vec dot_tile";
    for (int64_t nq : {1, 3, 4, 5, 16}) {
      // Queries ldq apart with NaN in the gaps, the last one ending at the guard page: reading a
      // gap makes the result NaN, reading past the last query crashes.
      const int64_t ldq = n + 3;
      std::vector<float> qv(size_t((nq - 1) * ldq + n), nan);
      for (int64_t h = 0; h < nq; ++h) {
        const std::vector<float> r = random_floats(rng, n, 1.0f);
        std::copy(r.begin(), r.end(), qv.begin() + h * ldq);
      }
      const Guarded<float> q(qv);
      Guarded<float> out(static_cast<size_t>(nq));
      std::vector<float> want(size_t(nq), -999.0f);
      for (int64_t h = 0; h < nq; ++h) out[size_t(h)] = -999.0f;
      // Five rows (a whole tile of four and one over), all the same vector.
      const float* rows[5] = {b.data(), b.data(), b.data(), b.data(), b.data()};
      std::vector<float> tile(size_t(nq * 5)), tile_want(size_t(nq * 5));
      k.dot_tile(q.data(), ldq, nq, rows, 5, n, tile.data(), 5);
      ref.dot_tile(q.data(), ldq, nq, rows, 5, n, tile_want.data(), 5);
      for (int64_t h = 0; h < nq; ++h) {
        out[size_t(h)] = tile[size_t(h * 5 + 4)];
        want[size_t(h)] = tile_want[size_t(h * 5)];
        for (int s = 0; s < 4; ++s) {
          ++g_checks;
          if (!close(tile[size_t(h * 5 + s)], tile_want[size_t(h * 5 + s)],
                     kSumTol * abs_dot(q.data() + h * ldq, b.data(), n) + 1e-30))
            fail("dot_tile n %lld nq %lld h %lld row %d", (long long)n, (long long)nq, (long long)h, s);
        }
      }
      for (int64_t h = 0; h < nq; ++h) {
        ++g_checks;
        const size_t j = size_t(h);
        const double tol = kSumTol * abs_dot(q.data() + h * ldq, b.data(), n) + 1e-30;
        if (!close(out[j], want[j], tol))
          fail("n %lld nq %lld ldq %lld h %lld: %.9g, scalar %.9g (tol %.3g)", (long long)n, (long long)nq,
               (long long)ldq, (long long)h, double(out[j]), double(want[j]), tol);
      }
    }

    g_section = "vec weighted_sum";
    for (int64_t nh : {1, 3, 4, 5, 16})
      for (int64_t ns : {1, 7, 33}) {
        // p rows ldp apart (NaN in the gaps), each value row and the row-pointer array on
        // their own guarded buffers.
        const int64_t ldp = ns + 2;
        std::vector<float> pv(size_t((nh - 1) * ldp + ns), nan);
        for (int64_t h = 0; h < nh; ++h) {
          const std::vector<float> r = random_floats(rng, ns, 1.0f);
          std::copy(r.begin(), r.end(), pv.begin() + h * ldp);
        }
        const Guarded<float> p(pv);
        std::vector<std::unique_ptr<Guarded<float>>> rv;
        Guarded<const float*> rows(static_cast<size_t>(ns));
        for (int64_t s = 0; s < ns; ++s) {
          rv.push_back(guarded(random_floats(rng, n, 1.0f)));
          rows[size_t(s)] = rv.back()->data();
        }
        const std::vector<float> o0 = random_floats(rng, nh * n, 1.0f);
        Guarded<float> o(o0);
        std::vector<float> want = o0;
        k.weighted_sum(p.data(), ldp, nh, rows.data(), ns, n, o.data());
        ref.weighted_sum(p.data(), ldp, nh, rows.data(), ns, n, want.data());
        int64_t bad = 0;
        for (int64_t h = 0; h < nh; ++h)
          for (int64_t i = 0; i < n; ++i) {
            ++g_checks;
            const size_t j = size_t(h * n + i);
            double mag = std::fabs(o0[j]);
            for (int64_t s = 0; s < ns; ++s)
              mag += std::fabs(double(p[size_t(h * ldp + s)]) * (*rv[size_t(s)])[size_t(i)]);
            const double tol = kSumTol * mag + 1e-30;
            if (!close(o[j], want[j], tol) && bad++ < 3)
              fail("n %lld nh %lld ns %lld: o[%lld][%lld] %.9g, scalar %.9g (tol %.3g)", (long long)n, (long long)nh,
                   (long long)ns, (long long)h, (long long)i, double(o[j]), double(want[j]), tol);
          }
        if (bad > 3) g_failures += bad - 3;  // counted, not printed
      }

    g_section = "vec exp_shift_sum";
    // Softmax as the attention uses it (shift = the maximum) and with another shift.
    for (int shift_kind = 0; shift_kind < 2; ++shift_kind) {
      const std::vector<float> x0 = random_floats(rng, n, 3.0f);
      const float shift = shift_kind == 0 ? *std::max_element(x0.begin(), x0.end()) : 2.5f;
      Guarded<float> x(x0);
      std::vector<float> want = x0;
      const float got_sum = k.exp_shift_sum(x.data(), n, shift);
      const float scalar_sum = ref.exp_shift_sum(want.data(), n, shift);
      // The sum against the scalar elements summed in double: the scalar's own sequential float
      // sum errs by up to ~1e-6 relative at n = 1000, as much as the whole exp tolerance.
      double want_sum = 0;
      for (const float e : want) want_sum += e;
      ++g_checks;
      if (!close(got_sum, float(want_sum), kExpTol * want_sum + 1e-37))
        fail("n %lld shift %g: sum %.9g, scalar elements %.9g (scalar sum %.9g)", (long long)n, double(shift),
             double(got_sum), want_sum, double(scalar_sum));
      for (int64_t i = 0; i < n; ++i) {
        ++g_checks;
        const size_t j = size_t(i);
        if (!close(x[j], want[j], kExpTol * std::fabs(want[j]) + 1e-37))
          fail("n %lld shift %g: exp(%.9g - shift) %.9g, scalar %.9g", (long long)n, double(shift), double(x0[j]),
               double(x[j]), double(want[j]));
      }
    }

    g_section = "vec silu_mul";
    {
      const std::vector<float> g0 = random_floats(rng, n, 4.0f);
      Guarded<float> g(g0);
      std::vector<float> want = g0;
      k.silu_mul(g.data(), b.data(), n);
      ref.silu_mul(want.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        ++g_checks;
        const size_t j = size_t(i);
        if (!close(g[j], want[j], kExpTol * std::fabs(want[j]) + 1e-37))
          fail("n %lld: silu(%.9g) * %.9g = %.9g, scalar %.9g", (long long)n, double(g0[j]), double(b[j]), double(g[j]),
               double(want[j]));
      }
    }
  }
}

// The cache-row conversions must match the scalar table (and dtype.h / blocks.cpp) bit for bit,
// NaN and subnormal inputs included.
void check_vec_conversions(std::mt19937& rng) {
  const Kernels &k = vneon(), &ref = vscalar();
  std::uniform_int_distribution<int> bits(0, 0xFFFF), lv(-128, 127);

  g_section = "vec bf16_to_f32";
  std::vector<int64_t> sizes(std::begin(kVecSizes), std::end(kVecSizes));
  sizes.push_back(65536);  // every bf16 bit pattern, in order
  for (int64_t n : sizes) {
    std::vector<uint16_t> xv(static_cast<size_t>(n));
    for (size_t i = 0; i < xv.size(); ++i) xv[i] = uint16_t(n == 65536 ? int(i) : bits(rng));
    const Guarded<uint16_t> x(xv);
    Guarded<float> y(static_cast<size_t>(n));
    std::vector<float> want(static_cast<size_t>(n));
    k.bf16_to_f32(x.data(), y.data(), n);
    ref.bf16_to_f32(x.data(), want.data(), n);
    int64_t bad = 0;
    for (size_t i = 0; i < size_t(n); ++i) {
      ++g_checks;
      if ((!same_bits(y[i], want[i]) || !same_bits(want[i], dsinfer::bf16_to_f32(xv[i]))) && bad++ < 3)
        fail("n %lld i %zu: bf16 0x%04x -> %a, scalar %a", (long long)n, i, xv[i], double(y[i]), double(want[i]));
    }
    if (bad > 3) g_failures += bad - 3;
  }

  g_section = "vec q8_0_to_f32";
  for (int64_t n : {32, 64, 96, 160, 512, 576, 1024}) {
    // Half the cases quantized activations; the rest any fp16 scale bits (negative, subnormal,
    // inf, NaN) and any levels, -128 included.
    for (int kind = 0; kind < 2; ++kind) {
      std::vector<BlockQ8_0> xv;
      if (kind == 0) {
        xv = q8(random_floats(rng, n, 2.0f));
      } else {
        xv.resize(size_t(n / kBlockWeights));
        for (BlockQ8_0& blk : xv) {
          blk.d = uint16_t(bits(rng));
          for (int8_t& q : blk.qs) q = int8_t(lv(rng));
        }
      }
      const Guarded<BlockQ8_0> x(xv);
      Guarded<float> y(static_cast<size_t>(n));
      std::vector<float> want(static_cast<size_t>(n)), deq(static_cast<size_t>(n));
      k.q8_0_to_f32(x.data(), y.data(), n);
      ref.q8_0_to_f32(x.data(), want.data(), n);
      dsinfer::dequantize_row_q8_0(x.data(), deq.data(), n);
      int64_t bad = 0;
      for (size_t i = 0; i < size_t(n); ++i) {
        ++g_checks;
        if ((!same_bits(y[i], want[i]) || !same_bits(want[i], deq[i])) && bad++ < 3)
          fail("n %lld kind %d i %zu: d 0x%04x level %d -> %a, scalar %a, dequantize_row_q8_0 %a", (long long)n, kind,
               i, xv[i / 32].d, xv[i / 32].qs[i % 32], double(y[i]), double(want[i]), double(deq[i]));
      }
      if (bad > 3) g_failures += bad - 3;
    }
  }
}

// Integer-valued inputs whose every partial sum is exact: both tables must give the exact answer
// for every length 0..70 (every tail and batch count).
void check_vec_exact() {
  g_section = "vec exact: dot of ones with 0..36";
  for (const Kernels* k : {&vscalar(), &vneon()}) {
    ++g_checks;
    std::vector<float> iv(37);
    for (int i = 0; i < 37; ++i) iv[size_t(i)] = float(i);
    const Guarded<float> ones(std::vector<float>(37, 1.0f)), x(iv);
    const float got = k->dot(ones.data(), x.data(), 37);
    if (got != 666.0f) fail("%s: %.9g, want 666", k->isa, double(got));
  }

  g_section = "vec exact: integer sums";
  for (const Kernels* k : {&vscalar(), &vneon()})
    for (int64_t n = 0; n <= 70; ++n) {
      std::vector<float> iv(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) iv[size_t(i)] = float(i);
      const Guarded<float> x(iv), ones(std::vector<float>(size_t(n), 1.0f));
      const float tri = float(n * (n - 1) / 2);  // 0 + 1 + ... + n-1
      ++g_checks;
      if (const float got = k->dot(ones.data(), x.data(), n); got != tri)
        fail("%s dot n %lld: %.9g, want %.9g", k->isa, (long long)n, double(got), double(tri));

      {  // y = i + 2 * 1
        Guarded<float> y(iv);
        k->axpy(2.0f, ones.data(), y.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          ++g_checks;
          if (y[size_t(i)] != float(i + 2))
            fail("%s axpy n %lld: y[%lld] %.9g, want %lld", k->isa, (long long)n, (long long)i, double(y[size_t(i)]),
                 (long long)(i + 2));
        }
      }

      for (int64_t nq : {1, 4, 5, 9}) {  // query h all h + 1, ldq n + 1: (h + 1) * tri
        const int64_t ldq = n + 1;
        std::vector<float> qv(size_t(nq * ldq));
        for (int64_t h = 0; h < nq; ++h)
          for (int64_t i = 0; i < ldq; ++i) qv[size_t(h * ldq + i)] = i < n ? float(h + 1) : 1e30f;
        const Guarded<float> q(qv);
        Guarded<float> out(static_cast<size_t>(nq));
        const float* xr[5] = {x.data(), x.data(), x.data(), x.data(), x.data()};
        std::vector<float> tile(size_t(nq * 5));
        k->dot_tile(q.data(), ldq, nq, xr, 5, n, tile.data(), 5);
        for (int64_t h = 0; h < nq; ++h) out[size_t(h)] = tile[size_t(h * 5 + h % 5)];
        for (int64_t h = 0; h < nq; ++h) {
          ++g_checks;
          if (out[size_t(h)] != float(h + 1) * tri)
            fail("%s dot_tile n %lld nq %lld h %lld: %.9g, want %.9g", k->isa, (long long)n, (long long)nq,
                 (long long)h, double(out[size_t(h)]), double(float(h + 1) * tri));
        }
      }

      for (int64_t nh : {1, 4, 5})  // o[h][i] = h + sum over s of (s + 1) * (i + s)
        for (int64_t ns : {1, 3}) {
          const int64_t ldp = ns + 1;
          std::vector<float> pv(size_t(nh * ldp), 1e30f);
          for (int64_t h = 0; h < nh; ++h)
            for (int64_t s = 0; s < ns; ++s) pv[size_t(h * ldp + s)] = float(s + 1);
          const Guarded<float> p(pv);
          std::vector<std::unique_ptr<Guarded<float>>> rv;
          std::vector<const float*> rows;
          for (int64_t s = 0; s < ns; ++s) {
            std::vector<float> r(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) r[size_t(i)] = float(i + s);
            rv.push_back(guarded(r));
            rows.push_back(rv.back()->data());
          }
          std::vector<float> o0(size_t(nh * n));
          for (int64_t h = 0; h < nh; ++h)
            for (int64_t i = 0; i < n; ++i) o0[size_t(h * n + i)] = float(h);
          Guarded<float> o(o0);
          k->weighted_sum(p.data(), ldp, nh, rows.data(), ns, n, o.data());
          for (int64_t h = 0; h < nh; ++h)
            for (int64_t i = 0; i < n; ++i) {
              int64_t want = h;
              for (int64_t s = 0; s < ns; ++s) want += (s + 1) * (i + s);
              ++g_checks;
              if (o[size_t(h * n + i)] != float(want))
                fail("%s weighted_sum n %lld nh %lld ns %lld: o[%lld][%lld] %.9g, want %lld", k->isa, (long long)n,
                     (long long)nh, (long long)ns, (long long)h, (long long)i, double(o[size_t(h * n + i)]),
                     (long long)want);
            }
        }
    }

  g_section = "vec exact: exp and silu";
  for (const Kernels* k : {&vscalar(), &vneon()}) {
    // exp(0) = 1: 19 elements (4 batches and a tail of 3) sum to exactly 19.
    {
      Guarded<float> z(std::vector<float>(19, 0.0f));
      const float s = k->exp_shift_sum(z.data(), 19, 0.0f);
      ++g_checks;
      if (s != 19.0f) fail("%s exp_shift_sum of 19 zeros: %.9g, want 19", k->isa, double(s));
      for (int i = 0; i < 19; ++i) {
        ++g_checks;
        if (z[size_t(i)] != 1.0f) fail("%s exp(0) at %d: %.9g", k->isa, i, double(z[size_t(i)]));
      }
    }
    // Far below the shift, -inf included (a masked score): exactly 0 or a tiny subnormal; the
    // sum is the elements equal to the shift.
    {
      const float inf = std::numeric_limits<float>::infinity();
      Guarded<float> x(std::vector<float>{5.0f, -inf, -200.0f, 5.0f, -inf, -inf, -1000.0f, 5.0f, -inf});
      const float s = k->exp_shift_sum(x.data(), 9, 5.0f);
      ++g_checks;
      if (s != 3.0f) fail("%s exp_shift_sum with -inf: sum %.9g, want 3", k->isa, double(s));
      for (int i = 0; i < 9; ++i) {
        ++g_checks;
        const float want = (i == 0 || i == 3 || i == 7) ? 1.0f : 0.0f;
        if (!(x[size_t(i)] == want))
          fail("%s exp_shift_sum with -inf: element %d %.9g, want %g", k->isa, i, double(x[size_t(i)]), double(want));
      }
    }
    // silu(0) = 0, silu(v) ~ v for large v, ~ 0 for very negative v (exp(-v) overflowing).
    {
      const std::vector<float> in{0.0f, 20.0f, -20.0f, -100.0f, 100.0f, 1.0f, -1.0f, 0.0f, 20.0f};
      Guarded<float> g(in);
      const Guarded<float> u(std::vector<float>(in.size(), 1.0f));
      k->silu_mul(g.data(), u.data(), int64_t(in.size()));
      for (size_t i = 0; i < in.size(); ++i) {
        ++g_checks;
        const double v = in[i], want = v / (1.0 + std::exp(-v));
        if (!(std::fabs(g[i] - want) <= kExpTol * std::fabs(want) + 1e-37))
          fail("%s silu(%g) = %.9g, want %.9g", k->isa, v, double(g[i]), want);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned seed = argc > 1 ? unsigned(std::strtoul(argv[1], nullptr, 0)) : 20240601u;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  signal(SIGSEGV, on_segv);
  signal(SIGBUS, on_segv);

  // The kernels are compiled for armv8.2-a+dotprod; without asimddp they die on SIGILL.
  if (!(getauxval(AT_HWCAP) & HWCAP_ASIMDDP)) {
    std::printf("FAIL: this CPU has no asimddp (dot product); under qemu-aarch64 use -cpu max\n");
    return 2;
  }
  std::printf("neon_kernels_check: seed %u, tables \"%s\" vs \"%s\"\n", seed, neon().isa, scalar().isa);
  ++g_checks;
  if (std::strcmp(scalar().isa, "scalar") != 0 || std::strcmp(neon().isa, "neon") != 0)
    fail("table names: \"%s\", \"%s\"", scalar().isa, neon().isa);

  std::mt19937 rng(seed);
  check_exact();
  check_integer_part(rng);
  check_quantize_act(rng);
  check_q4_rounding();
  g_section = "dot q8_0";
  check_dot<BlockQ8_0>(rng);
  g_section = "dot q4_0";
  check_dot<BlockQ4_0>(rng);
  g_section = "gemm q8_0";
  check_gemm<BlockQ8_0>(rng);
  g_section = "gemm q4_0";
  check_gemm<BlockQ4_0>(rng);
  const double quant_worst = g_worst;
  g_section = "gemm q8_0 row groups";
  check_r16<false>(rng);
  g_section = "gemm q4_0 row groups";
  check_r16<true>(rng);
  check_latent(rng);

  // The float vector kernels.
  g_worst = 0;
  ++g_checks;
  if (std::strcmp(vscalar().isa, "scalar") != 0 || std::strcmp(vneon().isa, "neon") != 0)
    fail("vec table names: \"%s\", \"%s\"", vscalar().isa, vneon().isa);
  check_vec_exact();
  check_vec_random(rng);
  check_vec_conversions(rng);

  if (g_failures > kMaxPrinted)
    std::printf("... %lld more failures not shown\n", (long long)(g_failures - kMaxPrinted));
  std::printf(
      "neon_kernels_check: %lld checks, %lld failed; largest float difference %.3g of its tolerance "
      "(quantized), %.3g (vector)\n",
      (long long)g_checks, (long long)g_failures, quant_worst, g_worst);
  return g_failures ? 1 : 0;
}
