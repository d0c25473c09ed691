#include "engine/generation/spec_options.h"

#include <cstdio>

#include "simd/error.h"

namespace dsinfer {

SpecOptions parse_spec_kind(const std::string& s) {
  SpecOptions o;
  if (s == "none") return o;
  o.kind = SpecKind::Mtp;
  o.adaptive = s == "auto";
  if (s == "mtp" || s == "auto") return o;
  fail("--spec", "'" + s + "' is not a speculation kind (none, mtp or auto)");
}

SpecOptions for_model(SpecOptions o, const Model& m) {
  if (o.adaptive && !m.has_mtp()) {
    o.kind = SpecKind::None;
    o.draft_vocab = 0;  // nothing drafts: the flag the user gave with auto is moot, not an error
  }
  return o;
}

void validate(const SpecOptions& o) {
  if (o.draft_max < 1 || o.draft_max > kMaxDraft)
    fail("--draft-max", "must be from 1 to " + std::to_string(kMaxDraft));
  if (o.draft_vocab < 0) fail("--draft-vocab", "must not be negative (0: the whole vocabulary)");
  if (o.draft_vocab > 0 && o.kind != SpecKind::Mtp) fail("--draft-vocab", "narrows the drafts of --spec mtp or auto; give one of them too");
}

SessionOptions session_for(const SpecOptions& o, SessionOptions so) {
  so.draft_vocab = o.kind == SpecKind::Mtp ? o.draft_vocab : 0;
  return so;
}

void validate(const SpecOptions& o, const Model& m) {
  validate(o);
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
  pauses += o.pauses;
  plain_steps += o.plain_steps;
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
  s += buf;
  if (pauses > 0) {
    std::snprintf(buf, sizeof buf, "; paused %lld times, %lld plain steps", static_cast<long long>(pauses),
                  static_cast<long long>(plain_steps));
    s += buf;
  }
  return s;
}

}  // namespace dsinfer
