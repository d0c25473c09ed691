// `dsinfer synth` and `dsinfer inspect` through the binary.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/model.h"
#include "engine/session.h"
#include "quant/gguf_reader.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

TEST(Synth, TinyPresetRunsFiniteAndSpreadsRouting) {
  test::TempDir d;
  auto r = test::run_dsinfer("synth --preset tiny -o " + d.file("t.gguf") + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = Model::open(d.file("t.gguf"));
  ASSERT_TRUE(m->has_mtp());
  SessionOptions o;
  o.context = 64;
  Session s(*m, o);
  std::vector<int32_t> toks;
  for (int i = 0; i < 48; ++i) toks.push_back((i * 37 + 5) % int32_t(m->config().vocab_size));
  ForwardTrace tr;
  std::vector<float> logits;
  s.forward(toks, logits, &tr);
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
  for (const RouterRecord& rec : tr.router) {
    std::set<int32_t> used(rec.ids.begin(), rec.ids.end());
    EXPECT_GE(used.size(), size_t(m->config().n_routed_experts * 3 / 4)) << "layer " << rec.layer;
  }
}

TEST(Synth, DeterministicInSeed) {
  test::TempDir d;
  for (const char* n : {"a", "b"})
    ASSERT_EQ(test::run_dsinfer("synth --preset tiny --layers 2 --seed 7 --quiet -o " + d.file(n)).exit_code, 0);
  ASSERT_EQ(test::run_dsinfer("synth --preset tiny --layers 2 --seed 8 --quiet -o " + d.file("c")).exit_code, 0);
  EXPECT_EQ(test::read_file(d.file("a")), test::read_file(d.file("b")));
  EXPECT_NE(test::read_file(d.file("a")), test::read_file(d.file("c")));
}

TEST(Synth, PresetShapesAndPageAlignedExperts) {
  // Two layers of the real V2-Lite shape (one dense, one MoE), fewer experts and a small vocabulary.
  test::TempDir d;
  auto r = test::run_dsinfer("synth --preset v2-lite --layers 2 --experts 8 --vocab 1024 --quiet -o " + d.file("v2.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  GgufFile f(d.file("v2.gguf"));
  EXPECT_EQ(f.get_u32("deepseek2.embedding_length"), 2048u);
  EXPECT_EQ(f.get_u32("deepseek2.attention.kv_lora_rank"), 512u);
  EXPECT_EQ(f.get_u32("deepseek2.expert_feed_forward_length"), 1408u);
  const GgufTensor& g = f.tensor("blk.1.ffn_gate_exps.weight");
  EXPECT_EQ(g.type, GgmlType::Q4_0);
  EXPECT_EQ(g.file_offset % 4096, 0u);
  EXPECT_EQ((g.nbytes / 8) % 4096, 0u);  // each expert's slice starts on a page too
  EXPECT_EQ(f.tensor("blk.1.attn_k_b.weight").type, GgmlType::Q8_0);
  EXPECT_EQ(f.tensor("blk.1.ffn_gate_inp.weight").type, GgmlType::F32);
}

TEST(Synth, UnknownPreset) {
  test::TempDir d;
  auto r = test::run_dsinfer("synth --preset v9 -o " + d.file("x.gguf"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("v2-lite"), std::string::npos) << r.err;  // lists the presets
}

TEST(Inspect, ReportsRolesAndMemory) {
  test::TempDir d;
  ASSERT_EQ(test::run_dsinfer("synth --preset tiny --quiet -o " + d.file("t.gguf")).exit_code, 0);
  auto r = test::run_dsinfer("inspect " + d.file("t.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"deepseek2", "routed experts", "attention", "MTP", "non-expert weights only",
                        "blk.1.ffn_down_exps.weight", "Q4_0"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  auto bad = test::run_dsinfer("inspect " + test::fixture("tiny-v3-fp8/config.json"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("config.json"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace dsinfer
