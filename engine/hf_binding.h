// Binds the tensors of a Hugging Face checkpoint to model roles, checking dtype and shape.
#pragma once
#include "engine/model_config.h"
#include "engine/model_weights.h"
#include "quant/safetensors.h"

namespace dsinfer {

ModelWeights bind_hf_checkpoint(const SafetensorsCheckpoint& ckpt, const ModelConfig& cfg);

}  // namespace dsinfer
