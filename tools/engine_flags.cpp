#include "tools/engine_flags.h"

#include <omp.h>

#include "simd/error.h"
#include "simd/cpu.h"

namespace dsinfer::cli {

void add_engine_flags(CLI::App* sub, EngineFlags& f) {
  sub->add_option("--engine", f.engine, "fast (quantized kernels) or reference (float32, slow)")->capture_default_str();
  sub->add_option("-t,--threads", f.threads, "Threads (default: physical cores)");
  sub->add_option("--kv-type", f.kv, "Latent cache type of the fast engine: f32, bf16 or q8_0")->capture_default_str();
  sub->add_option("--chunk", f.chunk, "Prefill tokens per pass (fast engine)")->capture_default_str();
  sub->add_option("--weights", f.weights,
                  "GGUF weights: mmap (instant start, streams models larger than RAM), copy (into huge pages: "
                  "full bandwidth on VMs), auto (copy when the file takes at most half the RAM)")
      ->capture_default_str();
  sub->add_flag("--no-repack", f.no_repack,
                "Keep copied weights in GGUF's row layout instead of the kernels' row groups (for comparisons)");
}

SessionOptions session_options(const EngineFlags& f) {
  SessionOptions so;
  so.engine = parse_engine_kind(f.engine);
  so.kv = parse_kv_type(f.kv);
  if (f.chunk < 1) fail("--chunk", "must be at least 1");
  so.chunk = f.chunk;
  if (f.threads < 0) fail("--threads", "must not be negative");
  omp_set_num_threads(f.threads > 0 ? f.threads : simd::physical_cores());
  return so;
}

WeightsLoad weights_load(const EngineFlags& f) { return parse_weights_load(f.weights); }

std::unique_ptr<Model> open_model(const std::string& path, const EngineFlags& f) {
  return Model::open(path, weights_load(f), !f.no_repack);
}

}  // namespace dsinfer::cli
