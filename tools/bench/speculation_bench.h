// `dsinfer bench --spec mtp`: what speculative decoding with the MTP module costs and gains on
// this file and machine. Three parts:
//  - forward costs at a fixed depth: the main model over T = 1..K+1 tokens (a verify forward)
//    and the MTP module over T tokens, each against its bytes bound (the shared weights once,
//    each distinct routed expert once);
//  - end-to-end greedy decoding of the same prompt with and without speculation: tokens per
//    second, tokens per main forward, acceptance by draft position;
//  - the speed-up those costs imply at the measured acceptance and at 80% (a projection: a
//    random-weight file accepts nothing).
#pragma once
#include <cstdint>
#include <string>

#include "engine/decoder.h"
#include "engine/generation/mtp_speculation.h"
#include "engine/model/model.h"

namespace dsinfer::cli {

struct SpecBenchOptions {
  std::string model;  // for the report
  int64_t gen = 128, depth = 0, reps = 3;
  bool json = false;
  SpecOptions spec;
  std::string text;  // tokens from this text in order (see BenchTokens), else random
};

void run_speculation_bench(const Model& m, SessionOptions so, const SpecBenchOptions& o, double load_s);

}  // namespace dsinfer::cli
