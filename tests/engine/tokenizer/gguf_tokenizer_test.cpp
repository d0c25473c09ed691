// The tokenizer written into a GGUF file by our converter and read back from it encodes and
// decodes exactly like the tokenizer.json it came from (and like the reference goldens).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/model/model.h"
#include "engine/model/model_tokenizer.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "quant/gguf_writer.h"
#include "simd/error.h"
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

// A NUL inside a token or a merge used to end the error message there (the rest, and the
// problem itself, were lost): the bytes are shown escaped and the message is whole.
std::string gguf_tokenizer_error(const std::vector<std::string>& tokens, const std::vector<std::string>& merges) {
  test::TempDir d;
  {
    GgufWriter w(d.file("t.gguf"));
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "deepseek-v3");
    w.set_array("tokenizer.ggml.tokens", tokens);
    w.set_array("tokenizer.ggml.merges", merges);
    w.finish();
  }
  try {
    open_tokenizer_any(d.file("t.gguf"));
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(GgufTokenizer, NulBytesInTokensAndMergesKeepTheMessageWhole) {
  const std::string nul("b\0c", 3);
  const std::string m = gguf_tokenizer_error({"a", nul}, {"a" + nul});
  EXPECT_NE(m.find("tokenizer.ggml.merges entry 0 ('ab\\x00c') is not two tokens"), std::string::npos) << m;
  const std::string t = gguf_tokenizer_error({"a", nul}, {"a " + nul});
  EXPECT_NE(t.find("the merged token 'ab\\x00c' is not in the vocabulary"), std::string::npos) << t;
}

}  // namespace
}  // namespace dsinfer
