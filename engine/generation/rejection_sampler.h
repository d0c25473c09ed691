// Speculative rejection sampling (Leviathan et al. 2023, Chen et al. 2023): a token drafted from
// a distribution q is accepted under the target distribution p with probability
// min(1, p(x) / q(x)); when it is rejected, the token is drawn from max(0, p - q) normalised.
// Either way the token that results is distributed exactly as p, whatever q was, so drafting
// changes how fast tokens come, never which tokens are likely. Greedy (p and q point masses):
// accept when the draft is p's argmax, otherwise take that argmax.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/generation/sampler.h"

namespace dsinfer {

class RejectionSampler {
 public:
  explicit RejectionSampler(int64_t vocab);
  // Whether `drafted` (a draw from q) is kept. Draws from s's random stream only when
  // p(drafted) < q(drafted).
  bool accept(Sampler& s, const TokenDistribution& p, const TokenDistribution& q, int32_t drafted);
  // After a rejection: a token from max(0, p - q), normalised (from p itself when that is empty
  // to rounding, which only happens when p and q are the same distribution).
  int32_t resample(Sampler& s, const TokenDistribution& p, const TokenDistribution& q);

 private:
  std::vector<double> q_by_id_;  // q's probabilities by id, zero elsewhere between calls
  TokenDistribution residual_;
};

}  // namespace dsinfer
