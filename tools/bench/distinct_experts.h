// A router hook counting the distinct experts a pass routes to, for the bench's bytes bounds
// (engine/model/weight_bytes.h has the bytes).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/decoder.h"
#include "engine/model/model.h"
#include "engine/model/weight_bytes.h"

namespace dsinfer::cli {

// Counts the distinct experts each pass routes to, summed over the main MoE layers and passes.
class DistinctExperts final : public RouterBiasHook {
 public:
  explicit DistinctExperts(const ModelConfig& c) : c_(c), picks_(size_t(c.n_routed_experts)) {}
  const float* bias(int64_t layer, const float* logits, int64_t T, const float* model_bias) override;
  int64_t total() const { return total_; }
  void clear() { total_ = 0; }

 private:
  const ModelConfig& c_;
  std::vector<int64_t> picks_;
  int64_t total_ = 0;
};

}  // namespace dsinfer::cli
