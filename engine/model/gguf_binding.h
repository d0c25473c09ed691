// Binds the tensors of a deepseek2 GGUF file to model roles, checking types and shapes.
#pragma once
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "quant/gguf_reader.h"

namespace dsinfer {

class ResidentTensors;

// `repack`: rearrange Q8_0/Q4_0 product weights into the kernels' row groups in place where they
// are in private memory (the file copied, or `resident`'s tensors) and the CPU's kernels have
// row-group products. `resident`: tensors read into memory, bound there (the others are bound
// in the file's mapping).
ModelWeights bind_gguf(const GgufFile& f, const ModelConfig& c, bool repack = true,
                       const ResidentTensors* resident = nullptr);

}  // namespace dsinfer
