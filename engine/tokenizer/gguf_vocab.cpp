#include "engine/tokenizer/gguf_vocab.h"

#include "engine/tokenizer/pre_tokenizer.h"
#include "quant/gguf_reader.h"
#include "simd/error.h"

namespace dsinfer {

namespace {

// The pipelines of the DeepSeek tokenizer.json files, spelled exactly as those files spell them,
// so a pipeline read from tokenizer.json compares equal to its name's. Non-ASCII characters are
// written as code points: several range ends here (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126,
// U+212A) have canonical singleton decompositions, and a copy that went through Unicode
// normalization silently turns them into other characters and the ranges into different ones.
constexpr const char* kDeepSeekV3[] = {
    "\\p{N}{1,3}",
    "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
    ("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
     " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
};

// DeepSeek LLM / V2 / V2-Lite: letters are the cased letters of Unicode 11, listed.
constexpr const char* kDeepSeekLlm[] = {
    "[\r\n]",
    ("\\s?["
     "A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF"
     "\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5"
     "\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA"
     "\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45"
     "\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE"
     "\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC"
     "\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139"
     "\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3"
     "\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06"
     "\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3"
     "\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF"
     "\U0001E900-\U0001E943"
     "]+"),
    "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+",
    "\\s+$",
    "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
    "\\p{N}+",
};

constexpr const char* kDeepSeekCoder[] = {
    "[\r\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
    "\\p{N}",
};

constexpr const char* kKnownNames[] = {"deepseek-v3", "deepseek-llm", "deepseek-coder"};

// Text on which the known pipelines all split differently from each other and from near misses:
// digits, CJK, kana, Hangul, letters on both sides of the Unicode-11 list, punctuation runs,
// whitespace and line ends.
constexpr const char* kProbe =
    "Hello, World! It's 2024-01-15; x=12345678.9 \u4F60\u597D\uFF0C\u4E16\u754C\u3002 "
    "\u3053\u3093\u306B\u3061\u306F \u30AB\u30BF\u30AB\u30CA \uC548\uB155\uD558\uC138\uC694 "
    "\u1F7D\u1FBE\u2126\u212A \u00E9t\u00E9 \u0394\u03B5\u03BB\u03C4\u03B1 \u0645\u0631\u062D\u0628\u0627 "
    "\u0928\u092E\u0938\u094D\u0924\u0947 foo_bar(baz)->qux  \t\n\n  \r\n\u3000end \U0001F600\U0001F44D!! "
    "\uFF01\uFF1F ... 1\u20AC \u00BD";

template <size_t N>
std::vector<PreTokenizerStep> isolated_splits(const char* const (&patterns)[N]) {
  std::vector<PreTokenizerStep> steps;
  for (const char* p : patterns) {
    PreTokenizerStep st;
    st.pattern = p;
    steps.push_back(std::move(st));
  }
  return steps;
}

}  // namespace

std::optional<std::vector<PreTokenizerStep>> gguf_pre_tokenizer(std::string_view name) {
  if (name == "deepseek-v3") return isolated_splits(kDeepSeekV3);
  if (name == "deepseek-llm") return isolated_splits(kDeepSeekLlm);
  if (name == "deepseek-coder") return isolated_splits(kDeepSeekCoder);
  return std::nullopt;
}

std::optional<std::string> gguf_pre_tokenizer_name(const std::vector<PreTokenizerStep>& steps) {
  auto same_text = [](const std::vector<PreTokenizerStep>& a, const std::vector<PreTokenizerStep>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].kind != b[i].kind || a[i].pattern != b[i].pattern || a[i].literal != b[i].literal ||
          a[i].behavior != b[i].behavior || a[i].invert != b[i].invert)
        return false;
    return true;
  };
  for (const char* name : kKnownNames)
    if (same_text(steps, *gguf_pre_tokenizer(name))) return name;
  // Spelled differently (escapes instead of characters, say): compare how they split the probe.
  struct Collect final : PieceSink {
    std::vector<std::string> pieces;
    void piece(std::string_view p) override { pieces.emplace_back(p); }
  };
  auto split = [](const std::vector<PreTokenizerStep>& st) {
    PreTokenizerScratch s;
    RegexScratch rs;
    Collect c;
    PreTokenizer(st, "pre-tokenizer").run(kProbe, s, rs, c);
    return c.pieces;
  };
  std::vector<std::string> mine;
  try {
    mine = split(steps);
  } catch (const Error&) {
    return std::nullopt;
  }
  for (const char* name : kKnownNames)
    if (split(*gguf_pre_tokenizer(name)) == mine) return name;
  return std::nullopt;
}

TokenizerSpec spec_from_gguf(const GgufVocab& v, const std::string& where) {
  if (v.model != "gpt2")
    fail(where, "tokenizer.ggml.model " + gguf_quote(v.model) + " is not supported (only 'gpt2', byte-level BPE)");
  auto pre = gguf_pre_tokenizer(v.pre);
  if (!pre)
    fail(where, "tokenizer.ggml.pre " + gguf_quote(v.pre) +
                    " is not a known pre-tokenizer (known: deepseek-v3, deepseek-llm, deepseek-coder)");
  if (v.tokens.empty()) fail(where, "tokenizer.ggml.tokens is missing or empty");
  if (!v.token_types.empty() && v.token_types.size() != v.tokens.size())
    fail(where, "tokenizer.ggml.token_type has " + std::to_string(v.token_types.size()) + " entries for " +
                    std::to_string(v.tokens.size()) + " tokens");
  TokenizerSpec spec;
  spec.source = where;
  spec.tokens = v.tokens;
  spec.types.resize(v.tokens.size(), TokenType::Normal);
  for (size_t i = 0; i < v.token_types.size(); ++i) {
    const int32_t t = v.token_types[i];
    if (t < 0 || t > int32_t(TokenType::Byte))
      fail(where, "tokenizer.ggml.token_type of token " + std::to_string(i) + " is " + std::to_string(t));
    spec.types[i] = t == 0 ? TokenType::Normal : TokenType(t);
  }
  spec.merges.reserve(v.merges.size());
  for (size_t r = 0; r < v.merges.size(); ++r) {
    const std::string& m = v.merges[r];
    // A space splits the pair; it cannot be the first character, which belongs to the left token.
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos || sp + 1 >= m.size())
      fail(where, "tokenizer.ggml.merges entry " + std::to_string(r) + " (" + gguf_quote(m) + ") is not two tokens");
    spec.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }
  // GGUF keeps the byte-level mapping implicit in the model type; the steps are the splits.
  spec.pre_tokenizer = std::move(*pre);
  auto id = [&](int64_t i, const char* key) -> int32_t {
    if (i < -1 || i >= int64_t(v.tokens.size()))
      fail(where, std::string(key) + " " + std::to_string(i) + " is outside the vocabulary");
    return int32_t(i);
  };
  spec.bos_id = id(v.bos_id, "tokenizer.ggml.bos_token_id");
  spec.eos_id = id(v.eos_id, "tokenizer.ggml.eos_token_id");
  spec.add_bos = v.add_bos.value_or(spec.bos_id >= 0);
  spec.chat_template = v.chat_template;
  return spec;
}

}  // namespace dsinfer
