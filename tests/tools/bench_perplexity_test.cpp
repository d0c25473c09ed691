// `dsinfer bench` and `dsinfer perplexity` through the binary: they run, report consistent
// figures, and refuse bad arguments with one line and exit 1.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace dsinfer {
namespace {

std::string demo() { return std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf"; }

TEST(Bench, JsonReportIsConsistent) {
  // --bandwidth skips the 1 GiB probe; the roofline then follows from it exactly.
  auto r = test::run_dsinfer("bench " + demo() + " -p 16 -n 4 -r 2 --bandwidth 10 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["prefill_tok_s"].get<double>(), 0);
  EXPECT_GT(j["decode_tok_s"].get<double>(), 0);
  const double bytes = j["bytes_per_token"].get<double>();
  // The demo file holds 11.2 MB; a token reads less (4 of 16 experts, one embedding row).
  EXPECT_GT(bytes, 1e6);
  EXPECT_LT(bytes, 11.2e6);
  EXPECT_NEAR(j["roofline_tok_s"].get<double>(), 10e9 / bytes, 1e-6 * 10e9 / bytes);
  EXPECT_GT(j["cold"]["decode_tok_s"].get<double>(), 0);  // the warm-up pass, reported apart
  EXPECT_EQ(j["paired_fraction"].get<double>(), 0.0);     // a given bandwidth: no probes at all
}

TEST(Bench, ThreadScalingFractions) {
  // Decode and the probe at 1 thread and at 2: each fraction is that count's decode bytes over
  // its own probe.
  auto r = test::run_dsinfer("bench " + demo() + " -p 0 -n 4 -r 1 -t 2 --scaling --no-warmup --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["scaling"].size(), 2u);
  EXPECT_FALSE(j.contains("cold"));
  const double bytes = j["bytes_per_token"].get<double>();
  for (size_t i = 0; i < 2; ++i) {
    const auto& x = j["scaling"][i];
    EXPECT_EQ(x["threads"].get<int>(), int(i) + 1);
    EXPECT_GT(x["bandwidth_gb_s"].get<double>(), 0);
    EXPECT_NEAR(x["roofline_fraction"].get<double>(),
                x["decode_tok_s"].get<double>() * bytes / (x["bandwidth_gb_s"].get<double>() * 1e9), 1e-9);
  }
  EXPECT_EQ(j["scaling"][1]["decode_tok_s"].get<double>(), j["decode_tok_s"].get<double>());
  // Probes around each repetition too; the peak RSS is the model's, not the probes' 512 MiB.
  for (size_t i = 0; i < 2; ++i) EXPECT_GT(j["scaling"][i]["paired_fraction"].get<double>(), 0) << i;
  EXPECT_LE(j["paired_fraction_min"].get<double>(), j["paired_fraction"].get<double>());
  EXPECT_GE(j["paired_fraction_max"].get<double>(), j["paired_fraction"].get<double>());
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 1);
  EXPECT_LT(j["peak_rss_mb"].get<double>(), 400);
}

// --batch P against probes around each repetition too (the VM's bandwidth can double mid-run);
// none when the bandwidth is given.
TEST(Bench, BatchPairedProbes) {
  auto r = test::run_dsinfer("bench " + demo() + " -p 0 -n 4 -r 2 --batch 2 --no-warmup --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["paired_fraction"].get<double>(), 0);
  EXPECT_LE(j["paired_fraction_min"].get<double>(), j["paired_fraction"].get<double>());
  EXPECT_GE(j["paired_fraction_max"].get<double>(), j["paired_fraction"].get<double>());
  EXPECT_LT(j["paired_fraction_min"].get<double>(), j["paired_fraction_max"].get<double>());  // two repetitions
  r = test::run_dsinfer("bench " + demo() + " -p 0 -n 4 -r 2 --batch 2 --bandwidth 10 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["paired_fraction"].get<double>(), 0.0);
  EXPECT_NEAR(j["bound_fraction"].get<double>(),
              j["decode_tok_s"].get<double>() / (2 * 10e9 / j["bytes_per_step"].get<double>()), 1e-9);
}

// --spec mtp: forward costs for 1..K+1 tokens (the first the unit of the others, bytes bounds
// growing with the tokens), acceptance per draft position, and the end-to-end comparison.
TEST(Bench, SpeculationReport) {
  auto r = test::run_dsinfer("bench " + demo() + " -n 8 -r 1 -t 1 --spec mtp --draft-max 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["forwards"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["forwards"][0]["main_ratio"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["forwards"][0]["bytes_ratio"].get<double>(), 1.0);
  EXPECT_NEAR(j["forwards"][0]["distinct_experts_per_layer"].get<double>(), 4.0, 1e-9);  // top-4, one token
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_GT(j["forwards"][i]["bytes_ratio"].get<double>(), j["forwards"][i - 1]["bytes_ratio"].get<double>());
    EXPECT_GT(j["forwards"][i]["mtp_ms"].get<double>(), 0);
  }
  ASSERT_EQ(j["acceptance"].size(), 2u);
  for (const auto& a : j["acceptance"]) EXPECT_TRUE(a.get<double>() >= 0 && a.get<double>() <= 1);
  EXPECT_GE(j["tokens_per_forward"].get<double>(), 1.0);
  EXPECT_GT(j["spec_tok_s"].get<double>(), 0);
  EXPECT_NEAR(j["speedup"].get<double>(), j["spec_tok_s"].get<double>() / j["plain_tok_s"].get<double>(), 1e-9);
  // The demo's experts are served by an expert store: its figures for each decoding. Every token
  // asks for its experts in every MoE layer (the module's too, when drafting).
  for (const char* kind : {"plain", "speculative"})
    EXPECT_GE(j["experts"][kind]["requests"].get<double>(), 8.0 * 4) << kind;
  EXPECT_FALSE(j.contains("draft_vocab"));
  // Drafts from the first 256 of 4,096 ids and the tokens fed: what share of a text's tokens
  // they can name, and the projection at 80% acceptance scaled by it.
  const std::string text = std::string(DSINFER_SOURCE_DIR) + "/models/demo/heldout.txt";
  r = test::run_dsinfer("bench " + demo() + " -n 8 -r 1 -t 1 --spec mtp --draft-vocab 256 --json --text " + text);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto n = nlohmann::json::parse(r.out);
  EXPECT_EQ(n["draft_vocab"]["ids"].get<int>(), 256);
  const double cover = n["draft_vocab"]["text_coverage"].get<double>();
  EXPECT_GT(cover, 0.5);
  EXPECT_LT(cover, 1.0);
  EXPECT_GT(n["projected_speedup"]["at_0.8_times_coverage"].get<double>(), 0);
  r = test::run_dsinfer("bench " + test::fixture("tiny-v2lite-bf16") + " -n 4 --spec mtp");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--spec"), std::string::npos) << r.err;
}

TEST(Bench, RefusesBadArguments) {
  for (const char* bad : {"-p -5 --bandwidth 10", "-n -1 --bandwidth 10", "-r 0 --bandwidth 10", "--bandwidth -3"}) {
    auto r = test::run_dsinfer("bench " + demo() + " " + bad);
    EXPECT_EQ(r.exit_code, 1) << bad << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(Bench, TextGivesTheTokens) {
  // --text feeds a text's tokens (batch and speculation too); a text that cannot be used is one
  // clear error.
  const std::string text = std::string(DSINFER_SOURCE_DIR) + "/models/demo/heldout.txt";
  for (const char* mode : {"-p 8 -n 4", "-p 0 -n 4 --batch 2", "-n 4 --spec mtp"}) {
    auto r = test::run_dsinfer("bench " + demo() + " " + mode + " -r 1 --bandwidth 10 --json --text " + text);
    ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.err;
    EXPECT_TRUE(nlohmann::json::accept(r.out)) << mode << ": " << r.out;
  }
  test::TempDir d;
  test::write_file(d.file("one.txt"), "a");
  for (const std::string& bad : {d.file("missing.txt"), d.file("one.txt")}) {
    auto r = test::run_dsinfer("bench " + demo() + " -p 4 -n 4 -r 1 --bandwidth 10 --text " + bad);
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  }
}

TEST(Perplexity, RefusesBadInput) {
  test::TempDir d;
  test::write_file(d.file("short.txt"), "In the beginning");
  const std::pair<std::string, std::string> cases[] = {
      {"-f " + d.file("missing.txt"), "missing.txt"},
      {"-f " + d.file("short.txt"), "too short"},
      {"-f " + d.file("short.txt") + " --ctx 2", "--ctx"},
      {"-f " + d.file("short.txt") + " --kl-base " + test::fixture("tiny-v3-fp8"), "vocabulary"}};
  for (const auto& [args, what] : cases) {
    auto r = test::run_dsinfer("perplexity " + demo() + " " + args);
    EXPECT_EQ(r.exit_code, 1) << args << ": " << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << args << ": " << r.err;
  }
  auto r = test::run_dsinfer("perplexity " + test::fixture("tiny-v3-fp8") + " -f " + d.file("short.txt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tokenizer"), std::string::npos) << r.err;
}

TEST(Perplexity, KlAgainstItselfIsZero) {
  // The same file as model and base: every window through one reused session each must give
  // identical logits (same engine for both), so KL 0 and full agreement; a stale cache between
  // windows would not.
  auto r = test::run_dsinfer("perplexity " + demo() + " -f " + std::string(DSINFER_SOURCE_DIR) +
                             "/models/demo/heldout.txt --max-windows 3 --ctx 64 --kl-base " + demo() + " --base-engine fast");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("mean 0.000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top-1 agreement   1.0000"), std::string::npos) << r.out;
  // Consecutive tokens' shared experts: between none and all 4, chance at least 16/16 (= k^2/n,
  // uniform loads), and the distinct count is 2k minus the shared one.
  const size_t at = r.out.find("consecutive pairs share");
  ASSERT_NE(at, std::string::npos) << r.out;
  double sh = -1, chance = -1, distinct = -1, distinct_chance = -1;
  ASSERT_EQ(std::sscanf(r.out.c_str() + at,
                        "consecutive pairs share %lf of 4 experts a layer (independent routing with these loads: %lf): "
                        "a 2-token verify forward routes to %lf distinct experts a layer, not %lf",
                        &sh, &chance, &distinct, &distinct_chance),
            4)
      << r.out.substr(at);
  EXPECT_GE(sh, 0.0);
  EXPECT_LE(sh, 4.0);
  EXPECT_GE(chance, 1.0 - 1e-9);
  EXPECT_LE(chance, 4.0);
  EXPECT_NEAR(distinct, 8.0 - sh, 0.011);
  EXPECT_NEAR(distinct_chance, 8.0 - chance, 0.011);
}

}  // namespace
}  // namespace dsinfer
