// What a Hugging Face checkpoint becomes in a deepseek2 GGUF: every output tensor, its type,
// shape and where its rows come from. Computing the plan reads headers only.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/model_config.h"
#include "quant/dtype.h"
#include "quant/safetensors.h"
#include "tools/quantize/recipe.h"

namespace dsinfer::cli {

enum class SourceKind {
  Copy,          // one tensor, rows in order
  StackExperts,  // one tensor per expert, stacked expert-major
  KeyAbsorb,     // kv_b -> per head the k_nope rows, transposed ([r_kv x nope] a head)
  ValueAbsorb,   // kv_b -> per head the v rows
};

struct PlannedTensor {
  std::string name;  // GGUF
  DType type;
  std::vector<int64_t> ne;  // fastest first
  TensorRole role;
  SourceKind kind = SourceKind::Copy;
  std::vector<std::string> sources;  // Hugging Face names
  uint64_t out_bytes = 0, in_bytes = 0;
};

struct ConversionPlan {
  ModelConfig config;
  bool with_mtp = false;
  std::vector<PlannedTensor> tensors;
  uint64_t in_bytes = 0, out_bytes = 0;
};

ConversionPlan plan_conversion(const SafetensorsCheckpoint& ckpt, const ModelConfig& c, const QuantRecipe& recipe,
                               bool include_mtp);
// The same tensors for a model with no checkpoint behind it (synthetic weights); in_bytes 0.
ConversionPlan plan_layout(const ModelConfig& c, const QuantRecipe& recipe, bool include_mtp);

}  // namespace dsinfer::cli
