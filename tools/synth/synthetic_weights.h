// Random weights of a real model shape, written straight into their GGUF block types
// (no float copy of the model is ever made): for benchmarks and for sizing hardware.
#pragma once
#include <cstdint>
#include <string>

#include "tools/quantize/conversion_plan.h"
#include "tools/quantize/converter.h"

namespace dsinfer::cli {

struct SynthOptions {
  std::string out_path, model_name, tokenizer_dir;
  uint64_t seed = 1;
  bool progress = true;
};

// Weights are uniform with the standard deviation 1/sqrt(fan_in) (norms 1, embeddings 1), so
// activations stay finite and the router spreads tokens over the experts. Deterministic in
// `seed` whatever the thread count.
ConvertStats write_synthetic_model(const ConversionPlan& plan, const SynthOptions& o);

}  // namespace dsinfer::cli
