// What speculative decoding is asked to do (--spec, --draft-max) and what it did.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "engine/decoder.h"
#include "engine/model/model.h"

namespace dsinfer {

// Drafted tokens per verify forward at most. A verify forward of up to 8 tokens computes each
// position exactly as a one-token step would (tests/engine/generation), which is what makes
// greedy speculation token-identical to plain decoding.
inline constexpr int kMaxDraft = 7;

enum class SpecKind { None, Mtp };

struct SpecOptions {
  SpecKind kind = SpecKind::None;
  int draft_max = 1;  // 1..kMaxDraft
  // Token ids drafts score besides those the session has fed (SessionOptions::draft_vocab; the
  // session is sized with it, see session_for); 0: all.
  int64_t draft_vocab = 0;
  // Drafting only while it pays (SpecGovernor): --spec auto, where a model without an MTP module
  // decodes plainly.
  bool adaptive = false;
};
// "none" | "mtp" | "auto" (mtp, adaptive); throws Error otherwise.
SpecOptions parse_spec_kind(const std::string& s);
// `o` for model `m`: auto without an MTP module becomes none (its --draft-vocab dropped).
SpecOptions for_model(SpecOptions o, const Model& m);

// `so` as a session drafting with `o` needs it.
SessionOptions session_for(const SpecOptions& o, SessionOptions so);
// Throws Error naming the flag when the options are out of range, or cannot run on `m`.
void validate(const SpecOptions& o);
void validate(const SpecOptions& o, const Model& m);

// What speculation did, summed over rounds.
struct SpecStats {
  int64_t rounds = 0;     // verify forwards
  int64_t committed = 0;  // tokens they produced (accepted drafts and the main model's own)
  std::array<int64_t, kMaxDraft> drafted{}, accepted{};  // per draft position
  double draft_s = 0, verify_s = 0;                      // MTP forwards; main forwards
  int64_t pauses = 0, plain_steps = 0;                   // --spec auto: drafting paused, steps without

  void add(const SpecStats& o);
  double tokens_per_forward() const { return rounds ? double(committed) / double(rounds) : 0.0; }
  // Accepted over drafted at position i (0 when none was drafted there).
  double acceptance(int i) const;
  // One line: "spec mtp: 1.62 tokens per forward, acceptance 0.71 0.52 (pos 1 2), ..."
  std::string summary() const;
};

}  // namespace dsinfer
