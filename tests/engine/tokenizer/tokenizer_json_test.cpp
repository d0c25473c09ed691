// tokenizer.json loading: a small hand-made tokenizer whose ids can be worked out by hand
// (added-token flags, prefix space, normalizers), and malformed files that must be refused with
// one line naming the file and the problem.
#include <gtest/gtest.h>

#include "engine/tokenizer/tokenizer_json.h"
#include "simd/error.h"
#include "tests/engine/tokenizer/tiny_tokenizer.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

using Ids = std::vector<int32_t>;
using nlohmann::json;

Tokenizer tiny(const json& j) { return Tokenizer(parse_tokenizer_json(j.dump(), "tiny.json")); }

TEST(TokenizerJson, TinyTokenizerMerges) {
  const Tokenizer t = tiny(test::tiny_tokenizer_json());
  EXPECT_EQ(t.encode("hello"), (Ids{259}));
  EXPECT_EQ(t.encode("hello hello"), (Ids{259, ' ', 259}));  // " hello" is one pre-token; no merge for "Ġhello"
  EXPECT_EQ(t.encode("hell"), (Ids{258}));
  EXPECT_EQ(t.encode("help"), (Ids{256, 'l', 'p'}));
  EXPECT_EQ(t.decode(Ids{259, ' ', 258, 'o', '!'}), "hello hello!");
  EXPECT_EQ(t.decode(Ids{0xC3, 0xA9}), "é");  // two byte tokens make one character
}

TEST(TokenizerJson, AddedTokensWithStripFlags) {
  const Tokenizer t = tiny(test::tiny_tokenizer_json());
  // <tool> has lstrip and rstrip: it swallows the spaces around it.
  EXPECT_EQ(t.encode("a <tool> b"), (Ids{'a', 261, 'b'}));
  EXPECT_EQ(t.encode("a<tool>b"), (Ids{'a', 261, 'b'}));
  EXPECT_EQ(t.encode("x<|sp|>hello"), (Ids{'x', 260, 259}));
}

TEST(TokenizerJson, NoSpecialDisablesOnlyControlTokens) {
  const Tokenizer t = tiny(test::tiny_tokenizer_json());
  EncodeOptions o;
  o.parse_special = false;
  // GPT-2 pieces "x", "<|", "sp", "|>", "y", no merges among them: one id per byte.
  EXPECT_EQ(t.encode("x<|sp|>y", o), (Ids{'x', '<', '|', 's', 'p', '|', '>', 'y'}));
  EXPECT_EQ(t.encode("a <tool> b", o), (Ids{'a', 261, 'b'}));  // user-defined tokens still count
}

TEST(TokenizerJson, ByteLevelPrefixSpace) {
  json j = test::tiny_tokenizer_json();
  j["pre_tokenizer"]["add_prefix_space"] = true;
  const Tokenizer t = tiny(j);
  EXPECT_EQ(t.encode("hello"), (Ids{' ', 259}));
  EXPECT_EQ(t.encode(" hello"), (Ids{' ', 259}));  // already starts with a space
}

TEST(TokenizerJson, Normalizers) {
  json j = test::tiny_tokenizer_json();
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers",
                      {{{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}},
                       {{"type", "Replace"}, {"pattern", {{"Regex", "l+"}}}, {"content", "l"}},
                       {{"type", "Prepend"}, {"prepend", "x"}}}}};
  const Tokenizer t = tiny(j);
  EXPECT_EQ(t.encode("  hello \n"), (Ids{'x', 256, 'l', 'o'}));  // "xhelo"
  // Literal Replace.
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", "ab"}}}, {"content", "hello"}};
  EXPECT_EQ(tiny(j).encode("ab"), (Ids{259}));
}

TEST(TokenizerJson, MergesAsPairs) {
  json j = test::tiny_tokenizer_json();
  j["model"]["merges"] = json::array(
      {json::array({"h", "e"}), json::array({"l", "l"}), json::array({"he", "ll"}), json::array({"hell", "o"})});
  EXPECT_EQ(tiny(j).encode("hello"), (Ids{259}));
}

TEST(TokenizerJson, ReadsTokenizerConfig) {
  test::TempDir d;
  json j = test::tiny_tokenizer_json();
  test::write_file(d.file("tokenizer.json"), j.dump());
  test::write_file(d.file("tokenizer_config.json"),
                   json{{"bos_token", {{"__type", "AddedToken"}, {"content", "<|sp|>"}}},
                        {"eos_token", "<tool>"},
                        {"add_bos_token", false},
                        {"chat_template", "{{ bos_token }}"}}
                       .dump());
  const auto t = open_tokenizer(d.path());
  EXPECT_EQ(t->bos_id(), 260);
  EXPECT_EQ(t->eos_id(), 261);
  EXPECT_FALSE(t->adds_bos());
  EXPECT_EQ(t->chat_template(), "{{ bos_token }}");
}

// The message of loading `j` (as text) from a file; checks the one-line, names-the-file contract.
std::string load_error(const std::string& text) {
  test::TempDir d;
  test::write_file(d.file("tokenizer.json"), text);
  try {
    open_tokenizer(d.path());
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(d.file("tokenizer.json")), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "one line: " << m;
    return m;
  }
  ADD_FAILURE() << "no error";
  return "";
}

std::string load_error(const json& j) { return load_error(j.dump()); }

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(TokenizerJsonErrors, NotJson) { EXPECT_TRUE(has(load_error(std::string("{\"model\": ")), "not valid JSON")); }

// A number past double's range (nlohmann's out_of_range, not parse_error), in tokenizer.json and
// in tokenizer_config.json, read by another path.
TEST(TokenizerJsonErrors, NumberPastDoubleRange) {
  json j = test::tiny_tokenizer_json();
  std::string text = j.dump();
  text.insert(1, "\"n\": 1E400, ");
  const std::string m = load_error(text);
  EXPECT_TRUE(has(m, "not valid JSON")) << m;
  test::TempDir d;
  test::write_file(d.file("tokenizer.json"), j.dump());
  test::write_file(d.file("tokenizer_config.json"), R"({"add_bos_token": false, "n": 1E400})");
  try {
    open_tokenizer(d.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(has(e.what(), d.file("tokenizer_config.json") + ": not valid JSON")) << e.what();
  }
}

TEST(TokenizerJsonErrors, MissingModel) {
  json j = test::tiny_tokenizer_json();
  j.erase("model");
  EXPECT_TRUE(has(load_error(j), "no \"model\" section"));
}

TEST(TokenizerJsonErrors, MissingVocabOrMerges) {
  json j = test::tiny_tokenizer_json();
  j["model"].erase("vocab");
  EXPECT_TRUE(has(load_error(j), "vocab"));
  j = test::tiny_tokenizer_json();
  j["model"].erase("merges");
  EXPECT_TRUE(has(load_error(j), "merges"));
}

TEST(TokenizerJsonErrors, MergeOfUnknownToken) {
  json j = test::tiny_tokenizer_json();
  j["model"]["merges"].push_back("hello zz");
  const std::string m = load_error(j);
  EXPECT_TRUE(has(m, "merge 4")) << m;
  EXPECT_TRUE(has(m, "'zz' is not in the vocabulary")) << m;
}

TEST(TokenizerJsonErrors, MergeWhoseResultIsMissing) {
  json j = test::tiny_tokenizer_json();
  j["model"]["merges"].push_back("o h");
  EXPECT_TRUE(has(load_error(j), "merged token 'oh' is not in the vocabulary"));
}

TEST(TokenizerJsonErrors, MalformedMerge) {
  json j = test::tiny_tokenizer_json();
  j["model"]["merges"][1] = "hel";
  const std::string m = load_error(j);
  EXPECT_TRUE(has(m, "merge 1 ('hel') is not two tokens")) << m;
  j["model"]["merges"][1] = 7;
  EXPECT_TRUE(has(load_error(j), "merge 1 is neither"));
}

TEST(TokenizerJsonErrors, InvalidRegex) {
  json j = test::tiny_tokenizer_json();
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"}, {"pattern", {{"Regex", "(\\p{L}+"}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  const std::string m = load_error(j);
  EXPECT_TRUE(has(m, "invalid regex '(\\p{L}+'")) << m;
  EXPECT_TRUE(has(m, "missing closing parenthesis")) << m;
}

TEST(TokenizerJsonErrors, UnsupportedPieces) {
  json j = test::tiny_tokenizer_json();
  j["normalizer"] = {{"type", "NFKC"}};
  EXPECT_TRUE(has(load_error(j), "normalizer 'NFKC' is not supported"));
  j = test::tiny_tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "_"}};
  EXPECT_TRUE(has(load_error(j), "pre_tokenizer 'Metaspace' is not supported"));
  j = test::tiny_tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  EXPECT_TRUE(has(load_error(j), "byte-level"));
  j = test::tiny_tokenizer_json();
  j["model"]["type"] = "WordPiece";
  EXPECT_TRUE(has(load_error(j), "model type \"WordPiece\" is not supported"));
  j = test::tiny_tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  EXPECT_TRUE(has(load_error(j), "unknown split behavior 'Sideways'"));
}

TEST(TokenizerJsonErrors, BadVocabulary) {
  json j = test::tiny_tokenizer_json();
  j["model"]["vocab"]["zz"] = -3;
  EXPECT_TRUE(has(load_error(j), "vocabulary entry 'zz' has no valid id"));
  j = test::tiny_tokenizer_json();
  j["model"]["vocab"]["zz"] = "seven";
  EXPECT_TRUE(has(load_error(j), "vocabulary entry 'zz' has no valid id"));
  j = test::tiny_tokenizer_json();
  j["model"]["vocab"] = json::object();
  EXPECT_TRUE(has(load_error(j), "the vocabulary is empty"));
  j = test::tiny_tokenizer_json();
  j["model"]["vocab"]["zz"] = 5;
  EXPECT_TRUE(has(load_error(j), "token id 5 is used twice"));
  j = test::tiny_tokenizer_json();
  j["added_tokens"][0].erase("id");
  EXPECT_TRUE(has(load_error(j), "added token has no valid \"id\""));
}

TEST(TokenizerJsonErrors, MissingDirectoryOrFile) {
  test::TempDir d;
  try {
    open_tokenizer(d.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_TRUE(has(e.what(), d.path() + ": no tokenizer.json")) << e.what();
  }
  EXPECT_THROW(open_tokenizer(d.file("nope")), Error);
}

}  // namespace
}  // namespace dsinfer
