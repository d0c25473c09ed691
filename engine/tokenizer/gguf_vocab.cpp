#include "engine/tokenizer/gguf_vocab.h"

#include "quant/error.h"

namespace dsinfer {

namespace {

// The patterns of the DeepSeek tokenizer.json files, as GGUF converters name them. Character
// ranges are written as code points: several endpoints (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126,
// U+212A) have canonical singleton decompositions, and a copy that went through Unicode
// normalization silently turns them into other characters and the ranges into nonsense.
constexpr const char* kDeepSeekV3[] = {
    "\\p{N}{1,3}",
    "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
    " ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

// DeepSeek LLM / V2 / V2-Lite: letters are the cased letters of Unicode 11 (listed, not \p{LC}).
constexpr const char* kDeepSeekLlm[] = {
    "[\\r\\n]",
    "\\s?[\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}-\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}"
    "\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}"
    "\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"
    "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"
    "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}"
    "\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
    "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
    "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
    "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}-\\x{2184}"
    "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}-\\x{2CF3}\\x{A640}-\\x{A66D}"
    "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
    "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
    "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
    "\\x{1E900}-\\x{1E943}]+",
    "\\s?[\\x{21}-\\x{2F}\\x{3A}-\\x{7E}\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
    "\\s+$",
    "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}+",
};

constexpr const char* kDeepSeekCoder[] = {
    "[\\r\\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}",
};

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

TokenizerSpec spec_from_gguf(const GgufVocab& v, const std::string& where) {
  if (v.model != "gpt2")
    fail(where, "tokenizer.ggml.model '" + v.model + "' is not supported (only 'gpt2', byte-level BPE)");
  auto pre = gguf_pre_tokenizer(v.pre);
  if (!pre)
    fail(where, "tokenizer.ggml.pre '" + v.pre +
                    "' is not a known pre-tokenizer (known: deepseek-v3, deepseek-llm, deepseek-coder)");
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
      fail(where, "tokenizer.ggml.merges entry " + std::to_string(r) + " ('" + m + "') is not two tokens");
    spec.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }
  // GGUF keeps the byte-level mapping implicit in the model type; the steps are the splits.
  spec.pre_tokenizer = std::move(*pre);
  auto id = [&](int64_t i, const char* key) -> int32_t {
    if (i < -1 || i >= int64_t(v.tokens.size())) fail(where, std::string(key) + " " + std::to_string(i) + " is outside the vocabulary");
    return int32_t(i);
  };
  spec.bos_id = id(v.bos_id, "tokenizer.ggml.bos_token_id");
  spec.eos_id = id(v.eos_id, "tokenizer.ggml.eos_token_id");
  spec.add_bos = v.add_bos.value_or(spec.bos_id >= 0);
  spec.chat_template = v.chat_template;
  return spec;
}

}  // namespace dsinfer
