#include "tools/engine_flags.h"

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
                  "GGUF weights: mmap (instant start, streams models larger than RAM), copy (into huge pages: "
                  "full bandwidth on VMs), auto (copy when the file takes at most half the RAM)")
      ->capture_default_str();
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

}  // namespace dsinfer::cli
