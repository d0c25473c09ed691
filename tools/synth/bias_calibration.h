// Gives a random-weight model the balanced routing of a trained one: routes a text through
// it and sets each noaux_tc layer's expert bias as DeepSeek's auxiliary-loss-free training
// does (engine/expert_balance.h), layer by layer, so every layer is balanced on the hidden
// states the layers before it produce with their final bias.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/model/expert_balance.h"
#include "engine/model/model.h"

namespace dsinfer::cli {

struct BiasCalibrationOptions {
  std::string text;          // tokenized by the model's tokenizer, or Zipf ids without one
  int64_t max_tokens = 4096;
  int64_t window = 512;
  double target = 1.5;       // max/mean load to reach
};

struct LayerBalance {
  int64_t layer = 0;
  BalanceResult result;
  std::vector<float> bias;  // [n_routed]
};

// One entry per noaux_tc MoE layer (the MTP module's last); empty for other routing.
std::vector<LayerBalance> calibrate_expert_bias(const Model& m, const BiasCalibrationOptions& o);

}  // namespace dsinfer::cli
