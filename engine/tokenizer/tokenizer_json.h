// Hugging Face tokenizer files -> TokenizerSpec: tokenizer.json (vocabulary, merges, added
// tokens, normalizer and pre-tokenizer pipelines) and tokenizer_config.json (chat template,
// BOS/EOS, add_bos_token). Every error is one line naming the file and what is wrong.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace dsinfer {

TokenizerSpec parse_tokenizer_json(std::string_view json_text, const std::string& where);
TokenizerSpec read_tokenizer_json(const std::string& path);

// Adds chat_template, bos/eos ids and add_bos_token from a tokenizer_config.json.
void apply_tokenizer_config(std::string_view json_text, const std::string& where, TokenizerSpec& spec);

// `path`: a model or tokenizer directory holding tokenizer.json (and optionally
// tokenizer_config.json, chat_template.jinja, config.json), or a tokenizer.json file.
TokenizerSpec load_tokenizer_spec(const std::string& path);
std::unique_ptr<Tokenizer> open_tokenizer(const std::string& path);

// Whether an added token's text marks it as a control token even when the file does not say
// "special" (DeepSeek ships <｜User｜> that way): the GGUF converter's rule, applied here too.
bool looks_like_control_token(std::string_view text);

}  // namespace dsinfer
