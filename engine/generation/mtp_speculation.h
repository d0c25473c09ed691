// Speculative decoding with the model's own MTP module. After the main model emits a token e
// from position L-1, the module drafts the next one from (h(L-1), e); with draft_max > 1 it
// chains, feeding back its own output and drafted token. One main forward over [e, drafts...]
// verifies them all: the longest prefix the rejection sampler keeps is committed, plus one token
// of the main model's own, so each forward yields 1 to draft_max + 1 tokens distributed exactly
// as plain decoding's (greedy: the very same tokens). Both latent caches are then cut back to
// the committed tokens and the module catches up on them, which also drafts the next round.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/decoder.h"
#include "engine/generation/rejection_sampler.h"
#include "engine/generation/sampler.h"

namespace dsinfer {

// Drafted tokens per verify forward at most. A verify forward of up to 8 tokens computes each
// position exactly as a one-token step would (tests/engine/generation), which is what makes
// greedy speculation token-identical to plain decoding.
inline constexpr int kMaxDraft = 7;

enum class SpecKind { None, Mtp };
// "none" | "mtp"; throws Error otherwise.
SpecKind parse_spec_kind(const std::string& s);

struct SpecOptions {
  SpecKind kind = SpecKind::None;
  int draft_max = 1;  // 1..kMaxDraft
};
// Throws Error naming the flag when the options cannot run on `m`.
void validate(const SpecOptions& o, const Model& m);

// What speculation did, summed over rounds.
struct SpecStats {
  int64_t rounds = 0;     // verify forwards
  int64_t committed = 0;  // tokens they produced (accepted drafts and the main model's own)
  std::array<int64_t, kMaxDraft> drafted{}, accepted{};  // per draft position
  double draft_s = 0, verify_s = 0;                      // MTP forwards; main forwards

  void add(const SpecStats& o);
  double tokens_per_forward() const { return rounds ? double(committed) / double(rounds) : 0.0; }
  // Accepted over drafted at position i (0 when none was drafted there).
  double acceptance(int i) const;
  // One line: "spec mtp: 1.62 tokens per forward, acceptance 0.71 0.52 (pos 1 2), ..."
  std::string summary() const;
};

class MtpSpeculator {
 public:
  MtpSpeculator(Decoder& d, Sampler& s, const SpecOptions& o);

  // After a forward over the cache's positions [first, n_past()) (its hidden states still in
  // d.last_hidden()) and the emission of `emitted` from its last logits: the MTP cache catches
  // up on positions [d.mtp_past(), n_past()) (mtp_past() >= first) and drafts the next token.
  // `cached`: the tokens of the cache, in order.
  void start(std::span<const int32_t> cached, int64_t first, int32_t emitted);
  // One round: drafts, feeds [emitted, drafts] to the main model, returns the tokens to commit
  // (the accepted drafts, then the main model's own). The main cache then holds `emitted` and
  // the accepted drafts; the MTP cache is one position behind it until catch_up().
  // `history`: prompt and generated tokens so far, ending with `emitted` (for the penalties).
  std::span<const int32_t> round(int32_t emitted, std::span<const int32_t> history);
  // When every token round() returned was kept: the MTP module catches up on them and drafts.
  void catch_up();
  // When generation ended on the round's token `used - 1` (the rest are dropped; no catch-up).
  void ended(size_t used);

  const SpecStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 private:
  Decoder& d_;
  Sampler& s_;
  SpecOptions o_;
  RejectionSampler rs_;
  int64_t D_ = 0;
  std::vector<float> first_q_;  // the MTP logits the next round's first draft comes from
  std::vector<float> chain_q_, verify_;
  std::vector<TokenDistribution> q_;  // per draft position
  TokenDistribution p_;
  std::vector<int32_t> feed_, commit_, recent_, mtp_in_;
  SpecStats stats_;
};

}  // namespace dsinfer
