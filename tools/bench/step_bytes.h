// What a forward pass reads, for the bench's bounds: the weight bytes every step reads whatever
// it routes to, one routed expert's bytes, and a router hook counting the distinct experts a
// pass routes to.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/decoder.h"
#include "engine/model/model.h"

namespace dsinfer::cli {

// Bytes one step reads whatever it routes to (attention, shared experts, dense layers, routers,
// the lm_head), and the bytes of one routed expert (an average one).
struct StepBytes {
  uint64_t shared = 0, expert = 0;
  int64_t moe_layers = 0;
};
StepBytes step_bytes(const Model& model);
// Weight bytes one decoded token reads: the above with k experts per MoE layer and one
// embedding row.
uint64_t bytes_per_token(const Model& model);
uint64_t bytes_of(const Matrix& m);

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
