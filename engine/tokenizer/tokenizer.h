// A byte-level BPE tokenizer that reproduces the model's Hugging Face tokenizer: added tokens
// found first (special ones only when allowed), then the declared normalizer, pre-tokenizer and
// merges. Built from a TokenizerSpec (tokenizer.json or GGUF); immutable afterwards, so encode
// and decode may run on any number of threads at once.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/added_tokens.h"
#include "engine/tokenizer/bpe_model.h"
#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/token_index.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace dsinfer {

struct EncodeOptions {
  // Recognise control tokens written in the text ("<｜User｜>" -> one id). Turn off for text
  // from users, so they cannot forge a turn; user-defined added tokens still match.
  bool parse_special = true;
  bool add_bos = false;
};

// A stretch of a prompt: text from a template (may hold control tokens) or from a user (not).
struct TextPart {
  std::string_view text;
  bool special = false;  // control tokens in this text are recognised
};

class Tokenizer {
 public:
  explicit Tokenizer(const TokenizerSpec& spec);  // throws Error naming spec.source

  // Text must be valid UTF-8 (Error otherwise).
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& o = {}) const;
  // The parts are tokenized as one text, as if concatenated, except that control tokens are
  // recognised only inside parts that allow them, never across a part boundary.
  std::vector<int32_t> encode(std::span<const TextPart> parts, bool add_bos = false) const;

  // All tokens' bytes, with ill-formed UTF-8 replaced by U+FFFD. skip_special drops control tokens.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;
  // The bytes one token stands for; may be part of a multi-byte character. Error when out of range.
  std::string_view token_bytes(int32_t id) const;

  int32_t n_tokens() const { return int32_t(types_.size()); }
  TokenType token_type(int32_t id) const;
  // The id of a token by its vocabulary text (added-token text, or byte-level form "Ġthe").
  std::optional<int32_t> find_token(std::string_view text) const;

  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  bool adds_bos() const { return add_bos_; }
  const std::string& chat_template() const { return chat_template_; }
  const std::string& source() const { return source_; }

 private:
  struct Work;
  void check_id(int32_t id) const;
  void flush(Work& w) const;
  void encode_plain(std::string_view text, Work& w) const;

  std::string source_;
  std::vector<TokenType> types_;
  std::vector<uint32_t> bytes_offset_;  // token id -> its bytes in bytes_ (n_tokens + 1 offsets)
  std::string bytes_;
  TokenIndex by_text_;
  BpeModel bpe_;
  bool ignore_merges_ = false;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  AddedTokenMatcher raw_added_, normalized_added_;
  int32_t bos_id_ = -1, eos_id_ = -1;
  bool add_bos_ = false;
  std::string chat_template_;
};

}  // namespace dsinfer
