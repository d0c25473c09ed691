#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/model/model_config.h"
#include "engine/model/rope.h"
#include "simd/error.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

using nlohmann::json;

json fixture_config(const char* name) { return json::parse(test::read_file(test::fixture(std::string(name) + "/config.json"))); }

ModelConfig load(const json& j) {
  test::TempDir d;
  test::write_file(d.file("config.json"), j.dump());
  return load_hf_config(d.file("config.json"));
}

std::string load_error(const json& j) {
  try {
    load(j);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Config, V3Fixture) {
  ModelConfig c = load_hf_config(test::fixture("tiny-v3-fp8/config.json"));
  EXPECT_EQ(c.hidden_size, 320);
  EXPECT_EQ(c.q_lora_rank, 192);
  EXPECT_EQ(c.latent_dim(), 160 + 32);
  EXPECT_EQ(c.scoring_func, ScoringFunc::Sigmoid);
  EXPECT_EQ(c.topk_method, TopkMethod::NoauxTc);
  EXPECT_EQ(c.n_group, 4);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_TRUE(c.fp8_block_quantized);
  EXPECT_TRUE(c.rope_scaling.yarn);
  EXPECT_DOUBLE_EQ(c.routed_scaling_factor, 2.5);
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_TRUE(c.is_moe_layer(1));
}

TEST(Config, V2LiteFixtureDefaults) {
  ModelConfig c = load_hf_config(test::fixture("tiny-v2lite-bf16/config.json"));
  EXPECT_EQ(c.q_lora_rank, 0);  // null: plain q_proj
  EXPECT_EQ(c.num_nextn_predict_layers, 0);  // absent in V2 configs
  EXPECT_EQ(c.scoring_func, ScoringFunc::Softmax);
  EXPECT_EQ(c.topk_method, TopkMethod::Greedy);
  EXPECT_FALSE(c.norm_topk_prob);
  EXPECT_FALSE(c.fp8_block_quantized);
  EXPECT_EQ(c.v_head_dim, 48);
}

TEST(Config, MoonlightStyleHasNoRopeScaling) {
  json j = fixture_config("tiny-v3-fp8");
  j.erase("rope_scaling");
  j.erase("quantization_config");
  ModelConfig c = load(j);
  EXPECT_FALSE(c.rope_scaling.yarn);
  Rope r(c);
  EXPECT_FLOAT_EQ(r.softmax_scale(), 1.0f / std::sqrt(96.0f));
  EXPECT_DOUBLE_EQ(r.inv_freq()[1], std::pow(10000.0, -2.0 / 32));
}

TEST(Config, V3DefaultsWhenRoutingFieldsAbsent) {
  json j = fixture_config("tiny-v3-fp8");
  for (const char* k : {"scoring_func", "topk_method", "norm_topk_prob", "routed_scaling_factor"}) j.erase(k);
  ModelConfig c = load(j);
  EXPECT_EQ(c.scoring_func, ScoringFunc::Sigmoid);
  EXPECT_EQ(c.topk_method, TopkMethod::NoauxTc);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_DOUBLE_EQ(c.routed_scaling_factor, 2.5);
}

TEST(Config, YarnSoftmaxScale) {
  // V2-Lite: factor 40, mscale_all_dim 0.707 -> scale = 48^-0.5 * (0.1*0.707*ln 40 + 1)^2
  ModelConfig c = load_hf_config(test::fixture("tiny-v2lite-bf16/config.json"));
  Rope r(c);
  const double m = 0.1 * 0.707 * std::log(40.0) + 1.0;
  EXPECT_NEAR(r.softmax_scale(), 1.0 / std::sqrt(48.0) * m * m, 1e-7);
}

TEST(Config, MissingRequiredField) {
  json j = fixture_config("tiny-v3-fp8");
  j.erase("kv_lora_rank");
  const std::string msg = load_error(j);
  EXPECT_NE(msg.find("kv_lora_rank"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST(Config, WrongTypes) {
  json j = fixture_config("tiny-v3-fp8");
  j["hidden_size"] = "320";
  EXPECT_NE(load_error(j).find("hidden_size"), std::string::npos);
}

TEST(Config, UnsupportedModelType) {
  json j = fixture_config("tiny-v3-fp8");
  j["model_type"] = "llama";
  EXPECT_NE(load_error(j).find("llama"), std::string::npos);
}

TEST(Config, InconsistentGroups) {
  json j = fixture_config("tiny-v3-fp8");
  j["n_group"] = 3;  // 16 experts do not split into 3 groups
  EXPECT_NE(load_error(j).find("n_group"), std::string::npos);
}

TEST(Config, NotJson) {
  test::TempDir d;
  test::write_file(d.file("config.json"), "{ not json");
  EXPECT_THROW(load_hf_config(d.file("config.json")), Error);
}

// A number past double's range is nlohmann's out_of_range, not its parse_error: it escaped
// as an exception that named no file (found by fuzz_checkpoint).
TEST(Config, NumberPastDoubleRangeIsNotValidJson) {
  test::TempDir d;
  test::write_file(d.file("config.json"), R"({"model_type": "deepseek_v3", "vocab_size": 1E400})");
  try {
    load_hf_config(d.file("config.json"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(d.file("config.json") + ": not valid JSON"), std::string::npos) << e.what();
  }
}

// A zero (or negative) expert count is a bad field, not a dense model whose FFN tensors are
// then reported missing; absent or null still means dense.
TEST(Config, ExpertCountMustBePositiveWhenGiven) {
  for (int n : {0, -4}) {
    json j = fixture_config("tiny-v3-fp8");
    j["n_routed_experts"] = n;
    const std::string e = load_error(j);
    EXPECT_NE(e.find("field 'n_routed_experts' is " + std::to_string(n) + "; must be at least 1"), std::string::npos) << e;
  }
}

TEST(Config, NumbersOutOfRangeAreNamed) {
  const std::pair<const char*, json> cases[] = {{"max_position_embeddings", 0},
                                                {"max_position_embeddings", int64_t(1) << 40},
                                                {"hidden_size", int64_t(1) << 40},
                                                {"routed_scaling_factor", -1.0},
                                                {"num_hidden_layers", 100000}};
  for (const auto& [key, v] : cases) {
    json j = fixture_config("tiny-v3-fp8");
    j[key] = v;
    EXPECT_NE(load_error(j).find(key), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace dsinfer
