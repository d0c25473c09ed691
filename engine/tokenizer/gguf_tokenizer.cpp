#include "engine/tokenizer/gguf_tokenizer.h"

namespace dsinfer {

std::optional<GgufVocab> read_gguf_vocab(const GgufFile& f) {
  if (!f.has("tokenizer.ggml.tokens")) return std::nullopt;
  GgufVocab v;
  v.model = std::string(f.get_string("tokenizer.ggml.model"));
  if (f.has("tokenizer.ggml.pre")) v.pre = std::string(f.get_string("tokenizer.ggml.pre"));
  for (std::string_view t : f.get_strings("tokenizer.ggml.tokens")) v.tokens.emplace_back(t);
  if (f.has("tokenizer.ggml.token_type"))
    for (int64_t t : f.get_ints("tokenizer.ggml.token_type")) v.token_types.push_back(int32_t(t));
  if (f.has("tokenizer.ggml.merges"))
    for (std::string_view m : f.get_strings("tokenizer.ggml.merges")) v.merges.emplace_back(m);
  if (f.has("tokenizer.ggml.bos_token_id")) v.bos_id = f.get_u32("tokenizer.ggml.bos_token_id");
  if (f.has("tokenizer.ggml.eos_token_id")) v.eos_id = f.get_u32("tokenizer.ggml.eos_token_id");
  if (f.has("tokenizer.ggml.add_bos_token")) v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token");
  if (f.has("tokenizer.chat_template")) v.chat_template = std::string(f.get_string("tokenizer.chat_template"));
  return v;
}

}  // namespace dsinfer
