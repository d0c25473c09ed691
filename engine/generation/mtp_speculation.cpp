#include "engine/generation/mtp_speculation.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "simd/error.h"

namespace dsinfer {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
}  // namespace

SpecKind parse_spec_kind(const std::string& s) {
  if (s == "none") return SpecKind::None;
  if (s == "mtp") return SpecKind::Mtp;
  fail("--spec", "'" + s + "' is not a speculation kind (none or mtp)");
}

void validate(const SpecOptions& o, const Model& m) {
  if (o.draft_max < 1 || o.draft_max > kMaxDraft)
    fail("--draft-max", "must be from 1 to " + std::to_string(kMaxDraft));
  if (o.kind == SpecKind::Mtp && !m.has_mtp())
    fail("--spec", "mtp needs an MTP module and " + m.path() + " has none (use --spec none)");
}

void SpecStats::add(const SpecStats& o) {
  rounds += o.rounds;
  committed += o.committed;
  for (int i = 0; i < kMaxDraft; ++i) {
    drafted[size_t(i)] += o.drafted[size_t(i)];
    accepted[size_t(i)] += o.accepted[size_t(i)];
  }
  draft_s += o.draft_s;
  verify_s += o.verify_s;
}

double SpecStats::acceptance(int i) const {
  return drafted[size_t(i)] ? double(accepted[size_t(i)]) / double(drafted[size_t(i)]) : 0.0;
}

std::string SpecStats::summary() const {
  char buf[128];
  std::snprintf(buf, sizeof buf, "speculation: %lld forwards, %lld tokens (%.2f per forward), acceptance by position",
                static_cast<long long>(rounds), static_cast<long long>(committed), tokens_per_forward());
  std::string s = buf;
  for (int i = 0; i < kMaxDraft && drafted[size_t(i)]; ++i) {
    std::snprintf(buf, sizeof buf, " %.3f", acceptance(i));
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "; drafting %.2f s, verifying %.2f s", draft_s, verify_s);
  return s + buf;
}

MtpSpeculator::MtpSpeculator(Decoder& d, Sampler& s, const SpecOptions& o)
    : d_(d), s_(s), o_(o), rs_(s.vocab()), D_(d.model().config().hidden_size) {
  validate(o, d.model());
  const size_t V = size_t(s.vocab());
  first_q_.resize(V);
  chain_q_.resize(V);
  verify_.reserve(V * size_t(o.draft_max + 1));
  for (int i = 0; i < o.draft_max; ++i) q_.push_back(s.make_distribution());
  p_ = s.make_distribution();
  feed_.reserve(size_t(o.draft_max + 1));
  commit_.reserve(size_t(o.draft_max + 1));
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
  stats_.draft_s += since(t0);
}

std::span<const int32_t> MtpSpeculator::round(int32_t emitted, std::span<const int32_t> history) {
  const int64_t L = d_.n_past(), V = s_.vocab();
  // Drafts that fit the context: the verify forward feeds K + 1 tokens.
  const int K = int(std::clamp<int64_t>(d_.context() - L - 1, 0, o_.draft_max));
  const size_t window = std::min(history.size(), size_t(s_.params().repeat_last_n));
  recent_.assign(history.end() - std::ptrdiff_t(window), history.end());
  const size_t base = recent_.size();
  feed_.assign(1, emitted);

  auto t0 = Clock::now();
  for (int j = 0; j < K; ++j) {
    const float* q = first_q_.data();
    if (j > 0) {  // chained: the module's own output and draft in place of the main model's
      d_.mtp_forward(std::span(feed_).subspan(size_t(j), 1), d_.last_mtp_hidden(), chain_q_, nullptr, true);
      q = chain_q_.data();
    }
    s_.distribution(q, recent_, q_[size_t(j)]);
    const int32_t t = s_.draw(q_[size_t(j)]);
    feed_.push_back(t);
    recent_.push_back(t);
  }
  stats_.draft_s += since(t0);

  t0 = Clock::now();
  d_.forward(feed_, verify_);
  stats_.verify_s += since(t0);

  commit_.clear();
  int a = 0;
  for (; a < K; ++a) {
    s_.distribution(verify_.data() + a * V, std::span(recent_).first(base + size_t(a)), p_);
    ++stats_.drafted[size_t(a)];
    const int32_t t = feed_[size_t(a + 1)];
    if (!rs_.accept(s_, p_, q_[size_t(a)], t)) {
      commit_.push_back(rs_.resample(s_, p_, q_[size_t(a)]));
      break;
    }
    ++stats_.accepted[size_t(a)];
    commit_.push_back(t);
  }
  if (a == K) {  // every draft kept: the main model's next token comes free with them
    s_.distribution(verify_.data() + K * V, recent_, p_);
    commit_.push_back(s_.draw(p_));
  }
  // Keep `emitted` and the accepted drafts; the module keeps its entry for (h(L-1), emitted)
  // and drops the chained ones, which saw its own hidden states instead of the main model's.
  d_.truncate(L + 1 + a, L);
  ++stats_.rounds;
  return commit_;
}

void MtpSpeculator::catch_up() {
  const auto t0 = Clock::now();
  // Entries for positions L..L+a: hidden rows 0..a of the verify forward, with the token that
  // followed each.
  d_.mtp_forward(commit_, d_.last_hidden().data(), first_q_, nullptr, /*last_only=*/true);
  stats_.draft_s += since(t0);
  stats_.committed += int64_t(commit_.size());
}

void MtpSpeculator::ended(size_t used) { stats_.committed += int64_t(used); }

}  // namespace dsinfer
