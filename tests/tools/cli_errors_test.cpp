// Bad input through the CLI: one line on stderr naming the file and the problem, a non-zero
// exit, no crash, and no output file (nor a leftover temporary) written.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace dsinfer {
namespace {

namespace fs = std::filesystem;

struct Damaged {
  test::TempDir dir;
  std::string model;
  explicit Damaged(const char* fx = "tiny-v3-fp8") : model(dir.file("model")) { test::copy_dir(test::fixture(fx), model); }
};

// Runs `logits` into a fresh output dir; checks the failure contract; returns stderr.
std::string expect_failure(const std::string& model, const std::string& tokens = "0,5,7") {
  test::TempDir out;
  auto r = test::run_dsinfer("logits " + model + " --tokens " + tokens + " --out " + out.file("l.npy"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("dsinfer: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_TRUE(fs::is_empty(out.path())) << "output or temporary left behind";
  return r.err;
}

TEST(CliErrors, TruncatedShard) {
  Damaged d;
  const std::string shard = d.model + "/model-00003-of-00004.safetensors";
  const std::string b = test::read_file(shard);
  test::write_file(shard, b.substr(0, b.size() - 1000));
  const std::string err = expect_failure(d.model);
  EXPECT_NE(err.find("model-00003-of-00004.safetensors"), std::string::npos) << err;
}

TEST(CliErrors, HeaderLongerThanFile) {
  Damaged d;
  const std::string shard = d.model + "/model-00001-of-00004.safetensors";
  std::string b = test::read_file(shard);
  b[4] = 0x01;  // header length += 2^32
  test::write_file(shard, b);
  const std::string err = expect_failure(d.model);
  EXPECT_NE(err.find("model-00001-of-00004.safetensors"), std::string::npos) << err;
  EXPECT_NE(err.find("header length"), std::string::npos) << err;
}

TEST(CliErrors, MissingTensorNamedInIndex) {
  Damaged d("tiny-v2lite-bf16");
  std::string idx = test::read_file(d.model + "/model.safetensors.index.json");
  auto j = nlohmann::json::parse(idx);
  j["weight_map"]["model.layers.1.mlp.experts.99.up_proj.weight"] = "model-00002-of-00004.safetensors";
  test::write_file(d.model + "/model.safetensors.index.json", j.dump());
  const std::string err = expect_failure(d.model);
  EXPECT_NE(err.find("experts.99.up_proj"), std::string::npos) << err;
}

TEST(CliErrors, TensorAbsentFromCheckpoint) {
  Damaged d("tiny-v2lite-bf16");
  auto j = nlohmann::json::parse(test::read_file(d.model + "/model.safetensors.index.json"));
  j["weight_map"].erase("model.layers.2.self_attn.o_proj.weight");
  test::write_file(d.model + "/model.safetensors.index.json", j.dump());
  const std::string err = expect_failure(d.model);
  EXPECT_NE(err.find("model.layers.2.self_attn.o_proj.weight"), std::string::npos) << err;
}

TEST(CliErrors, ConfigShapeDisagreesWithTensors) {
  Damaged d;
  auto j = nlohmann::json::parse(test::read_file(d.model + "/config.json"));
  j["moe_intermediate_size"] = 64;
  test::write_file(d.model + "/config.json", j.dump());
  const std::string err = expect_failure(d.model);
  EXPECT_NE(err.find("expected"), std::string::npos) << err;
}

TEST(CliErrors, ConfigZeroRoutedExpertsIsABadField) {
  Damaged d;
  auto j = nlohmann::json::parse(test::read_file(d.model + "/config.json"));
  j["n_routed_experts"] = 0;
  test::write_file(d.model + "/config.json", j.dump());
  const std::string err = expect_failure(d.model);
  EXPECT_NE(err.find("config.json: field 'n_routed_experts' is 0"), std::string::npos) << err;
  EXPECT_EQ(err.find("missing"), std::string::npos) << err;
}

TEST(CliErrors, ConfigMissingField) {
  Damaged d;
  auto j = nlohmann::json::parse(test::read_file(d.model + "/config.json"));
  j.erase("num_attention_heads");
  test::write_file(d.model + "/config.json", j.dump());
  const std::string err = expect_failure(d.model);
  EXPECT_NE(err.find("config.json"), std::string::npos) << err;
  EXPECT_NE(err.find("num_attention_heads"), std::string::npos) << err;
}

TEST(CliErrors, TokenOutsideVocabulary) {
  const std::string err = expect_failure(test::fixture("tiny-v3-fp8"), "0,5,512");
  EXPECT_NE(err.find("512"), std::string::npos) << err;
  EXPECT_NE(err.find("vocabulary"), std::string::npos) << err;
}

TEST(CliErrors, MalformedTokenList) {
  const std::string err = expect_failure(test::fixture("tiny-v3-fp8"), "0,x,7");
  EXPECT_NE(err.find("--tokens"), std::string::npos) << err;
}

TEST(CliErrors, NoSuchModel) {
  const std::string err = expect_failure("/nonexistent/model");
  EXPECT_NE(err.find("/nonexistent/model"), std::string::npos) << err;
}

TEST(CliErrors, UsageErrorExitsTwo) {
  auto r = test::run_dsinfer("logits");
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace dsinfer
