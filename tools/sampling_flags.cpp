#include "tools/sampling_flags.h"

#include <random>

#include "simd/error.h"

namespace dsinfer::cli {

void add_sampling_flags(CLI::App* sub, SamplingFlags& f) {
  sub->add_option("--temp", f.p.temperature, "Temperature (0: greedy)")->capture_default_str();
  sub->add_option("--top-k", f.p.top_k, "Keep the k most likely tokens (0: off)")->capture_default_str();
  sub->add_option("--top-p", f.p.top_p, "Nucleus: smallest set reaching this probability (1: off)")->capture_default_str();
  sub->add_option("--min-p", f.p.min_p, "Drop tokens below this fraction of the top probability (0: off)")
      ->capture_default_str();
  sub->add_option("--repeat-penalty", f.p.repeat_penalty, "Penalty on recently seen tokens (1: off)")
      ->capture_default_str();
  sub->add_option("--presence-penalty", f.p.presence_penalty, "Subtracted from seen tokens' logits")
      ->capture_default_str();
  sub->add_option("--frequency-penalty", f.p.frequency_penalty, "Subtracted per occurrence")->capture_default_str();
  sub->add_option("--repeat-last-n", f.p.repeat_last_n, "Tokens the penalties look back on")->capture_default_str();
  sub->add_option("--seed", f.seed, "Random seed; the same seed repeats a run (-1: random)")->capture_default_str();
  sub->add_option("--stop", f.stop, "Stop when this text is generated (repeatable)");
}

SamplingParams sampling_params(const SamplingFlags& f) {
  if (f.seed < -1) fail("--seed", "must be -1 (a random seed) or a seed from 0 to 2^63-1");
  SamplingParams p = f.p;
  p.seed = f.seed >= 0 ? uint64_t(f.seed) : (uint64_t(std::random_device{}()) << 31) ^ std::random_device{}();
  validate(p);
  return p;
}

}  // namespace dsinfer::cli
