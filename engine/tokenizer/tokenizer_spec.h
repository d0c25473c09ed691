// Everything a byte-level BPE tokenizer is made of, whatever file it came from: tokenizer.json
// (tokenizer_json.h) and GGUF metadata (gguf_vocab.h) both load into a TokenizerSpec, and
// Tokenizer compiles one. Plain data, checked when the Tokenizer is built.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dsinfer {

// llama.cpp's numbering, as stored in GGUF tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6
};

// Hugging Face's matching flags of an added token (Control or UserDefined type).
struct AddedTokenFlags {
  bool lstrip = false;       // also swallows the whitespace before it
  bool rstrip = false;       // ... and after it
  bool single_word = false;  // only where no word character touches it
  bool normalized = false;   // matched in the normalized text instead of the raw text
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// One step of the normalizer, applied to each stretch of text between added tokens.
struct NormalizerStep {
  enum class Kind { Replace, Prepend, Strip };
  Kind kind = Kind::Replace;
  std::string pattern;               // Replace: what to find
  bool literal = true;               // Replace: pattern is plain text (else a regex)
  std::string content;               // Replace: the replacement; Prepend: the prefix
  bool left = false, right = false;  // Strip: which ends lose their whitespace
};

// One step of the pre-tokenizer. Every Hugging Face pre-tokenizer we support is a Split
// (Digits, Punctuation, Whitespace... become regexes) or the prefix space of ByteLevel.
struct PreTokenizerStep {
  enum class Kind { Split, PrefixSpace };
  Kind kind = Kind::Split;
  std::string pattern;
  bool literal = false;
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;  // the pieces between matches are the delimiters
};

struct TokenizerSpec {
  std::string source;  // the file, named in every error

  // By id. Normal tokens are in the byte-level alphabet ("Ġthe"); added tokens are their text.
  std::vector<std::string> tokens;
  std::vector<TokenType> types;
  // Flags of Control / UserDefined tokens, by id; ids without an entry get the defaults.
  std::vector<std::pair<int32_t, AddedTokenFlags>> added_flags;

  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  bool ignore_merges = false;  // a pre-token that is itself in the vocabulary is not merged

  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;

  int32_t bos_id = -1, eos_id = -1;
  bool add_bos = false;  // what the model's own tokenizer does by default
  std::string chat_template;
};

}  // namespace dsinfer
