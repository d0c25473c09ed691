// One sequence's side of a speculation round, apart from the forward passes that serve it (one
// sequence's own in MtpSpeculator, several sequences' at once in batch): the drafts drawn from
// the MTP module's logits, then which of them the main model's verify logits keep and the token
// it adds. Keeping this in one place is what keeps single and batched speculation identical.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/generation/rejection_sampler.h"
#include "engine/generation/sampler.h"
#include "engine/generation/spec_options.h"

namespace dsinfer {

class SpecRound {
 public:
  SpecRound(int64_t vocab, int draft_max);

  // Drafts that fit when the cache holds `past` positions: the verify forward feeds the emitted
  // token and the drafts, all of which must fit `context`.
  static int drafts_that_fit(int64_t context, int64_t past, int draft_max);

  // A new round after `emitted`; `history`: prompt and generated tokens, ending with it (for
  // the penalties).
  void begin(const Sampler& s, int32_t emitted, std::span<const int32_t> history);
  // Draws the next draft from the MTP logits q [vocab] and returns it.
  int32_t draft(Sampler& s, const float* q);
  // The verify forward's input: the emitted token, then the drafts.
  std::span<const int32_t> feed() const { return feed_; }
  int drafts() const { return int(feed_.size()) - 1; }
  // From the verify forward's logits [drafts() + 1][vocab]: the tokens to commit (the accepted
  // drafts, then the main model's own), also kept as committed().
  std::span<const int32_t> verify(Sampler& s, const float* logits);
  std::span<const int32_t> committed() const { return commit_; }
  // Drafts verify() accepted: the main cache keeps the emitted token and these.
  int accepted() const { return int(commit_.size()) - 1; }
  // `n` committed tokens were used (all of them, or fewer when the sequence ended among them).
  void used(size_t n) { stats_.committed += int64_t(n); }

  SpecStats& stats() { return stats_; }
  const SpecStats& stats() const { return stats_; }

 private:
  RejectionSampler rs_;
  std::vector<TokenDistribution> q_;  // per draft position
  TokenDistribution p_;
  std::vector<int32_t> feed_, commit_, recent_;
  size_t base_ = 0;  // recent_ up to the emitted token; the drafts follow
  SpecStats stats_;
};

}  // namespace dsinfer
