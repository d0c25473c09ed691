// `dsinfer synth` and `dsinfer inspect` through the binary.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/decoder.h"
#include "engine/model/expert_balance.h"
#include "engine/model/model.h"
#include "engine/model/model_tokenizer.h"
#include "engine/reference/ref_decoder.h"
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
  RefDecoder s(*m, o);
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

// Each MoE layer's expert load (the MTP module's last) over 256 tokens of held-out text that
// synth's built-in balancing text does not contain (its scripture comes from the end of the
// file, this from the start).
std::vector<LoadSummary> load_on_heldout(const std::string& path) {
  auto m = Model::open(path);
  auto tok = open_model_tokenizer(*m);
  EXPECT_TRUE(tok);
  const std::string text = test::read_file(std::string(DSINFER_SOURCE_DIR) + "/models/demo/heldout.txt").substr(0, 4000);
  std::vector<int32_t> ids = {tok->bos_id()};
  for (int32_t id : tok->encode(text)) ids.push_back(id);
  EXPECT_GE(ids.size(), 256u);
  ids.resize(256);
  SessionOptions o;
  o.context = 256;
  auto d = make_decoder(*m, o);
  ForwardTrace tr;
  std::vector<float> logits;
  d->forward(ids, logits, &tr);
  if (m->has_mtp()) {
    tr.router.push_back({});
    d->mtp_forward(std::span(ids).subspan(1), d->last_hidden().data(), logits, &tr.router.back());
  }
  std::vector<LoadSummary> out;
  for (const RouterRecord& r : tr.router) {
    std::vector<int64_t> picks(size_t(m->config().n_routed_experts));
    for (int32_t e : r.ids) ++picks[size_t(e)];
    out.push_back(summarize_load(picks));
  }
  return out;
}

TEST(Synth, RoutesLikeATrainedModel) {
  // The checks of a realistic file: every MoE layer uses >= 90% of its experts, max/mean <= 3.
  test::TempDir d;
  const std::string path = d.file("t.gguf");
  auto r = test::run_dsinfer("synth --preset tiny --tokenizer " + test::fixture("tokenizer-deepseek-v3") + " -o " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("balanced 4 layers"), std::string::npos) << r.err;  // 3 MoE layers + MTP
  const std::vector<LoadSummary> load = load_on_heldout(path);
  ASSERT_EQ(load.size(), 4u);
  for (size_t l = 0; l < load.size(); ++l) {
    EXPECT_GE(double(load[l].used), 0.9 * double(load[l].experts)) << "MoE layer " << l;
    EXPECT_LE(load[l].max_over_mean, 3.0) << "MoE layer " << l;
  }

  // The same checks catch a degenerate file: a bias that sends every token of layer 2 to
  // experts 0-3, as a router collapsed onto a few experts does.
  GgufFile f(path);
  const uint64_t at = f.tensor("blk.2.exp_probs_b.bias").file_offset;
  std::string bytes = test::read_file(path);
  const float pull = 5.0f;
  for (int e = 0; e < 4; ++e) std::memcpy(bytes.data() + at + 4 * e, &pull, 4);
  test::write_file(d.file("degenerate.gguf"), bytes);
  const std::vector<LoadSummary> bad = load_on_heldout(d.file("degenerate.gguf"));
  EXPECT_EQ(bad[1].used, 4);
  EXPECT_GT(bad[1].max_over_mean, 3.0);
}

TEST(Synth, InspectRoutingShowsTheLoad) {
  test::TempDir d;
  ASSERT_EQ(test::run_dsinfer("synth --preset tiny --layers 2 --quiet -o " + d.file("t.gguf")).exit_code, 0);
  auto r = test::run_dsinfer("inspect " + d.file("t.gguf") + " --no-tensors --routing --routing-tokens 300");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no tokenizer: Zipf-distributed ids"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max/mean"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nMTP "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n1 "), std::string::npos) << r.out;
}

TEST(Synth, CalibrationTextMustExist) {
  test::TempDir d;
  auto r = test::run_dsinfer("synth --preset tiny --layers 2 --calibrate-text " + d.file("none.txt") + " -o " + d.file("t.gguf"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("none.txt"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d.file("t.gguf")));
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
  EXPECT_EQ(g.type, DType::Q4_0);
  EXPECT_EQ(g.file_offset % 4096, 0u);
  EXPECT_EQ((g.nbytes / 8) % 4096, 0u);  // each expert's slice starts on a page too
  EXPECT_EQ(f.tensor("blk.1.attn_k_b.weight").type, DType::Q8_0);
  EXPECT_EQ(f.tensor("blk.1.ffn_gate_inp.weight").type, DType::F32);
}

// --mtp gives a preset without one (V2-Lite) an MTP layer that speculation can draft with;
// --no-mtp with it is a contradiction.
TEST(Synth, MtpAddsTheModuleToAPresetWithout) {
  test::TempDir d;
  const std::string base = "synth --preset v2-lite --layers 2 --experts 8 --vocab 1024 --no-calibrate --quiet ";
  ASSERT_EQ(test::run_dsinfer(base + "-o " + d.file("a.gguf")).exit_code, 0);
  ASSERT_EQ(test::run_dsinfer(base + "--mtp -o " + d.file("b.gguf")).exit_code, 0);
  EXPECT_FALSE(GgufFile(d.file("a.gguf")).find_tensor("blk.2.nextn.eh_proj.weight"));
  EXPECT_NE(GgufFile(d.file("b.gguf")).find_tensor("blk.2.nextn.eh_proj.weight"), nullptr);
  auto r = test::run_dsinfer("run " + d.file("b.gguf") + " --tokens 5,6,7 -n 4 --temp 0 --spec mtp --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = test::run_dsinfer(base + "--mtp --no-mtp -o " + d.file("c.gguf"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--mtp"), std::string::npos) << r.err;
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
