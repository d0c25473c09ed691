#include "tools/store_stats.h"

#include <fmt/format.h>

#include "engine/experts/expert_store.h"

namespace dsinfer::cli {

namespace {
double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }
}  // namespace

ExpertStoreStats stats_between(const ExpertStoreStats& a, const ExpertStoreStats& b) {
  ExpertStoreStats d;
  d.requests = b.requests - a.requests, d.hits = b.hits - a.hits, d.reads = b.reads - a.reads;
  d.bytes_read = b.bytes_read - a.bytes_read, d.bytes_cached = b.bytes_cached - a.bytes_cached;
  d.read_seconds = b.read_seconds - a.read_seconds;
  d.wait_seconds = b.wait_seconds - a.wait_seconds, d.hints = b.hints - a.hints;
  d.hints_used = b.hints_used - a.hints_used, d.predictions = b.predictions - a.predictions;
  d.predicted_right = b.predicted_right - a.predicted_right;
  d.recalled = b.recalled - a.recalled, d.recalled_right = b.recalled_right - a.recalled_right;
  return d;
}

void add_stats(ExpertStoreStats& into, const ExpertStoreStats& d) {
  into.requests += d.requests, into.hits += d.hits, into.reads += d.reads, into.bytes_read += d.bytes_read;
  into.bytes_cached += d.bytes_cached;
  into.read_seconds += d.read_seconds, into.wait_seconds += d.wait_seconds, into.hints += d.hints;
  into.hints_used += d.hints_used, into.predictions += d.predictions, into.predicted_right += d.predicted_right;
  into.recalled += d.recalled, into.recalled_right += d.recalled_right;
}

std::string store_stats_line(const Model& m, int64_t tokens, const ExpertStoreStats* given) {
  const ExpertStore* st = m.expert_store();
  if (!st) return "";
  const ExpertStoreStats s = given ? *given : st->stats();
  std::string line = fmt::format(
      "experts: {}/{} held ({:.0f} MB), hit rate {:.1f}%, read {:.1f} MB/token in {} reads ({:.0f}% from the page "
      "cache, {:.2f} s reading, {:.2f} s waited)",
      st->slots(), st->experts(), double(st->slots()) * double(st->slot_bytes()) / 1048576.0,
      100.0 * ratio(double(s.hits), double(s.requests)), ratio(double(s.bytes_read) / 1048576.0, double(tokens)),
      s.reads, 100.0 * ratio(double(s.bytes_cached), double(s.bytes_read)), s.read_seconds, s.wait_seconds);
  if (s.predictions > 0)
    line += fmt::format(", next-layer prediction {:.1f}% right",
                        100.0 * ratio(double(s.predicted_right), double(s.predictions)));
  if (s.recalled > 0)
    line += fmt::format(", recalled routing {:.1f}% right", 100.0 * ratio(double(s.recalled_right), double(s.recalled)));
  if (s.predictions > 0 || s.recalled > 0) line += fmt::format(" ({} reads ahead, {} used)", s.hints, s.hints_used);
  return line;
}

nlohmann::json store_stats_json(const Model& m, int64_t tokens, const ExpertStoreStats* given) {
  const ExpertStore* st = m.expert_store();
  if (!st) return nullptr;
  const ExpertStoreStats s = given ? *given : st->stats();
  return {{"slots", st->slots()},
          {"experts", st->experts()},
          {"slot_bytes", st->slot_bytes()},
          {"requests", s.requests},
          {"hits", s.hits},
          {"hit_rate", ratio(double(s.hits), double(s.requests))},
          {"reads", s.reads},
          {"bytes_read", s.bytes_read},
          {"bytes_cached", s.bytes_cached},
          {"mb_read_per_token", ratio(double(s.bytes_read) / 1048576.0, double(tokens))},
          {"read_seconds", s.read_seconds},
          {"wait_seconds", s.wait_seconds},
          {"predictions", s.predictions},
          {"prediction_accuracy", ratio(double(s.predicted_right), double(s.predictions))},
          {"hint_reads", s.hints},
          {"hint_reads_used", s.hints_used},
          {"recalled", s.recalled},
          {"recall_accuracy", ratio(double(s.recalled_right), double(s.recalled))}};
}

}  // namespace dsinfer::cli
