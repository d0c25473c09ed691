// Speculative decoding with the model's own MTP module. After the main model emits a token e
// from position L-1, the module drafts the next one from (h(L-1), e); with draft_max > 1 it
// chains, feeding back its own output and drafted token. One main forward over [e, drafts...]
// verifies them all: the longest prefix the rejection sampler keeps is committed, plus one token
// of the main model's own, so each forward yields 1 to draft_max + 1 tokens distributed exactly
// as plain decoding's (greedy: the very same tokens). Both latent caches are then cut back to
// the committed tokens and the module catches up on them, which also drafts the next round.
// Adaptive (--spec auto), a SpecGovernor pauses drafting while rounds commit too few tokens for
// what they read: the caller then takes plain steps (plain_step() after each), whose hidden
// states are kept for the module to catch up on when drafting resumes.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/decoder.h"
#include "engine/generation/spec_governor.h"
#include "engine/generation/spec_options.h"
#include "engine/generation/spec_round.h"
#include "engine/generation/sampler.h"

namespace dsinfer {

class MtpSpeculator {
 public:
  MtpSpeculator(Decoder& d, Sampler& s, const SpecOptions& o);

  // After a forward over the cache's positions [first, n_past()) (its hidden states still in
  // d.last_hidden()) and the emission of `emitted` from its last logits: the MTP cache catches
  // up on positions [d.mtp_past(), n_past()) (mtp_past() >= first) and drafts the next token.
  // `cached`: the tokens of the cache, in order.
  void start(std::span<const int32_t> cached, int64_t first, int32_t emitted);
  // Whether the next step is a round (always, unless adaptive and paused).
  bool drafting() const { return !gov_ || gov_->drafting(); }
  // After a plain one-token forward taken because drafting() was false.
  void plain_step();
  // One round: drafts, feeds [emitted, drafts] to the main model, returns the tokens to commit
  // (the accepted drafts, then the main model's own). The main cache then holds `emitted` and
  // the accepted drafts; the MTP cache is one position behind it until catch_up().
  // `history`: prompt and generated tokens so far, ending with `emitted` (for the penalties and
  // the plain steps' tokens the module catches up on first).
  std::span<const int32_t> round(int32_t emitted, std::span<const int32_t> history);
  // When every token round() returned was kept: the MTP module catches up on them and drafts.
  void catch_up();
  // When generation ended on the round's token `used - 1` (the rest are dropped), after the main
  // cache was cut to the tokens fed (emitted and the used - 1 before the last): the module pairs
  // those, so that at rest it is one position behind the main cache.
  void ended(size_t used);
  // At the end of a generation that ended in plain steps: the module pairs the cache's tokens
  // (`cached`, in order) up to the last, as after ended().
  void settle(std::span<const int32_t> cached);
  const SpecGovernor* governor() const { return gov_ ? &*gov_ : nullptr; }

  const SpecStats& stats() const { return r_.stats(); }
  void reset_stats() { r_.stats() = {}; }

 private:
  // The module's entries for main positions whose hidden states are the rows of `hidden`, each
  // with the token that followed it (`next`); with `draft`, the last one's logits into first_q_.
  void pair(std::span<const int32_t> next, const float* hidden, bool draft);

  Decoder& d_;
  Sampler& s_;
  SpecOptions o_;
  SpecRound r_;
  int64_t D_ = 0;
  std::vector<float> first_q_;  // the MTP logits the next round's first draft comes from
  std::vector<float> chain_q_, verify_;
  std::vector<int32_t> mtp_in_;
  std::optional<SpecGovernor> gov_;
  std::vector<float> plain_hidden_;  // [plain_rows_][hidden]: the plain steps' since drafting paused
  int64_t plain_rows_ = 0;
};

}  // namespace dsinfer
