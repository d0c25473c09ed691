// Binds the tensors of a Hugging Face checkpoint to model roles, checking dtype and shape.
#pragma once
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "quant/safetensors.h"

namespace dsinfer {

ModelWeights bind_hf_checkpoint(const SafetensorsCheckpoint& ckpt, const ModelConfig& cfg);

// One tensor as a matrix ([rows x cols]; a vector is one row), FP8 paired with its block
// scales. Throws Error when missing or of a type the engine cannot read.
Matrix hf_tensor_matrix(const SafetensorsCheckpoint& ckpt, const std::string& name);

}  // namespace dsinfer
