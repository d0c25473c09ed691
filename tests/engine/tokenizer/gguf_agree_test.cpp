// The same tokenizer through its two doors: tokenizer.json, and GGUF metadata. The GGUF side is
// built here from the raw tokenizer.json the way the GGUF converter writes it (tokens by id,
// padded to the model's vocab_size with unused "[PAD<id>]" entries; llama.cpp token types;
// merges as "left right"; only the pre-tokenizer's name), then both must give identical ids.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "engine/tokenizer/gguf_vocab.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "simd/error.h"
#include "tests/engine/tokenizer/tokenizer_fixture.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

// The converter's rule for added tokens that are control tokens without saying so.
bool converter_looks_special(const std::string& t) {
  auto wrapped = [&](const std::string& a, const std::string& b) {
    return t.size() >= a.size() + b.size() && t.compare(0, a.size(), a) == 0 &&
           t.compare(t.size() - b.size(), b.size(), b) == 0;
  };
  return wrapped("<|", "|>") || wrapped("<｜", "｜>");
}

GgufVocab gguf_from_hf_files() {
  const auto tj = nlohmann::json::parse(test::read_file(test::deepseek_v3_dir() + "/tokenizer.json"));
  const auto tc = nlohmann::json::parse(test::read_file(test::deepseek_v3_dir() + "/tokenizer_config.json"));
  const size_t vocab_size = 129280;  // config.json of DeepSeek-V3
  GgufVocab v;
  v.model = "gpt2";
  v.pre = "deepseek-v3";
  v.tokens.resize(vocab_size);
  v.token_types.assign(vocab_size, 5);  // unused
  for (size_t i = 0; i < vocab_size; ++i) v.tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (const auto& [text, id] : tj["model"]["vocab"].items()) {
    v.tokens[id.get<size_t>()] = text;
    v.token_types[id.get<size_t>()] = 1;  // normal
  }
  for (const auto& a : tj["added_tokens"]) {
    const auto id = a["id"].get<size_t>();
    v.tokens[id] = a["content"].get<std::string>();
    v.token_types[id] = a["special"].get<bool>() || converter_looks_special(v.tokens[id]) ? 3 : 4;
  }
  for (const auto& m : tj["model"]["merges"]) v.merges.push_back(m.get<std::string>());
  v.bos_id = 0;
  v.eos_id = 1;
  v.add_bos = true;
  v.chat_template = tc["chat_template"].get<std::string>();
  return v;
}

const Tokenizer& from_gguf() {
  static const Tokenizer t(spec_from_gguf(gguf_from_hf_files(), "deepseek-v3.gguf"));
  return t;
}

TEST(GgufAgree, GoldenLinesThroughGgufMetadata) {
  const Tokenizer& g = from_gguf();
  for (const auto& line : test::golden_lines()) {
    EXPECT_EQ(g.encode(line.text), line.ids) << "golden line " << line.line << ": " << test::printable(line.text);
    EXPECT_EQ(g.decode(line.ids), line.text) << "golden line " << line.line;
  }
  EXPECT_EQ(g.bos_id(), 0);
  EXPECT_EQ(g.eos_id(), 1);
  EXPECT_EQ(g.n_tokens(), 129280);
}

// Random mixtures of the golden texts, with and without special-token parsing.
TEST(GgufAgree, BothDoorsGiveTheSameIds) {
  const Tokenizer& g = from_gguf();
  const Tokenizer& j = test::deepseek_v3();
  const auto& lines = test::golden_lines();
  std::mt19937 rng(1234);
  for (int k = 0; k < 200; ++k) {
    std::string text;
    const int parts = 1 + int(rng() % 5);
    for (int p = 0; p < parts; ++p) text += lines[rng() % lines.size()].text;
    EncodeOptions o;
    o.parse_special = k % 2 == 0;
    EXPECT_EQ(g.encode(text, o), j.encode(text, o)) << test::printable(text);
  }
  // Same decoding of every real token.
  for (int32_t id = 0; id < j.n_tokens(); ++id) ASSERT_EQ(g.token_bytes(id), j.token_bytes(id)) << id;
}

std::string gguf_error(const GgufVocab& v) {
  try {
    Tokenizer t(spec_from_gguf(v, "model.gguf"));
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("model.gguf"), std::string::npos) << m;
    return m;
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(GgufAgree, BadMetadataIsNamed) {
  GgufVocab v;
  v.model = "gpt2";
  v.pre = "deepseek-v3";
  v.tokens = {"a", "b", "ab"};
  v.merges = {"a b"};
  EXPECT_NO_THROW(Tokenizer(spec_from_gguf(v, "model.gguf")));

  GgufVocab w = v;
  w.pre = "qwen-7";
  EXPECT_NE(gguf_error(w).find("qwen-7"), std::string::npos);
  w = v;
  w.model = "llama";
  EXPECT_NE(gguf_error(w).find("llama"), std::string::npos);
  w = v;
  w.merges = {"a c"};
  EXPECT_NE(gguf_error(w).find("'c' is not in the vocabulary"), std::string::npos);
  w = v;
  w.merges = {"ab"};
  EXPECT_NE(gguf_error(w).find("merges"), std::string::npos);
  w = v;
  w.token_types = {1, 1};
  EXPECT_NE(gguf_error(w).find("token_type"), std::string::npos);
  w = v;
  w.bos_id = 7;
  EXPECT_NE(gguf_error(w).find("bos_token_id"), std::string::npos);
}

// Writing GGUF goes the other way: tokenizer.json's pipeline must be recognised by name.
TEST(GgufAgree, TokenizerJsonPipelineHasItsGgufName) {
  const std::vector<PreTokenizerStep> steps = load_tokenizer_spec(test::deepseek_v3_dir()).pre_tokenizer;
  const auto named = gguf_pre_tokenizer("deepseek-v3");
  ASSERT_TRUE(named);
  ASSERT_EQ(steps.size(), named->size());
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].pattern, (*named)[i].pattern) << "step " << i;
  EXPECT_EQ(gguf_pre_tokenizer_name(steps), "deepseek-v3");
  // Spelled with escapes instead of characters, it is still recognised by how it splits text.
  std::vector<PreTokenizerStep> respelled = steps;
  respelled[1].pattern = "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+";
  EXPECT_EQ(gguf_pre_tokenizer_name(respelled), "deepseek-v3");
  // Not the same pipeline: digits one at a time.
  std::vector<PreTokenizerStep> other = steps;
  other[0].pattern = "\\p{N}";
  EXPECT_EQ(gguf_pre_tokenizer_name(other), std::nullopt);
  for (const char* name : {"deepseek-v3", "deepseek-llm", "deepseek-coder"})
    EXPECT_EQ(gguf_pre_tokenizer_name(*gguf_pre_tokenizer(name)), name);
}

TEST(GgufAgree, KnownPreTokenizerNamesCompile) {
  for (const char* name : {"deepseek-v3", "deepseek-llm", "deepseek-coder"}) {
    auto steps = gguf_pre_tokenizer(name);
    ASSERT_TRUE(steps) << name;
    EXPECT_NO_THROW(PreTokenizer(*steps, name)) << name;
  }
  EXPECT_FALSE(gguf_pre_tokenizer("gpt-9"));
}

}  // namespace
}  // namespace dsinfer
