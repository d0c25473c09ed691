// Binds the tensors of a deepseek2 GGUF file to model roles, checking types and shapes.
#pragma once
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "quant/gguf_reader.h"

namespace dsinfer {

ModelWeights bind_gguf(const GgufFile& f, const ModelConfig& c);

}  // namespace dsinfer
