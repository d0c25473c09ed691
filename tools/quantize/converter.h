// Runs a conversion plan: streams the checkpoint into a GGUF one tensor (and one block of
// rows) at a time, so memory stays small whatever the checkpoint's size.
#pragma once
#include <string>

#include "quant/safetensors.h"
#include "tools/quantize/conversion_plan.h"

namespace dsinfer::cli {

struct ConvertOptions {
  std::string out_path;
  std::string model_name;
  std::string tokenizer_dir;  // holds tokenizer.json to embed; empty: none
  bool progress = true;
  bool search_scales = true;
};

struct ConvertStats {
  double seconds = 0;
  uint64_t in_bytes = 0, out_bytes = 0;
};

ConvertStats run_conversion(const SafetensorsCheckpoint& ckpt, const ConversionPlan& plan, const ConvertOptions& o);

}  // namespace dsinfer::cli
