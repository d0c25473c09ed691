#include "engine/generation/spec_governor.h"

#include <algorithm>
#include <cmath>

#include "engine/model/weight_bytes.h"

namespace dsinfer {

double spec_round_cost(const Model& m, int drafts, int64_t head_rows) {
  const ModelConfig& c = m.config();
  const StepBytes sb = step_bytes(m);
  const double N = double(std::max<int64_t>(1, c.n_routed_experts)), k = double(c.num_experts_per_tok);
  const double per_layer = double(sb.expert) * double(sb.moe_layers);
  // Distinct experts a layer for t tokens routed independently: N (1 - (1 - k/N)^t).
  auto bytes = [&](int t) { return double(sb.shared) + per_layer * N * (1.0 - std::pow(1.0 - k / N, t)); };
  const double step = bytes(1);
  return (bytes(drafts + 1) + double(drafts) * double(mtp_draft_bytes(m, head_rows))) / step;
}

double spec_break_even(const Model& m, const SpecOptions& o) {
  return kSpecMargin * spec_round_cost(m, o.draft_max, o.draft_vocab);
}

void SpecGovernor::round(int drafts, int64_t tokens) {
  if (drafts == 0) return;
  recent_[size_t(judged_ % kWindow)] = tokens;
  ++judged_;
  if (judged_ < kJudgeAfter) return;
  const int n = std::min(judged_, kWindow);
  int64_t sum = 0;
  for (int i = 0; i < n; ++i) sum += recent_[size_t(i)];
  if (double(sum) >= break_even_ * double(n)) {
    // A whole window that pays: a later loss pauses briefly again. (Not a lucky first few rounds.)
    if (judged_ == kWindow) next_pause_ = kFirstPause;
    return;
  }
  pause_left_ = next_pause_;
  next_pause_ = std::min(2 * next_pause_, kMaxPause);
  judged_ = 0;
  ++pauses_;
}

void SpecGovernor::plain_step() {
  if (pause_left_ > 0) --pause_left_;
}

}  // namespace dsinfer
