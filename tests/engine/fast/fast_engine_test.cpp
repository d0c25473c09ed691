// The fast engine against the float32 reference on the fixtures.
//  - On the checkpoints' own weights (FP8 / BF16, dequantized row by row) the two compute the
//    same function in different orders: logits agree to float rounding.
//  - On quantized GGUF files (Q8_0 weights x Q8_0 activations) the error is the format's: KL
//    and top-1 against the float32 checkpoint, pinned from measurements below.
//  - Bit for bit for any thread count; to rounding for any prefill chunk size (a chunk of 1 is
//    plain decode).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdio>

#include "engine/decoder.h"
#include "engine/model/model.h"
#include "quant/npy.h"
#include "simd/kernels.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

// Prompt + generated ids of the goldens: 40 positions, prefill and continuation.
struct Outputs {
  std::vector<float> logits, mtp;
};

// Prefill of `prefill` tokens, then the rest one at a time; logits of every position, and the
// MTP logits over the whole sequence when the model has the module.
Outputs run(const Model& m, const std::vector<int32_t>& seq, SessionOptions o, size_t prefill) {
  o.context = int64_t(seq.size());
  auto d = make_decoder(m, o);
  Outputs r;
  std::vector<float> l, hidden;
  d->forward(std::span(seq).first(prefill), l);
  r.logits = l;
  hidden = d->last_hidden();
  for (size_t i = prefill; i < seq.size(); ++i) {
    d->forward(std::span(seq).subspan(i, 1), l);
    r.logits.insert(r.logits.end(), l.begin(), l.end());
    hidden.insert(hidden.end(), d->last_hidden().begin(), d->last_hidden().end());
  }
  if (m.has_mtp()) d->mtp_forward(std::span(seq).subspan(1), hidden.data(), r.mtp);
  return r;
}

SessionOptions fast(KvType kv = KvType::F32, int64_t chunk = 512) {
  SessionOptions o;
  o.engine = EngineKind::Fast;
  o.kv = kv;
  o.chunk = chunk;
  return o;
}

SessionOptions reference() {
  SessionOptions o;
  o.engine = EngineKind::Reference;
  return o;
}

class FastEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(FastEngine, MatchesReferenceOnCheckpointWeights) {
  const std::string fx = GetParam();
  auto m = Model::open(test::fixture(fx));
  const auto seq = test::golden_sequence(fx);
  const Outputs f = run(*m, seq, fast(), 20), r = run(*m, seq, reference(), 20);
  const float d = test::max_abs(f.logits, r.logits);
  std::printf("[ measured ] %s fast vs reference, checkpoint weights: logits max|diff| %.3g\n", fx.c_str(), d);
  EXPECT_LE(d, 1e-4f);  // measured 4e-6 (v3); the goldens' own tolerance is 1e-3
  if (m->has_mtp()) {
    const float dm = test::max_abs(f.mtp, r.mtp);
    std::printf("[ measured ] %s MTP logits max|diff| %.3g\n", fx.c_str(), dm);
    EXPECT_LE(dm, 1e-4f);
  }
}

// Pinned from measurements (2026-11-29): fast engine on the GGUF (kv f32 / bf16 / q8_0) vs the
// float32 reference on the checkpoint, 40 positions (20 prefilled, 20 decoded):
//   fixture            file    KL mean               top-1                 pinned
//   tiny-v3-fp8        q8_0    0.0188/0.0178/0.0225  0.825/0.900/0.775     KL <= 0.04,   top-1 >= 0.70
//   tiny-v3-fp8        mix     0.0259/0.0295/0.0275  0.800/0.775/0.775     KL <= 0.05,   top-1 >= 0.70
//   tiny-v2lite-bf16   q8_0    0.0004/0.0004/0.0004  1.000/0.975/1.000     KL <= 0.001,  top-1 >= 0.95
//   tiny-v2lite-bf16   mix     0.0007/0.0007/0.0007  1.000/0.975/0.975     KL <= 0.0015, top-1 >= 0.95
// The V3 fixture is chaotic by design (router margins of 4e-4, see quantize_test.cpp); the
// reference engine on the same files measures KL 0.0208 (q8_0) and 0.0267 (mix).
struct QuantPin {
  const char* fx;
  const char* args;
  double kl_mean, top1;
};

class FastEngineQuantized : public ::testing::TestWithParam<QuantPin> {};

TEST_P(FastEngineQuantized, CloseToFloat32) {
  const QuantPin p = GetParam();
  test::TempDir dir;
  test::quantize_fixture(p.fx, dir.file("m.gguf"), p.args);
  auto f32 = Model::open(test::fixture(p.fx));
  const auto seq = test::golden_sequence(p.fx);
  const Outputs ref = run(*f32, seq, reference(), 20);
  const int64_t V = f32->config().vocab_size;
  // Mapped: GGUF's row layout; copied: the kernels' row groups where the CPU has them.
  for (WeightsLoad load : {WeightsLoad::Mmap, WeightsLoad::Copy}) {
    auto q = Model::open(dir.file("m.gguf"), load);
    const char* how = q->weights().repacked ? "row groups" : "rows";
    for (KvType kv : {KvType::F32, KvType::BF16, KvType::Q8_0}) {
      const test::Agreement a = test::agreement(ref.logits, run(*q, seq, fast(kv), 20).logits, V);
      std::printf("[ measured ] %s %s %s kv %s: KL mean %.4f max %.4f top-1 %.3f\n", p.fx, p.args, how,
                  kv_type_name(kv), a.kl_mean, a.kl_max, a.top1);
      EXPECT_LE(a.kl_mean, p.kl_mean) << kv_type_name(kv) << " " << how;
      EXPECT_GE(a.top1, p.top1) << kv_type_name(kv) << " " << how;
    }
  }
}

// The same file in both layouts: the row-group kernels round differently from the row
// kernels (one fused step per block instead of lane partial sums), nothing more.
TEST(FastEngineRowGroups, AgreesWithTheRowLayout) {
  if (!simd::kernels().r16_native) GTEST_SKIP() << "no row-group kernels on this CPU: weights stay in rows";
  test::TempDir dir;
  test::quantize_fixture("tiny-v2lite-bf16", dir.file("m.gguf"), "--type q4_0");
  auto rows = Model::open(dir.file("m.gguf"), WeightsLoad::Mmap);
  auto groups = Model::open(dir.file("m.gguf"), WeightsLoad::Copy);
  ASSERT_FALSE(rows->weights().repacked);
  ASSERT_TRUE(groups->weights().repacked);
  EXPECT_EQ(groups->weights().layers[1].moe.experts[3].gate.layout, Layout::RowGroups);
  const auto seq = test::golden_sequence("tiny-v2lite-bf16");
  const Outputs a = run(*rows, seq, fast(), 20), b = run(*groups, seq, fast(), 20);
  const test::Agreement g = test::agreement(a.logits, b.logits, rows->config().vocab_size);
  std::printf("[ measured ] tiny-v2lite-bf16 q4_0, row groups vs rows: KL mean %.3g max %.3g top-1 %.3f\n", g.kl_mean,
              g.kl_max, g.top1);
  // Two correct kernels (each checked bit for bit against its scalar reference) that add the
  // blocks' products in different orders: close, not equal. The tiny random model has near-ties
  // at the top, so a compiler's other contraction choices flip a few: measured KL max 4e-5 / top-1
  // 1.0 with g++ 12, 1.4e-4 / 0.975 with clang 14 (sanitizer build).
  EXPECT_LE(g.kl_max, 1e-3);
  EXPECT_GE(g.top1, 0.95);
}

// Invariants on a quantized file (the integer kernels' path): bit for bit across thread counts,
// to rounding across chunk sizes.
class FastEngineInvariants : public ::testing::TestWithParam<std::string> {};

TEST_P(FastEngineInvariants, SameBitsForAnyThreadCountCloseForAnyChunk) {
  const std::string fx = GetParam();
  test::TempDir dir;
  test::quantize_fixture(fx, dir.file("m.gguf"), "");
  const auto seq = test::golden_sequence(fx);
  const int saved = omp_get_max_threads();
  for (WeightsLoad load : {WeightsLoad::Mmap, WeightsLoad::Copy})
  for (KvType kv : {KvType::F32, KvType::Q8_0}) {
    auto m = Model::open(dir.file("m.gguf"), load);
    SCOPED_TRACE(m->weights().repacked ? "row groups" : "rows");
    omp_set_num_threads(1);
    const Outputs one = run(*m, seq, fast(kv), 30);
    omp_set_num_threads(2);
    const Outputs two = run(*m, seq, fast(kv), 30);
    omp_set_num_threads(3);  // more threads than cores, odd splits of every dimension
    const Outputs three = run(*m, seq, fast(kv), 30);
    EXPECT_EQ(one.logits, two.logits) << kv_type_name(kv);
    EXPECT_EQ(one.logits, three.logits) << kv_type_name(kv);
    EXPECT_EQ(one.mtp, two.mtp) << kv_type_name(kv);
    // Chunk sizes: 1 (every token alone, few-token attention and the per-token kernels), 3
    // and 7 (several chunks; 7 tokens of one expert take the 16-lane kernels) against one
    // chunk of everything. In the row layout kernels with a different lane split round
    // differently, so these agree to rounding; the row-group kernels do the same arithmetic
    // for any token count, so there they agree bit for bit.
    for (int64_t chunk : {int64_t(1), int64_t(3), int64_t(7)}) {
      const Outputs c = run(*m, seq, fast(kv, chunk), 30);
      const test::Agreement a = test::agreement(one.logits, c.logits, m->config().vocab_size);
      std::printf("[ measured ] %s kv %s chunk %lld vs whole: KL mean %.3g max %.3g top-1 %.3f\n", fx.c_str(),
                  kv_type_name(kv), (long long)chunk, a.kl_mean, a.kl_max, a.top1);
      // Measured in rows: KL max 1.1e-3, top-1 0.95 at worst; in row groups: 0. A q8_0 cache
      // where the integer scores run (simd/latent_scores.h) quantizes each query to int8, so a
      // query that rounds differently can move a level: on tiny-v3-fp8 (random, near ties) KL
      // max 0.036, top-1 0.975 in rows (still 0 in row groups). On the trained demo model the
      // integer scores measure as close to the float reference as float ones (perplexity --kl-base).
      if (m->weights().repacked) {
        EXPECT_EQ(one.logits, c.logits) << "chunk " << chunk << " kv " << kv_type_name(kv);
      }
      const bool integer_scores = kv == KvType::Q8_0 && simd::kernels().latent_scores_native;
      EXPECT_LE(a.kl_max, integer_scores ? 0.06 : 2e-3) << "chunk " << chunk << " kv " << kv_type_name(kv);
      EXPECT_GE(a.top1, 0.90) << "chunk " << chunk << " kv " << kv_type_name(kv);
    }
  }
  omp_set_num_threads(saved);
}

// A prefill pass longer than one attention chunk (256 positions) takes the many-token path,
// where each thread merges a token's chunks in its own working memory; it must agree with one
// token at a time (the few-token path). Caught a layout where a chunk's score dots overwrote the
// running output of the chunks before it.
TEST(FastEngineLongPrefill, MatchesTokenByToken) {
  auto m = Model::open(std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf");
  std::vector<int32_t> seq;
  uint32_t x = 12345;
  for (int i = 0; i < 700; ++i) seq.push_back(int32_t((x = x * 1664525u + 1013904223u) >> 8) % 4000 + 3);
  for (KvType kv : {KvType::F32, KvType::Q8_0}) {
    const Outputs whole = run(*m, seq, fast(kv, 512), seq.size());
    const Outputs single = run(*m, seq, fast(kv, 1), seq.size());
    const test::Agreement a = test::agreement(single.logits, whole.logits, m->config().vocab_size);
    std::printf("[ measured ] demo kv %s 700 tokens, chunk 512 vs 1: KL mean %.3g max %.3g top-1 %.3f\n",
                kv_type_name(kv), a.kl_mean, a.kl_max, a.top1);
    // Measured: KL mean 5e-5 (f32) and 2e-4 (q8_0), top-1 0.996 or better; the kernels of a
    // long pass round differently, and a routing decision flipped by that moves one position
    // (KL max 0.02-0.08). With the overwritten running output: KL mean 0.14, top-1 0.83.
    EXPECT_LE(a.kl_mean, 1e-3) << kv_type_name(kv);
    EXPECT_GE(a.top1, 0.98) << kv_type_name(kv);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FastEngine, ::testing::Values("tiny-v3-fp8", "tiny-v2lite-bf16"));
INSTANTIATE_TEST_SUITE_P(Fixtures, FastEngineInvariants, ::testing::Values("tiny-v3-fp8", "tiny-v2lite-bf16"));
INSTANTIATE_TEST_SUITE_P(Fixtures, FastEngineQuantized,
                         ::testing::Values(QuantPin{"tiny-v3-fp8", "--type q8_0", 0.04, 0.70},
                                           QuantPin{"tiny-v3-fp8", "", 0.05, 0.70},
                                           QuantPin{"tiny-v2lite-bf16", "--type q8_0", 0.001, 0.95},
                                           QuantPin{"tiny-v2lite-bf16", "", 0.0015, 0.95}),
                         [](const auto& i) {
                           return std::string(i.param.fx[5] == 'v' && i.param.fx[6] == '3' ? "v3" : "v2lite") +
                                  (i.param.args[0] ? "_q8_0" : "_mix");
                         });

}  // namespace
}  // namespace dsinfer
