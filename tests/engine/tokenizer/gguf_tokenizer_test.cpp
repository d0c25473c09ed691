// The tokenizer written into a GGUF file by our converter and read back from it encodes and
// decodes exactly like the tokenizer.json it came from (and like the reference goldens).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/model/model.h"
#include "engine/model/model_tokenizer.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

TEST(GgufTokenizer, EmbeddedTokenizerMatchesGoldensAndJson) {
  test::TempDir d;
  const std::string tok_dir = test::fixture("tokenizer-deepseek-v3");
  auto r = test::run_dsinfer("synth --preset tiny --layers 1 --quiet --tokenizer " + tok_dir + " -o " + d.file("t.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto model = Model::open(d.file("t.gguf"));
  auto from_gguf = open_model_tokenizer(*model);
  ASSERT_NE(from_gguf, nullptr);
  auto from_json = open_tokenizer(tok_dir);
  EXPECT_EQ(from_gguf->bos_id(), from_json->bos_id());
  EXPECT_EQ(from_gguf->eos_id(), from_json->eos_id());
  EXPECT_EQ(from_gguf->chat_template(), from_json->chat_template());
  std::ifstream in(tok_dir + "/golden.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const std::string text = j["text"];
    const auto want = j["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(from_gguf->encode(text), want) << text;
    EXPECT_EQ(from_gguf->decode(want), text);
    ++lines;
  }
  EXPECT_GE(lines, 60);
  for (int32_t id = 0; id < from_json->n_tokens(); ++id)
    ASSERT_EQ(from_gguf->token_bytes(id), from_json->token_bytes(id)) << id;
  // The padding rows of the embedding (vocab rounded up) are unused tokens, never produced.
  EXPECT_GE(model->config().vocab_size, from_json->n_tokens());
}

}  // namespace
}  // namespace dsinfer
