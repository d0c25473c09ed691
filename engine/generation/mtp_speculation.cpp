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
}

void MtpSpeculator::start(std::span<const int32_t> cached, int64_t first, int32_t emitted) {
  const int64_t L = d_.n_past(), m0 = d_.mtp_past();
  if (int64_t(cached.size()) != L || m0 < first || m0 >= L)
    fail("speculation", "the MTP cache is out of step with the main one");
  const auto t0 = Clock::now();
  mtp_in_.assign(cached.begin() + m0 + 1, cached.end());
  mtp_in_.push_back(emitted);
  d_.mtp_forward(mtp_in_, d_.last_hidden().data() + (m0 - first) * D_, first_q_, nullptr, /*last_only=*/true);
  r_.stats().draft_s += since(t0);
}

std::span<const int32_t> MtpSpeculator::round(int32_t emitted, std::span<const int32_t> history) {
  const int64_t L = d_.n_past();
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
  return commit;
}

void MtpSpeculator::pair_committed(size_t n) {
  const auto t0 = Clock::now();
  // Entries for positions L..L+n-1: hidden rows 0..n-1 of the verify forward, with the token that
  // followed each.
  d_.mtp_forward(r_.committed().first(n), d_.last_hidden().data(), first_q_, nullptr, /*last_only=*/true);
  r_.stats().draft_s += since(t0);
}

void MtpSpeculator::catch_up() {
  pair_committed(r_.committed().size());
  r_.used(r_.committed().size());
}

void MtpSpeculator::ended(size_t used) {
  // The last token used was not fed; the logits are not wanted (no draft follows).
  if (used > 1) pair_committed(used - 1);
  r_.used(used);
}

}  // namespace dsinfer
