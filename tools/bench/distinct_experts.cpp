#include "tools/bench/distinct_experts.h"

#include "engine/model/expert_balance.h"

namespace dsinfer::cli {

const float* DistinctExperts::bias(int64_t layer, const float* logits, int64_t T, const float* model_bias) {
  if (layer < c_.num_hidden_layers) {
    count_expert_picks(c_, logits, T, model_bias, picks_);
    for (int64_t p : picks_) total_ += p > 0;
  }
  return model_bias;
}

}  // namespace dsinfer::cli
