// Pre-tokenizer pipelines on their own: the split behaviours and pre-tokenizers of Hugging Face
// (expected pieces from the examples in its documentation), the GGUF-named DeepSeek pipelines,
// and the added-token search.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/tokenizer/added_tokens.h"
#include "engine/tokenizer/gguf_vocab.h"
#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/tokenizer_json.h"

namespace dsinfer {
namespace {

using Pieces = std::vector<std::string>;

struct Collect final : PieceSink {
  Pieces pieces;
  void piece(std::string_view p) override { pieces.emplace_back(p); }
};

Pieces run(const std::vector<PreTokenizerStep>& steps, const std::string& text) {
  PreTokenizer p(steps, "test");
  PreTokenizerScratch s;
  RegexScratch rs;
  Collect c;
  p.run(text, s, rs, c);
  return c.pieces;
}

// The steps tokenizer.json's pre_tokenizer section turns into (a ByteLevel step without regex
// is added, as the loader insists on byte-level tokenizers, and splits nothing).
std::vector<PreTokenizerStep> steps_of(const nlohmann::json& pre) {
  nlohmann::json j = {
      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", nlohmann::json::array()}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers", {pre, {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}}};
  return parse_tokenizer_json(j.dump(), "test").pre_tokenizer;
}

std::vector<PreTokenizerStep> split(const char* behavior, bool invert = false) {
  return steps_of({{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}});
}

TEST(PreTokenizer, SplitBehaviours) {
  const std::string s = "the-final--countdown";
  EXPECT_EQ(run(split("Removed"), s), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(run(split("Isolated"), s), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(run(split("MergedWithPrevious"), s), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(run(split("MergedWithNext"), s), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(run(split("Contiguous"), s), (Pieces{"the", "-", "final", "--", "countdown"}));
  EXPECT_EQ(run(split("Removed", /*invert=*/true), s), (Pieces{"-", "-", "-"}));
}

TEST(PreTokenizer, NamedPreTokenizers) {
  EXPECT_EQ(run(steps_of({{"type", "Whitespace"}}), "Hey friend!     How are you?!?"),
            (Pieces{"Hey", "friend", "!", "How", "are", "you", "?!?"}));
  EXPECT_EQ(run(steps_of({{"type", "WhitespaceSplit"}}), "Hey friend!  x"), (Pieces{"Hey", "friend!", "x"}));
  EXPECT_EQ(run(steps_of({{"type", "Digits"}, {"individual_digits", true}}), "Call 123 please"),
            (Pieces{"Call ", "1", "2", "3", " please"}));
  EXPECT_EQ(run(steps_of({{"type", "Digits"}, {"individual_digits", false}}), "Call 123 please"),
            (Pieces{"Call ", "123", " please"}));
  EXPECT_EQ(run(steps_of({{"type", "Punctuation"}, {"behavior", "Isolated"}}), "Hey friend!? $5"),
            (Pieces{"Hey friend", "!", "?", " ", "$", "5"}));
  EXPECT_EQ(run(steps_of({{"type", "CharDelimiterSplit"}, {"delimiter", "x"}}), "axbxxc"), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(run(steps_of({{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}),
                "Hello my friend, how's it going?"),
            (Pieces{" Hello", " my", " friend", ",", " how", "'s", " it", " going", "?"}));
}

TEST(PreTokenizer, DeepSeekV3ByName) {
  const auto steps = *gguf_pre_tokenizer("deepseek-v3");
  // Digits in threes first, then CJK/kana runs, then the main pattern.
  EXPECT_EQ(run(steps, "Year 2024年12345 ok"), (Pieces{"Year", " ", "202", "4", "年", "123", "45", " ok"}));
  EXPECT_EQ(run(steps, "x.push_back(y);\n\n  end"), (Pieces{"x", ".push", "_back", "(y", ");\n\n", " ", " end"}));
}

TEST(PreTokenizer, DeepSeekLlmByName) {
  const auto steps = *gguf_pre_tokenizer("deepseek-llm");
  EXPECT_EQ(run(steps, "Hello World 123\n你好"), (Pieces{"Hello", " World", " ", "123", "\n", "你好"}));
  // The letter class is written by code point: U+2126 (Ohm) and U+212A (Kelvin) are letters,
  // and the Euro sign, which a normalized copy's range "K-ℭ" would swallow, is not.
  EXPECT_EQ(run(steps, "abc\u20AC"), (Pieces{"abc", "\u20AC"}));
  EXPECT_EQ(run(steps, "\u2126\u212A"), (Pieces{"\u2126\u212A"}));
  EXPECT_EQ(run(steps, "ok!! \uFF01"), (Pieces{"ok", "!!", " \uFF01"}));
}

std::vector<AddedTokenMatch> find(const AddedTokenMatcher& m, const std::string& text, bool allow_control = true) {
  RegexScratch rs;
  std::vector<AddedTokenMatch> out;
  m.find(text, allow_control, rs, out);
  return out;
}

TEST(AddedTokens, LeftmostThenLongest) {
  AddedTokenMatcher m({{1, "<a>", {}, true}, {2, "<a><b>", {}, true}, {3, "a><", {}, false}});
  auto r = find(m, "x<a><b>y");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, 2);
  EXPECT_EQ(r[0].begin, 1u);
  EXPECT_EQ(r[0].end, 7u);
  // With control tokens off, the leftmost-longest match is dropped, not replaced by a shorter one.
  EXPECT_TRUE(find(m, "x<a><b>y", false).empty());
  r = find(m, "<a>c");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, 1);
}

TEST(AddedTokens, SingleWordAndStrip) {
  AddedTokenFlags single;
  single.single_word = true;
  AddedTokenFlags strip;
  strip.lstrip = strip.rstrip = true;
  AddedTokenMatcher m({{1, "ab", single, false}, {2, "<m>", strip, false}});
  auto r = find(m, "ab cab abc ab");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].begin, 0u);
  EXPECT_EQ(r[1].begin, 11u);
  r = find(m, "I saw a \u3000<m>\t\n x");  // Unicode whitespace is stripped too
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].begin, 7u);
  EXPECT_EQ(r[0].end, 17u);
}

}  // namespace
}  // namespace dsinfer
