// The tokenizer embedded in a GGUF file (tokenizer.* keys).
#pragma once
#include <optional>

#include "engine/tokenizer/gguf_vocab.h"
#include "quant/gguf_reader.h"

namespace dsinfer {

// nullopt when the file carries no tokenizer; throws Error on malformed keys.
std::optional<GgufVocab> read_gguf_vocab(const GgufFile& f);

}  // namespace dsinfer
