#include "engine/generation/mtp_speculation.h"

#include <chrono>

#include "simd/error.h"

namespace dsinfer {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// Before any buffer is sized from them.
const SpecOptions& validated(const SpecOptions& o, const Model& m) {
  validate(o, m);
  return o;
}
}  // namespace

MtpSpeculator::MtpSpeculator(Decoder& d, Sampler& s, const SpecOptions& o)
    : d_(d), s_(s), o_(validated(o, d.model())), r_(s.vocab(), o_.draft_max), D_(d.model().config().hidden_size) {
  const size_t V = size_t(s.vocab());
  first_q_.resize(V);
  chain_q_.resize(V);
  verify_.reserve(V * size_t(o.draft_max + 1));
  mtp_in_.reserve(size_t(d.context()));
  if (o_.adaptive) {
    gov_.emplace(spec_break_even(d.model(), o_));
    plain_hidden_.resize(size_t(SpecGovernor::kMaxPause * D_));
  }
}

void MtpSpeculator::start(std::span<const int32_t> cached, int64_t first, int32_t emitted) {
  const int64_t L = d_.n_past(), m0 = d_.mtp_past();
  if (int64_t(cached.size()) != L || m0 < first || m0 >= L)
    fail("speculation", "the MTP cache is out of step with the main one");
  plain_rows_ = 0;  // a new generation: the module catches up from this forward's hidden states
  mtp_in_.assign(cached.begin() + m0 + 1, cached.end());
  mtp_in_.push_back(emitted);
  pair(mtp_in_, d_.last_hidden().data() + (m0 - first) * D_, /*draft=*/true);
}

std::span<const int32_t> MtpSpeculator::round(int32_t emitted, std::span<const int32_t> history) {
  const int64_t L = d_.n_past();
  if (plain_rows_ > 0) {
    if (int64_t(history.size()) != L + 1 || d_.mtp_past() + plain_rows_ != L)
      fail("speculation", "the plain steps' hidden states are out of step with the caches");
    pair(history.subspan(size_t(L + 1 - plain_rows_)), plain_hidden_.data(), /*draft=*/true);
    plain_rows_ = 0;
  }
  const int K = SpecRound::drafts_that_fit(d_.context(), L, o_.draft_max);
  r_.begin(s_, emitted, history);
  auto t0 = Clock::now();
  for (int j = 0; j < K; ++j) {
    const float* q = first_q_.data();
    if (j > 0) {  // chained: the module's own output and draft in place of the main model's
      d_.mtp_forward(r_.feed().subspan(size_t(j), 1), d_.last_mtp_hidden(), chain_q_, nullptr, true);
      q = chain_q_.data();
    }
    r_.draft(s_, q);
  }
  r_.stats().draft_s += since(t0);

  t0 = Clock::now();
  d_.forward(r_.feed(), verify_);
  r_.stats().verify_s += since(t0);
  const std::span<const int32_t> commit = r_.verify(s_, verify_.data());
  // Keep `emitted` and the accepted drafts; the module keeps its entry for (h(L-1), emitted)
  // and drops the chained ones, which saw its own hidden states instead of the main model's.
  d_.truncate(L + 1 + r_.accepted(), L);
  if (gov_) {
    gov_->round(K, int64_t(commit.size()));
    if (!gov_->drafting()) ++r_.stats().pauses;
  }
  return commit;
}

void MtpSpeculator::plain_step() {
  const std::vector<float>& h = d_.last_hidden();
  if (!gov_ || plain_rows_ >= SpecGovernor::kMaxPause || h.size() < size_t(D_))
    fail("speculation", "a plain step the governor did not ask for");
  std::copy(h.end() - D_, h.end(), plain_hidden_.begin() + plain_rows_ * D_);
  ++plain_rows_;
  ++r_.stats().plain_steps;
  gov_->plain_step();
}

void MtpSpeculator::settle(std::span<const int32_t> cached) {
  if (plain_rows_ == 0) return;
  const int64_t L = d_.n_past();
  if (int64_t(cached.size()) != L || d_.mtp_past() + plain_rows_ != L)
    fail("speculation", "the plain steps' hidden states are out of step with the caches");
  if (plain_rows_ > 1)
    pair(cached.subspan(size_t(L + 1 - plain_rows_), size_t(plain_rows_ - 1)), plain_hidden_.data(), false);
  plain_rows_ = 0;
}

void MtpSpeculator::pair(std::span<const int32_t> next, const float* hidden, bool draft) {
  const auto t0 = Clock::now();
  if (draft)
    d_.mtp_catch_up(next, hidden, first_q_);
  else
    d_.mtp_fill(next, hidden);
  r_.stats().draft_s += since(t0);
}

void MtpSpeculator::catch_up() {
  // Entries for the verify's positions: its hidden rows, each with the committed token after it.
  pair(r_.committed(), d_.last_hidden().data(), /*draft=*/true);
  r_.used(r_.committed().size());
}

void MtpSpeculator::ended(size_t used) {
  // The last token used was not fed; the logits are not wanted (no draft follows).
  if (used > 1) pair(r_.committed().first(used - 1), d_.last_hidden().data(), /*draft=*/false);
  r_.used(used);
}

}  // namespace dsinfer
