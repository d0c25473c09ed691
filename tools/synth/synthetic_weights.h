// Random weights of a real model shape, written straight into their GGUF block types
// (no float copy of the model is ever made): for benchmarks and for sizing hardware.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "tools/quantize/conversion_plan.h"
#include "quant/gguf_writer.h"
#include "tools/quantize/converter.h"

namespace dsinfer::cli {

struct SynthOptions {
  std::string out_path, model_name, tokenizer_dir;
  uint64_t seed = 1;
  bool progress = true;
  // Called with the file whole under its temporary name (w.temp_path()), before it is renamed
  // into place: where the expert bias is balanced and patched in.
  std::function<void(GgufWriter& w)> before_commit;
};

// Weights are uniform and symmetric around zero with the standard deviation 1/sqrt(fan_in)
// (norms 1, embeddings 1), and the matrices writing into the residual stream are scaled by
// 1/sqrt(2 n_layer), so activations stay finite and tokens keep distinct hidden states: with
// the expert bias balanced, tokens spread over the experts as in a trained model. The expert
// bias is written as zeros. Deterministic in `seed` whatever the thread count.
ConvertStats write_synthetic_model(const ConversionPlan& plan, const SynthOptions& o);

}  // namespace dsinfer::cli
