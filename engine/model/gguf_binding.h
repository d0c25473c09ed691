// Binds the tensors of a deepseek2 GGUF file to model roles, checking types and shapes.
#pragma once
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "quant/gguf_reader.h"

namespace dsinfer {

// `repack`: rearrange Q8_0/Q4_0 product weights into the kernels' row groups in place where the
// file was copied into memory and the CPU's kernels have row-group products.
ModelWeights bind_gguf(const GgufFile& f, const ModelConfig& c, bool repack = true);

}  // namespace dsinfer
