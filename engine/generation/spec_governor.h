// --spec auto: whether drafting pays, decided as generation runs. A round of K drafts costs about
// what its weights' bytes cost, in one-token steps (the verify forward reads the shared weights
// once and each distinct routed expert once, each draft reads the MTP module), so drafting pays
// while the tokens a round commits exceed that cost. The decision looks only at the tokens
// rounds commit, never at timings, so that a seeded run draws the same tokens every time.
#pragma once
#include <array>
#include <cstdint>

#include "engine/generation/spec_options.h"
#include "engine/model/model.h"

namespace dsinfer {

// A round's cost in one-token steps by the bytes it reads: `drafts` drafted tokens (independent
// routing for the verify's K + 1 tokens), each draft scoring `head_rows` of the MTP head (0: all).
double spec_round_cost(const Model& m, int drafts, int64_t head_rows);
// The margin over a round's bytes: a 2-token verify has measured 0-8% above its bytes bound, and
// catching up on several committed tokens reads more experts than one draft.
inline constexpr double kSpecMargin = 1.1;
// Tokens per round below which drafting as `o` asks does not pay on `m`: the round's cost times
// kSpecMargin.
double spec_break_even(const Model& m, const SpecOptions& o);

class SpecGovernor {
 public:
  // Rounds judged together, at most; the first judgement comes after kJudgeAfter.
  static constexpr int kWindow = 8, kJudgeAfter = 4;
  // Plain steps a pause lasts: the first, then doubling while drafting keeps losing.
  static constexpr int64_t kFirstPause = 16, kMaxPause = 256;

  // `break_even`: tokens per round below which a round costs more than the steps it saves.
  explicit SpecGovernor(double break_even) : break_even_(break_even) {}

  bool drafting() const { return pause_left_ == 0; }
  // A round that drafted `drafts` tokens (none: the context was full) and committed `tokens`.
  void round(int drafts, int64_t tokens);
  // A plain step taken while paused.
  void plain_step();
  int64_t pauses() const { return pauses_; }
  double break_even() const { return break_even_; }

 private:
  double break_even_;
  std::array<int64_t, kWindow> recent_{};  // tokens of the last rounds since drafting resumed
  int judged_ = 0;                         // rounds in recent_ since then
  int64_t pause_left_ = 0, next_pause_ = kFirstPause, pauses_ = 0;
};

}  // namespace dsinfer
