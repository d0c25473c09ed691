#include "tools/quantize/tokenizer_metadata.h"

#include <filesystem>

#include "engine/tokenizer/gguf_vocab.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "simd/error.h"

namespace dsinfer::cli {

namespace {

// GGUF names the pre-tokenizer; the file's pipeline must be one GGUF can name.
std::string pre_tokenizer_name(const TokenizerSpec& s, const ModelConfig& c) {
  if (auto name = gguf_pre_tokenizer_name(s.pre_tokenizer)) return *name;
  fail(s.source, "pre-tokenizer matches no pipeline GGUF can name (known: deepseek-v3, deepseek-llm, "
                 "deepseek-coder); model_type " + c.model_type);
}

}  // namespace

bool has_tokenizer(const std::string& dir) { return std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json"); }

void write_tokenizer_metadata(GgufWriter& w, const std::string& dir, const ModelConfig& c) {
  const TokenizerSpec s = load_tokenizer_spec(dir);
  if (int64_t(s.tokens.size()) > c.vocab_size)
    fail(s.source, std::to_string(s.tokens.size()) + " tokens do not fit vocab_size " + std::to_string(c.vocab_size));
  // The embedding has vocab_size rows; ids the tokenizer never produces are padding.
  std::vector<std::string> tokens = s.tokens;
  std::vector<int32_t> types;
  for (TokenType t : s.types) types.push_back(int32_t(t));
  for (int64_t i = int64_t(tokens.size()); i < c.vocab_size; ++i) {
    tokens.push_back("[PAD" + std::to_string(i) + "]");
    types.push_back(int32_t(TokenType::Unused));
  }
  std::vector<std::string> merges;
  merges.reserve(s.merges.size());
  for (const auto& [a, b] : s.merges) merges.push_back(a + " " + b);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", pre_tokenizer_name(s, c));
  w.set_array("tokenizer.ggml.tokens", tokens);
  w.set_array("tokenizer.ggml.token_type", types);
  w.set_array("tokenizer.ggml.merges", merges);
  if (s.bos_id >= 0) w.set_u32("tokenizer.ggml.bos_token_id", uint32_t(s.bos_id));
  if (s.eos_id >= 0) w.set_u32("tokenizer.ggml.eos_token_id", uint32_t(s.eos_id));
  w.set_bool("tokenizer.ggml.add_bos_token", s.add_bos);
  if (!s.chat_template.empty()) w.set_string("tokenizer.chat_template", s.chat_template);
}

}  // namespace dsinfer::cli
