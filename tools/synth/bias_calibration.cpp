#include "tools/synth/bias_calibration.h"

#include <map>

#include "tools/routing/routing_sample.h"

namespace dsinfer::cli {

namespace {

class BalancingHook final : public RouterBiasHook {
 public:
  BalancingHook(const ModelConfig& c, double target) : c_(c), target_(target) {}
  const float* bias(int64_t layer, const float* logits, int64_t T, const float* model_bias) override {
    if (!model_bias) return nullptr;
    auto it = done_.find(layer);
    if (it == done_.end()) {
      LayerBalance lb;
      lb.layer = layer;
      lb.bias.assign(model_bias, model_bias + c_.n_routed_experts);
      lb.result = balance_expert_bias(c_, logits, T, lb.bias.data(), target_);
      it = done_.emplace(layer, std::move(lb)).first;
    }
    return it->second.bias.data();
  }
  std::vector<LayerBalance> results() const {
    std::vector<LayerBalance> r;
    for (const auto& [l, lb] : done_) r.push_back(lb);
    return r;
  }

 private:
  const ModelConfig& c_;
  double target_;
  std::map<int64_t, LayerBalance> done_;
};

}  // namespace

std::vector<LayerBalance> calibrate_expert_bias(const Model& m, const BiasCalibrationOptions& o) {
  if (m.config().topk_method != TopkMethod::NoauxTc) return {};
  const int64_t window = std::min<int64_t>(o.window, m.config().max_position_embeddings);
  BalancingHook hook(m.config(), o.target);
  run_routing_pass(m, routing_windows(m, o.text, o.max_tokens, window), hook);
  return hook.results();
}

}  // namespace dsinfer::cli
