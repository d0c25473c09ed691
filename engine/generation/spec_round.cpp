#include "engine/generation/spec_round.h"

#include <algorithm>

namespace dsinfer {

namespace {
TokenDistribution sized(int64_t vocab) {
  TokenDistribution d;
  d.ids.resize(size_t(vocab));
  d.w.resize(size_t(vocab));
  return d;
}
}  // namespace

SpecRound::SpecRound(int64_t vocab, int draft_max) : rs_(vocab), p_(sized(vocab)) {
  for (int i = 0; i < draft_max; ++i) q_.push_back(sized(vocab));
  feed_.reserve(size_t(draft_max + 1));
  commit_.reserve(size_t(draft_max + 1));
}

int SpecRound::drafts_that_fit(int64_t context, int64_t past, int draft_max) {
  return int(std::clamp<int64_t>(context - past - 1, 0, draft_max));
}

void SpecRound::begin(const Sampler& s, int32_t emitted, std::span<const int32_t> history) {
  const size_t window = std::min(history.size(), size_t(s.params().repeat_last_n));
  recent_.assign(history.end() - std::ptrdiff_t(window), history.end());
  base_ = recent_.size();
  feed_.assign(1, emitted);
  commit_.clear();
}

int32_t SpecRound::draft(Sampler& s, const float* q) {
  TokenDistribution& d = q_.at(size_t(drafts()));
  s.distribution(q, recent_, d);
  const int32_t t = s.draw(d);
  feed_.push_back(t);
  recent_.push_back(t);
  return t;
}

std::span<const int32_t> SpecRound::verify(Sampler& s, const float* logits) {
  const int K = drafts();
  const int64_t V = s.vocab();
  commit_.clear();
  int a = 0;
  for (; a < K; ++a) {
    s.distribution(logits + a * V, std::span(recent_).first(base_ + size_t(a)), p_);
    ++stats_.drafted[size_t(a)];
    const int32_t t = feed_[size_t(a + 1)];
    if (!rs_.accept(s, p_, q_[size_t(a)], t)) {
      commit_.push_back(rs_.resample(s, p_, q_[size_t(a)]));
      break;
    }
    ++stats_.accepted[size_t(a)];
    commit_.push_back(t);
  }
  if (a == K) {  // every draft kept: the main model's next token comes free with them
    s.distribution(logits + K * V, recent_, p_);
    commit_.push_back(s.draw(p_));
  }
  ++stats_.rounds;
  return commit_;
}

}  // namespace dsinfer
