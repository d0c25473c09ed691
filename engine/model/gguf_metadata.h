// The hyperparameters of a model as deepseek2 GGUF metadata, both ways.
#pragma once
#include "engine/model/model_config.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"

namespace dsinfer {

// Writes the deepseek2.* keys (and general.architecture). `with_mtp`: the file carries the
// MTP layer, counted in block_count as llama.cpp expects.
void write_deepseek2_metadata(GgufWriter& w, const ModelConfig& c, bool with_mtp);
// Reads them back; throws Error naming the file and key.
ModelConfig read_deepseek2_config(const GgufFile& f);

}  // namespace dsinfer
