#include "engine/generation/multi_speculation.h"

#include <algorithm>
#include <chrono>

#include "simd/error.h"

namespace dsinfer {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
}  // namespace

MtpMultiSpeculator::MtpMultiSpeculator(Decoder& d, int64_t vocab, const SpecOptions& o)
    : d_(d), o_(o), V_(vocab), D_(d.model().config().hidden_size) {
  validate(o, d.model());
  const size_t S = size_t(d.sequences()), entries = S * size_t(o.draft_max + 1);
  rounds_.reserve(S);
  for (size_t i = 0; i < S; ++i) rounds_.emplace_back(vocab, o.draft_max);
  samplers_.assign(S, nullptr);
  first_q_.resize(S * size_t(V_));
  past_.assign(S, 0);
  offset_.assign(S, 0);
  want_.assign(S, 0);
  for (auto* v : {&mtp_seq_, &mtp_tok_, &mtp_order_, &verify_seq_, &verify_tok_, &fill_seq_, &fill_tok_})
    v->reserve(entries);
  mtp_rows_.reserve(entries);
  mtp_hidden_.reserve(entries * size_t(D_));
  hidden_.reserve(entries * size_t(D_));
  verify_.reserve(entries * size_t(V_));
  logits_.reserve(S * size_t(V_));
}

void MtpMultiSpeculator::reset(int32_t s) {
  d_.seq_truncate(s, 0);
  d_.seq_mtp_truncate(s, 0);
  rounds_.at(size_t(s)).stats() = {};
}

void MtpMultiSpeculator::add_entry(int32_t s, int32_t token, const float* row) {
  if (mtp_seq_.empty() || mtp_seq_.back() != s) mtp_order_.push_back(s);
  mtp_seq_.push_back(s);
  mtp_tok_.push_back(token);
  mtp_rows_.push_back(row);
}

void MtpMultiSpeculator::mtp_step() {
  // Only each sequence's last entry drafts: the entries before it are only filled into the
  // cache (Decoder::mtp_fill_multi), their rows first. The rows are copied out first anyway: a
  // chained draft's row is the decoder's own MTP output, which this very forward overwrites.
  const size_t n = mtp_rows_.size();
  auto last = [&](size_t i) { return i + 1 == n || mtp_seq_[i + 1] != mtp_seq_[i]; };
  size_t fills = 0;
  for (size_t i = 0; i < n; ++i) fills += !last(i);
  mtp_hidden_.resize(n * size_t(D_));
  fill_seq_.clear();
  fill_tok_.clear();
  size_t k = 0;  // last entries kept so far, compacted to the front of mtp_seq_ and mtp_tok_
  for (size_t i = 0; i < n; ++i) {
    const bool is_last = last(i);  // before entry k <= i is written over
    const size_t row = is_last ? fills + k : fill_seq_.size();
    std::copy(mtp_rows_[i], mtp_rows_[i] + D_, mtp_hidden_.begin() + std::ptrdiff_t(row) * D_);
    if (is_last) {
      mtp_seq_[k] = mtp_seq_[i];
      mtp_tok_[k++] = mtp_tok_[i];
    } else {
      fill_seq_.push_back(mtp_seq_[i]);
      fill_tok_.push_back(mtp_tok_[i]);
    }
  }
  mtp_seq_.resize(k);
  mtp_tok_.resize(k);
  if (fills > 0) d_.mtp_fill_multi(fill_seq_, fill_tok_, mtp_hidden_.data());
  d_.mtp_forward_multi(mtp_seq_, mtp_tok_, mtp_hidden_.data() + fills * size_t(D_), logits_);
  mtp_seq_.clear();
  mtp_tok_.clear();
  mtp_rows_.clear();
}

void MtpMultiSpeculator::keep_first_q() {
  for (size_t r = 0; r < mtp_order_.size(); ++r)
    std::copy(logits_.begin() + std::ptrdiff_t(r) * V_, logits_.begin() + std::ptrdiff_t(r + 1) * V_,
              first_q_.begin() + mtp_order_[r] * V_);
}

void MtpMultiSpeculator::start(std::span<const int32_t> seq, std::span<const int32_t> tokens, const float* hidden,
                               std::span<const int32_t> emitted) {
  if (seq.size() != tokens.size()) fail("speculation", "one sequence id per token");
  const auto t0 = Clock::now();
  mtp_order_.clear();
  size_t k = 0;  // the sequence entry i belongs to, counted in order of appearance
  for (size_t i = 0; i < seq.size(); ++i) {
    if (k >= emitted.size()) fail("speculation", "more sequences than emitted tokens");
    const bool last = i + 1 == seq.size() || seq[i + 1] != seq[i];
    // Entry at position p pairs h(p) with token p + 1: the prompt's next, or for its last
    // position the token just emitted.
    if (emitted[k] >= 0) add_entry(seq[i], last ? emitted[k] : tokens[i + 1], hidden + int64_t(i) * D_);
    if (last) ++k;
  }
  if (k != emitted.size()) fail("speculation", "fewer sequences than emitted tokens");
  if (!mtp_tok_.empty()) {
    mtp_step();
    keep_first_q();
  }
  draft_s_ += since(t0);
}

void MtpMultiSpeculator::round(std::span<const SpecTurn> turns) {
  auto t0 = Clock::now();
  const auto n = std::ptrdiff_t(turns.size());
  int most = 0;
  for (const SpecTurn& t : turns) {
    const auto s = size_t(t.seq);
    samplers_.at(s) = t.sampler;
    past_[s] = d_.seq_past(t.seq);
    want_[s] = SpecRound::drafts_that_fit(d_.context(), past_[s], o_.draft_max);
    most = std::max(most, want_[s]);
  }
  // Each sequence samples with its own sampler: they draw side by side.
#pragma omp parallel for schedule(dynamic, 1) if (n > 1)
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const SpecTurn& t = turns[size_t(i)];
    SpecRound& r = rounds_[size_t(t.seq)];
    r.begin(*t.sampler, t.emitted, t.history);
    if (want_[size_t(t.seq)] > 0) r.draft(*t.sampler, first_q_.data() + t.seq * V_);
  }
  // Chained drafts: one MTP forward per draft position serves every sequence still drafting,
  // each fed its own last output and draft.
  for (int j = 1; j < most; ++j) {
    mtp_order_.clear();
    for (const SpecTurn& t : turns)
      if (want_[size_t(t.seq)] > j)
        add_entry(t.seq, rounds_[size_t(t.seq)].feed()[size_t(j)], d_.seq_mtp_hidden(t.seq));
    mtp_step();
    const auto m = std::ptrdiff_t(mtp_order_.size());
#pragma omp parallel for schedule(dynamic, 1) if (m > 1)
    for (std::ptrdiff_t r = 0; r < m; ++r) {
      const auto s = size_t(mtp_order_[size_t(r)]);
      rounds_[s].draft(*samplers_[s], logits_.data() + r * V_);
    }
  }
  draft_s_ += since(t0);

  verify_seq_.clear();
  verify_tok_.clear();
  for (const SpecTurn& t : turns) {
    offset_[size_t(t.seq)] = int64_t(verify_tok_.size());
    for (int32_t tok : rounds_[size_t(t.seq)].feed()) {
      verify_seq_.push_back(t.seq);
      verify_tok_.push_back(tok);
    }
  }
  t0 = Clock::now();
  MultiOutput out;
  out.every_entry = true;
  out.hidden = &hidden_;
  d_.forward_multi(verify_seq_, verify_tok_, verify_, out);
  verify_s_ += since(t0);
  ++passes_;
#pragma omp parallel for schedule(dynamic, 1) if (n > 1)
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const SpecTurn& t = turns[size_t(i)];
    rounds_[size_t(t.seq)].verify(*t.sampler, verify_.data() + offset_[size_t(t.seq)] * V_);
  }
  // As for one sequence: the emitted token and the accepted drafts stay; the MTP module keeps
  // its entry for the emitted token and drops the chained ones.
  for (const SpecTurn& t : turns) {
    const int64_t L = past_[size_t(t.seq)];
    d_.seq_truncate(t.seq, L + 1 + rounds_[size_t(t.seq)].accepted());
    d_.seq_mtp_truncate(t.seq, L);
  }
}

void MtpMultiSpeculator::catch_up(std::span<const int32_t> seqs) {
  if (seqs.empty()) return;
  const auto t0 = Clock::now();
  mtp_order_.clear();
  // Entries for positions L..L+a of each: the verify forward's hidden rows with the token that
  // followed each.
  for (int32_t s : seqs) {
    const std::span<const int32_t> c = rounds_[size_t(s)].committed();
    for (size_t i = 0; i < c.size(); ++i) add_entry(s, c[i], hidden_.data() + (offset_[size_t(s)] + int64_t(i)) * D_);
    rounds_[size_t(s)].used(c.size());
  }
  mtp_step();
  keep_first_q();
  draft_s_ += since(t0);
}

}  // namespace dsinfer
