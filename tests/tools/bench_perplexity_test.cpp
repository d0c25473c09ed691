// `dsinfer bench` and `dsinfer perplexity` through the binary: they run, report consistent
// figures, and refuse bad arguments with one line and exit 1.
#include <gtest/gtest.h>

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
}

TEST(Bench, RefusesBadArguments) {
  for (const char* bad : {"-p -5 --bandwidth 10", "-n -1 --bandwidth 10", "-r 0 --bandwidth 10", "--bandwidth -3"}) {
    auto r = test::run_dsinfer("bench " + demo() + " " + bad);
    EXPECT_EQ(r.exit_code, 1) << bad << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
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
}

}  // namespace
}  // namespace dsinfer
