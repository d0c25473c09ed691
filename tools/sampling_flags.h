// The sampling options shared by run, chat and batch.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/generation/sampler.h"

namespace dsinfer::cli {

struct SamplingFlags {
  SamplingParams p;
  int64_t seed = -1;  // -1: a fresh random seed (printed with the timing line)
  std::vector<std::string> stop;
};

void add_sampling_flags(CLI::App* sub, SamplingFlags& f);
// Validated parameters, the seed resolved.
SamplingParams sampling_params(const SamplingFlags& f);

}  // namespace dsinfer::cli
