// The options every model-running command shares: engine, threads, KV cache type, prefill chunk.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/decoder.h"

namespace dsinfer::cli {

struct EngineFlags {
  std::string engine = "fast";
  int64_t threads = 0;  // 0: physical cores
  std::string kv = "q8_0";
  int64_t chunk = 512;
  std::string weights = "auto";
  bool no_repack = false;
  std::string ram_budget{};  // "" : what the machine (or the memory cgroup) has available
  std::string expert_stats{};  // per-expert use, loaded to warm the store and saved at exit
  bool predict = false;
  bool recall = true;
};

void add_engine_flags(CLI::App* sub, EngineFlags& f);
// Validates the flags, sets the OpenMP team size, returns the session options.
SessionOptions session_options(const EngineFlags& f);
// The --weights mode.
WeightsLoad weights_load(const EngineFlags& f);
// Opens a model as the flags say (--weights, --no-repack).
std::unique_ptr<Model> open_model(const std::string& path, const EngineFlags& f);

}  // namespace dsinfer::cli
