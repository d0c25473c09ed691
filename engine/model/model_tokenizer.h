// The tokenizer that belongs to a model: embedded in its GGUF file, or tokenizer.json in its
// checkpoint directory.
#pragma once
#include <memory>

#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"

namespace dsinfer {

// nullptr when the model carries none; throws Error on a malformed one.
std::unique_ptr<Tokenizer> open_model_tokenizer(const Model& m);
// A GGUF file's embedded tokenizer, or a tokenizer directory / tokenizer.json; throws Error.
std::unique_ptr<Tokenizer> open_tokenizer_any(const std::string& path);

}  // namespace dsinfer
