// GGUF tokenizer metadata -> TokenizerSpec. The GGUF reader fills a GgufVocab from the
// tokenizer.* keys; this turns it into the same spec tokenizer.json gives. GGUF names its
// pre-tokenizer instead of spelling it out, so the known names map to their pipelines here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/tokenizer_spec.h"

namespace dsinfer {

struct GgufVocab {
  std::string model;                 // tokenizer.ggml.model: "gpt2" is byte-level BPE
  std::string pre;                   // tokenizer.ggml.pre: "deepseek-v3", "deepseek-llm", ...
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens
  std::vector<int32_t> token_types;  // tokenizer.ggml.token_type (TokenType numbering); may be empty
  std::vector<std::string> merges;   // tokenizer.ggml.merges: "left right"
  int64_t bos_id = -1, eos_id = -1;  // tokenizer.ggml.bos_token_id, eos_token_id
  std::optional<bool> add_bos;       // tokenizer.ggml.add_bos_token
  std::string chat_template;         // tokenizer.chat_template
};

// `where` names the GGUF file in errors.
TokenizerSpec spec_from_gguf(const GgufVocab& v, const std::string& where);

// The pre-tokenizer pipeline behind a tokenizer.ggml.pre name; nullopt for unknown names.
std::optional<std::vector<PreTokenizerStep>> gguf_pre_tokenizer(std::string_view name);

// The other way, for writing GGUF: the name of the known pipeline that `steps` (from a
// tokenizer.json) is. Identical spelling, or else identical splitting of a probe text that
// tells the known pipelines apart (as llama.cpp's converter recognises them by their output).
std::optional<std::string> gguf_pre_tokenizer_name(const std::vector<PreTokenizerStep>& steps);

}  // namespace dsinfer
