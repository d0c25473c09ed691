// The tokenizer of a checkpoint directory as GGUF tokenizer.* metadata (llama.cpp's keys).
#pragma once
#include <string>

#include "engine/model/model_config.h"
#include "quant/gguf_writer.h"

namespace dsinfer::cli {

// Whether `dir` holds a tokenizer.json to embed.
bool has_tokenizer(const std::string& dir);
void write_tokenizer_metadata(GgufWriter& w, const std::string& dir, const ModelConfig& c);

}  // namespace dsinfer::cli
