// batch --parallel N --spec mtp through the binary on the demo model (it has an MTP module):
// several sequences speculating together give each record what it gets alone and unspeculated.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/test_support.h"

namespace dsinfer {
namespace {

using json = nlohmann::json;

std::string demo() { return std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf"; }

// Eight records of different prompt lengths: r2 asks for 5 tokens, r5 and r7 have prompts long
// enough that --ctx 64 ends them before -n 40, r6 stops at the newline that ends its verse.
std::string records() {
  const char* prompts[] = {
      "And God said",
      "In the beginning God created",
      "And the LORD spake unto Moses, saying, Speak unto the children of Israel",
      "Blessed is the man that walketh not in the counsel of the ungodly",
      "And Abraham journeyed from thence toward the south country, and dwelled between Kadesh and Shur",
      "And thou shalt speak unto the children of Israel, saying, This shall be an holy anointing oil unto me "
      "throughout your generations. Upon man's flesh shall it not be poured, neither shall ye make",
      "And he said unto them, Go ye into the city",
      "Then said Jesus unto his disciples, If any man will come after me, let him deny himself, and take up his "
      "cross, and follow me. For whosoever will save his life shall",
  };
  std::string in;
  for (int i = 0; i < 8; ++i) {
    json r = {{"id", "r" + std::to_string(i)}, {"prompt", prompts[i]}};
    if (i == 2) r["max_tokens"] = 5;
    if (i == 6) r["stop"] = "\n";
    in += r.dump() + "\n";
  }
  return in;
}

struct BatchRun {
  std::map<std::string, json> by_id;
  std::string err;
};

BatchRun batch(const std::string& flags, int ctx = 64) {
  test::TempDir d;
  test::write_file(d.file("in.jsonl"), records());
  auto r = test::run_dsinfer("batch " + demo() + " -n 40 --ctx " + std::to_string(ctx) + " --in " +
                             d.file("in.jsonl") + " --out " +
                             d.file("out.jsonl") + " " + flags);
  EXPECT_EQ(r.exit_code, 0) << flags << ": " << r.err;
  BatchRun run{{}, r.err};
  std::istringstream lines(test::read_file(d.file("out.jsonl")));
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line);
    run.by_id[j.at("id").get<std::string>()] = j;
  }
  EXPECT_EQ(run.by_id.size(), 8u) << flags;
  return run;
}

void expect_same_completions(const BatchRun& a, const BatchRun& b, const std::string& what) {
  for (const auto& [id, ra] : a.by_id) {
    ASSERT_TRUE(b.by_id.count(id)) << what << ": " << id;
    const json& rb = b.by_id.at(id);
    EXPECT_EQ(ra.at("text"), rb.at("text")) << what << ": " << id;
    EXPECT_EQ(ra.at("finish_reason"), rb.at("finish_reason")) << what << ": " << id;
    EXPECT_EQ(ra.at("completion_tokens"), rb.at("completion_tokens")) << what << ": " << id;
  }
}

TEST(BatchSpec, GreedyParallelSpeculationGivesEachRecordItsPlainCompletion) {
  const BatchRun plain = batch("--temp 0 --parallel 1 --spec none");
  const BatchRun spec = batch("--temp 0 --parallel 3 --spec mtp --draft-max 2");
  const BatchRun wide = batch("--temp 0 --parallel 8 --spec mtp --draft-max 7");
  const BatchRun narrow = batch("--temp 0 --parallel 4 --spec mtp --draft-max 2 --draft-vocab 64");
  expect_same_completions(plain, spec, "--parallel 3 --draft-max 2");
  expect_same_completions(plain, wide, "--parallel 8 --draft-max 7");
  expect_same_completions(plain, narrow, "--parallel 4 --draft-max 2 --draft-vocab 64");

  // The records end in the ways they were made to.
  EXPECT_EQ(plain.by_id.at("r2").at("completion_tokens"), 5);
  for (const char* id : {"r5", "r7"}) {
    const json& r = plain.by_id.at(id);
    EXPECT_GT(r.at("prompt_tokens").get<int>(), 24) << id;  // so -n 40 does not fit
    EXPECT_EQ(r.at("prompt_tokens").get<int>() + r.at("completion_tokens").get<int>(), 64) << id;
  }
  const json& r6 = plain.by_id.at("r6");
  EXPECT_EQ(r6.at("finish_reason"), "stop");
  EXPECT_GT(r6.at("completion_tokens").get<int>(), 5);  // within a round, not on the prompt's token
  EXPECT_EQ(r6.at("text").get<std::string>().find('\n'), std::string::npos);

  // Speculation's figures, per record and in all.
  int64_t forwards = 0, tokens = 0;
  for (const auto& [id, r] : spec.by_id) {
    EXPECT_FALSE(plain.by_id.at(id).contains("spec")) << id;
    ASSERT_TRUE(r.contains("spec")) << r.dump();
    const json& s = r.at("spec");
    const int64_t f = s.at("forwards"), t = s.at("tokens"), n = r.at("completion_tokens");
    // The first token comes from the prompt's pass; each verify pass commits 1 to 3.
    if (r.at("finish_reason") == "length") {
      EXPECT_EQ(t, n - 1) << r.dump();
    }
    EXPECT_LE(f, t) << r.dump();
    EXPECT_LE(t, 3 * f) << r.dump();
    ASSERT_TRUE(s.at("acceptance").is_array()) << r.dump();
    EXPECT_LE(s.at("acceptance").size(), 2u) << r.dump();
    for (const json& a : s.at("acceptance")) {
      EXPECT_GE(a.get<double>(), 0.0);
      EXPECT_LE(a.get<double>(), 1.0);
    }
    forwards += f;
    tokens += t;
  }
  // Measured 2.3 tokens a verify pass on the demo model; 1.0 would mean no draft was ever kept.
  EXPECT_GT(double(tokens) / double(forwards), 1.5);
  EXPECT_NE(spec.err.find("speculation: " + std::to_string(forwards) + " forwards, " + std::to_string(tokens) +
                          " tokens"),
            std::string::npos)
      << spec.err;
}

// Each record samples with its own seeded sampler, which draws the same numbers in the same
// order whichever sequences share its passes.
TEST(BatchSpec, SampledRecordsDoNotDependOnWhatRunsBesideThem) {
  const BatchRun one = batch("--temp 0.8 --seed 7 --parallel 1 --spec mtp --draft-max 3");
  const BatchRun four = batch("--temp 0.8 --seed 7 --parallel 4 --spec mtp --draft-max 3");
  expect_same_completions(one, four, "--parallel 4");
  for (const auto& [id, r] : one.by_id) EXPECT_EQ(r.at("spec"), four.by_id.at(id).at("spec")) << id;
}

// The same record through `run` (one sequence, MtpSpeculator) and through batch beside others
// (MtpMultiSpeculator): the same text and the same speculation figures, sampled. batch --ctx is
// set to what run sizes its context to (prompt + -n), since drafts are cut to fit the context.
TEST(BatchSpec, ARecordSpeculatesAsRunDoes) {
  const int prompt_tokens = batch("--temp 0").by_id.at("r3").at("prompt_tokens");
  const std::string sampling = " --temp 0.8 --seed 7 --spec mtp --draft-max 3";
  const BatchRun b = batch("--parallel 3" + sampling, prompt_tokens + 40);
  auto r = test::run_dsinfer("run " + demo() + " -n 40 --stats --quiet" + sampling +
                             " -p 'Blessed is the man that walketh not in the counsel of the ungodly'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& rec = b.by_id.at("r3");
  EXPECT_EQ(r.out, rec.at("text").get<std::string>() + "\n");
  const size_t at = r.err.find("speculation: ");
  ASSERT_NE(at, std::string::npos) << r.err;
  long long forwards = 0, tokens = 0;
  double per = 0, acc[3] = {};
  ASSERT_EQ(std::sscanf(r.err.c_str() + at,
                        "speculation: %lld forwards, %lld tokens (%lf per forward), acceptance by position %lf %lf %lf",
                        &forwards, &tokens, &per, &acc[0], &acc[1], &acc[2]),
            6)
      << r.err;
  const json& s = rec.at("spec");
  EXPECT_EQ(s.at("forwards").get<long long>(), forwards) << r.err;
  EXPECT_EQ(s.at("tokens").get<long long>(), tokens) << r.err;
  ASSERT_EQ(s.at("acceptance").size(), 3u) << rec.dump();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(s.at("acceptance")[size_t(i)].get<double>(), acc[i], 6e-4) << r.err;
}

TEST(BatchSpec, FlagsOutOfRange) {
  test::TempDir d;
  test::write_file(d.file("in.jsonl"), records());
  const std::string base = "batch " + demo() + " --in " + d.file("in.jsonl") + " --out " + d.file("out.jsonl");
  auto r = test::run_dsinfer(base + " --spec mtp --draft-max 8");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--draft-max"), std::string::npos) << r.err;
  for (const char* bad : {" --spec mtp --draft-vocab -1", " --draft-vocab 64"}) {  // the second without --spec mtp
    r = test::run_dsinfer(base + bad);
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE(r.err.find("--draft-vocab"), std::string::npos) << bad << ": " << r.err;
  }
  for (const char* bad : {" --spec eagle", " --spec auto"}) {  // batch has no pauses between rounds
    r = test::run_dsinfer(base + bad);
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE(r.err.find("--spec"), std::string::npos) << bad << ": " << r.err;
  }
}

}  // namespace
}  // namespace dsinfer
