// Streaming detokenization: only complete characters ever come out, a character split across
// tokens (or bytes) is held until complete, and ill-formed bytes become U+FFFD, never raw.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/tokenizer/token_stream.h"
#include "engine/tokenizer/utf8_stream.h"
#include "tests/engine/tokenizer/tokenizer_fixture.h"

namespace dsinfer {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// Offsets where a character of valid UTF-8 `s` starts (and s.size()).
std::vector<size_t> char_starts(const std::string& s) {
  std::vector<size_t> v;
  for (size_t i = 0; i < s.size(); ++i)
    if ((uint8_t(s[i]) & 0xC0) != 0x80) v.push_back(i);
  v.push_back(s.size());
  return v;
}

bool at_char_start(const std::string& s, size_t at) {
  const auto v = char_starts(s);
  return std::find(v.begin(), v.end(), at) != v.end();
}

std::string lossy(const std::string& bytes, bool one_at_a_time = false) {
  Utf8Stream u;
  std::string out;
  if (one_at_a_time)
    for (char c : bytes) u.push(std::string_view(&c, 1), out);
  else
    u.push(bytes, out);
  u.finish(out);
  return out;
}

TEST(Utf8Stream, ByteAtATimeEmitsOnlyWholeCharacters) {
  const std::string text = "a你好😀👨‍👩‍👧é\u00A0z東京";
  Utf8Stream u;
  std::string all;
  for (size_t i = 0; i < text.size(); ++i) {
    std::string out;
    u.push(text.substr(i, 1), out);
    all += out;
    // Everything out so far is a prefix of the text that ends on a character boundary.
    EXPECT_EQ(text.compare(0, all.size(), all), 0) << "after byte " << i;
    EXPECT_TRUE(at_char_start(text, all.size())) << "partial character out after byte " << i;
    EXPECT_EQ(u.holding(), all.size() != i + 1) << i;
  }
  std::string tail;
  u.finish(tail);
  EXPECT_EQ(tail, "");
  EXPECT_EQ(all, text);
}

// Expected replacements follow the Unicode standard's "U+FFFD substitution of maximal
// subparts" (chapter 3, table 3-8 and its examples), which Rust's from_utf8_lossy also follows.
TEST(Utf8Stream, IllFormedBytesBecomeReplacementCharacters) {
  EXPECT_EQ(lossy("\xE2\x82"), kFffd);                          // truncated at the end
  EXPECT_EQ(lossy("\xE2\x82" "A"), kFffd + "A");                // truncated, then ASCII
  EXPECT_EQ(lossy("\xC0\xAF"), kFffd + kFffd);                  // overlong lead, stray continuation
  EXPECT_EQ(lossy("\xE0\x80\xAF"), kFffd + kFffd + kFffd);      // overlong 3-byte
  EXPECT_EQ(lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);      // surrogate
  EXPECT_EQ(lossy("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // above U+10FFFF
  EXPECT_EQ(lossy("\xF0\x9F\x98"), kFffd);                      // 3 of 4 bytes of an emoji
  EXPECT_EQ(lossy("\xF0\x9F\x98" "\xF0\x9F\x98\x80"), kFffd + "😀");
  EXPECT_EQ(lossy("\x80\xBF"), kFffd + kFffd);
  EXPECT_EQ(lossy("\xFE\xFF"), kFffd + kFffd);
  // The Unicode example: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a FFFD FFFD FFFD b FFFD c FFFD FFFD d
  EXPECT_EQ(lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + kFffd + kFffd + kFffd + "b" + kFffd + "c" + kFffd + kFffd + "d");
  // Fed a byte at a time, the result is the same.
  EXPECT_EQ(lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", true),
            "a" + kFffd + kFffd + kFffd + "b" + kFffd + "c" + kFffd + kFffd + "d");
}

// Token by token with the real tokenizer: emoji and rare CJK take several byte tokens each.
TEST(TokenStream, TokenByTokenEmitsOnlyWholeCharacters) {
  const Tokenizer& t = test::deepseek_v3();
  for (const auto& g : test::golden_lines()) {
    TokenStreamDecoder d(t);
    std::string all;
    for (size_t k = 0; k < g.ids.size(); ++k) {
      all += d.push(g.ids[k]);
      ASSERT_EQ(g.text.compare(0, all.size(), all), 0) << "golden line " << g.line << ", token " << k;
      ASSERT_TRUE(at_char_start(g.text, all.size())) << "golden line " << g.line << ", token " << k;
    }
    all += d.finish();
    EXPECT_EQ(all, g.text) << "golden line " << g.line;
  }
}

TEST(TokenStream, HoldsAnEmojiSplitAcrossTwoTokens) {
  const Tokenizer& t = test::deepseek_v3();
  const std::vector<int32_t> ids = t.encode("😀");
  ASSERT_EQ(ids.size(), 2u);  // golden: sixteen of them take 32 ids
  TokenStreamDecoder d(t);
  EXPECT_EQ(d.push(ids[0]), "");
  EXPECT_EQ(d.push(ids[1]), "😀");
  EXPECT_EQ(d.finish(), "");
}

// The single-byte tokens of the byte-level alphabet, fed one byte of a character at a time.
TEST(TokenStream, ByteTokensAtATime) {
  const Tokenizer& t = test::deepseek_v3();
  std::vector<int32_t> byte_token(256, -1);
  for (int32_t id = 0; id < t.n_tokens(); ++id) {
    const std::string_view b = t.token_bytes(id);
    if (b.size() == 1 && t.token_type(id) == TokenType::Normal && byte_token[uint8_t(b[0])] < 0)
      byte_token[uint8_t(b[0])] = id;
  }
  const std::string text = "深度求索😀👍🏽한국어";
  TokenStreamDecoder d(t);
  std::string all;
  for (size_t i = 0; i < text.size(); ++i) {
    const int32_t id = byte_token[uint8_t(text[i])];
    ASSERT_GE(id, 0) << "no token for byte " << int(uint8_t(text[i]));
    const std::string out = d.push(id);
    all += out;
    EXPECT_TRUE(at_char_start(text, all.size())) << "partial character after byte " << i;
  }
  EXPECT_EQ(all + d.finish(), text);
}

TEST(TokenStream, UnfinishedCharacterAtTheEndIsReplaced) {
  const Tokenizer& t = test::deepseek_v3();
  std::vector<int32_t> ids = t.encode("ok 😀");
  ids.pop_back();  // generation stopped inside the emoji
  TokenStreamDecoder d(t);
  std::string out;
  for (int32_t id : ids) out += d.push(id);
  EXPECT_EQ(out, "ok ");
  EXPECT_EQ(d.finish(), kFffd);
  EXPECT_EQ(t.decode(ids), "ok " + kFffd);
}

TEST(TokenStream, SkipsControlTokensOnRequest) {
  const Tokenizer& t = test::deepseek_v3();
  TokenStreamDecoder d(t, /*skip_special=*/true);
  EXPECT_EQ(d.push(1), "");  // <｜end▁of▁sentence｜>
  TokenStreamDecoder keep(t);
  EXPECT_EQ(keep.push(1), "<｜end▁of▁sentence｜>");
}

}  // namespace
}  // namespace dsinfer
