// Speculative decoding of several sequences at once (batch --parallel with --spec mtp): the
// rounds of MtpSpeculator for every sequence of a step, each forward serving all of them. One
// MTP forward per chained draft position, one main forward verifying every sequence's
// [emitted, drafts], one MTP forward catching every sequence up; what is accepted and committed
// is SpecRound's, as for one sequence, so each sequence gets the tokens it would get alone.
// The decoder needs an MTP cache per sequence (SessionOptions::mtp_per_sequence).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/decoder.h"
#include "engine/generation/spec_options.h"
#include "engine/generation/spec_round.h"

namespace dsinfer {

// A sequence's part in a round.
struct SpecTurn {
  int32_t seq = 0;
  Sampler* sampler = nullptr;          // the sequence's own
  int32_t emitted = 0;                 // its last token, not yet fed
  std::span<const int32_t> history;    // prompt and generated tokens, ending with `emitted`
};

class MtpMultiSpeculator {
 public:
  MtpMultiSpeculator(Decoder& d, int64_t vocab, const SpecOptions& o);

  // Sequence s begins anew: both its caches emptied, its statistics zeroed.
  void reset(int32_t s);
  // After forward_multi over prompts (seq, tokens; `hidden`: every entry's hidden state) and the
  // token each sequence then emitted (emitted[k] for the k-th sequence present, in order; -1
  // for one that has already finished): the MTP caches catch up on the prompts and the emitted
  // tokens, which gives each sequence's first draft.
  void start(std::span<const int32_t> seq, std::span<const int32_t> tokens, const float* hidden,
             std::span<const int32_t> emitted);
  // A round for each turn (one per sequence): drafts, then one verify forward for all. Each
  // sequence's main cache then holds its emitted token and the accepted drafts; its MTP cache
  // is one position behind until catch_up().
  void round(std::span<const SpecTurn> turns);
  // The tokens sequence s commits from the last round: the accepted drafts, then the main
  // model's own.
  std::span<const int32_t> committed(int32_t s) const { return rounds_[size_t(s)].committed(); }
  // The sequences that used every token committed(): their MTP caches catch up on them in one
  // forward, which also drafts their next rounds.
  void catch_up(std::span<const int32_t> seqs);
  // Sequence s ended on committed token `used - 1`; the rest are dropped.
  void ended(int32_t s, size_t used) { rounds_[size_t(s)].used(used); }

  const SpecStats& stats(int32_t s) const { return rounds_[size_t(s)].stats(); }
  // Time in MTP forwards and in verify forwards, over every sequence.
  double draft_s() const { return draft_s_; }
  double verify_s() const { return verify_s_; }
  // Verify forwards run, each serving every sequence of its round (stats() count one round
  // per sequence).
  int64_t verify_passes() const { return passes_; }

 private:
  // One MTP forward over the entries gathered in mtp_seq_, mtp_tok_, mtp_rows_; the logits of
  // each sequence's last entry land in logits_.
  void mtp_step();
  void add_entry(int32_t s, int32_t token, const float* row);
  // The logits of the last MTP forward become the sequences' next first drafts' (mtp_order_).
  void keep_first_q();

  Decoder& d_;
  SpecOptions o_;
  int64_t V_ = 0, D_ = 0;
  std::vector<SpecRound> rounds_;   // per sequence
  std::vector<Sampler*> samplers_;  // per sequence, as the last round's turns gave them
  std::vector<float> first_q_;      // [sequences][vocab]: MTP logits each next first draft comes from
  std::vector<int64_t> past_;       // per sequence: main positions when its round began
  std::vector<int64_t> offset_;     // per sequence: its first entry in the verify forward
  std::vector<int> want_;           // per sequence: drafts its round makes
  std::vector<int32_t> mtp_seq_, mtp_tok_, verify_seq_, verify_tok_;
  std::vector<int32_t> fill_seq_, fill_tok_;  // the entries mtp_step only fills
  std::vector<int32_t> mtp_order_;  // the sequences of the MTP entries, in order: its logits' rows
  std::vector<const float*> mtp_rows_;
  std::vector<float> mtp_hidden_, logits_, verify_, hidden_;
  double draft_s_ = 0, verify_s_ = 0;
  int64_t passes_ = 0;
};

}  // namespace dsinfer
