#include "tools/engine_flags.h"

#include "engine/experts/ram_budget.h"
#include "simd/error.h"
#include "simd/cpu.h"
#include "tools/thread_count.h"

namespace dsinfer::cli {

void add_engine_flags(CLI::App* sub, EngineFlags& f) {
  sub->add_option("--engine", f.engine, "fast (quantized kernels) or reference (float32, slow)")->capture_default_str();
  sub->add_option("-t,--threads", f.threads, "Threads (default: physical cores)");
  sub->add_option("--kv-type", f.kv, "Latent cache type of the fast engine: f32, bf16 or q8_0")->capture_default_str();
  sub->add_option("--chunk", f.chunk, "Prefill tokens per pass (fast engine)")->capture_default_str();
  sub->add_option("--weights", f.weights,
                  "GGUF weights: auto (all but the routed experts in huge pages, experts read as routing asks within "
                  "--ram-budget, all of them in the background when they fit), mmap (the file mapped: the kernel "
                  "decides), copy (the whole file in huge pages before the first token)")
      ->capture_default_str();
  sub->add_option("--ram-budget", f.ram_budget,
                  "Memory for routed experts, e.g. 12G or 60% (default: what the machine or the memory cgroup has "
                  "available once the other weights are in, less a margin)");
  sub->add_option("--expert-stats", f.expert_stats,
                  "File of per-expert use: read at start to warm the expert store, written at exit");
  sub->add_flag("--predict", f.predict, "Read the next layer's likely experts (its router on this layer's input) while this layer computes; reports the prediction's accuracy");
  sub->add_flag("!--no-recall", f.recall, "Do not read ahead the experts a decode step's tokens went to the last time (the expert store remembers each token's experts per layer and, as a decode step or a one-draft speculative verify starts, reads them in every layer)");
  sub->add_flag("--no-repack", f.no_repack,
                "Keep copied weights in GGUF's row layout instead of the kernels' row groups (for comparisons)");
}

SessionOptions session_options(const EngineFlags& f) {
  SessionOptions so;
  so.engine = parse_engine_kind(f.engine);
  so.kv = parse_kv_type(f.kv);
  if (f.chunk < 1) fail("--chunk", "must be at least 1");
  so.chunk = f.chunk;
  set_threads(f.threads, simd::physical_cores(), "--threads");
  return so;
}

WeightsLoad weights_load(const EngineFlags& f) { return parse_weights_load(f.weights); }

std::unique_ptr<Model> open_model(const std::string& path, const EngineFlags& f) {
  LoadOptions o;
  o.load = weights_load(f);
  o.repack = !f.no_repack;
  if (!f.ram_budget.empty()) {
    if (o.load != WeightsLoad::Auto) fail("--ram-budget", "applies to --weights auto only");
    o.ram_budget = parse_memory_size(f.ram_budget, "--ram-budget");
    if (o.ram_budget == 0) fail("--ram-budget", "must be more than 0");
  }
  o.expert_stats = f.expert_stats;
  o.predict = f.predict;
  o.recall = f.recall;
  return Model::open(path, o);
}

}  // namespace dsinfer::cli
