// A loaded model: its configuration and its weights.
#pragma once
#include <memory>
#include <string>

#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"

namespace dsinfer {

class SafetensorsCheckpoint;
class GgufFile;
class ResidentTensors;
class ExpertStore;

// How a GGUF file's weights get into memory:
//  - Auto (the default): every weight but the routed experts read into huge-page memory, the
//    routed experts served by an expert store (engine/experts/expert_store.h) within a RAM
//    budget; when they all fit, all are read in the background after start-up;
//  - Mmap: the whole file mapped from the page cache (instant start-up; the kernel decides what
//    stays in memory);
//  - Copy: the whole file copied into huge-page memory before the first token.
// Checkpoint directories are always mapped.
enum class WeightsLoad { Auto, Mmap, Copy };
// "auto" | "mmap" | "copy"; throws Error otherwise.
WeightsLoad parse_weights_load(const std::string& s);

struct LoadOptions {
  WeightsLoad load = WeightsLoad::Mmap;
  // Copied Q8_0/Q4_0 weights go into the kernels' row groups (where the CPU's kernels have them;
  // see engine/model/matrix.h).
  bool repack = true;
  // Auto: bytes the routed experts may take (0: what the machine, or the memory cgroup, has
  // available once the other weights are in, less a margin).
  uint64_t ram_budget = 0;
  int io_threads = 4;        // Auto: concurrent expert reads
  std::string expert_stats;  // Auto: per-expert use loaded to warm the store and saved at exit
  bool predict = false;      // Auto: read the next layer's likely experts while this one computes (off: measured no faster on a disk-bound run)
  bool recall = true;        // Auto: read every layer's experts a forward's tokens went to the last time, as it starts
};

class Model {
 public:
  // `path`: a Hugging Face checkpoint directory (config.json + safetensors) or a deepseek2
  // GGUF file. Throws Error.
  // `repack`: copied Q8_0/Q4_0 weights go into the kernels' row groups (where the CPU's kernels
  // have them; see engine/model/matrix.h).
  static std::unique_ptr<Model> open(const std::string& path, const LoadOptions& o);
  static std::unique_ptr<Model> open(const std::string& path, WeightsLoad load = WeightsLoad::Mmap,
                                     bool repack = true);
  ~Model();

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return w_; }
  const std::string& path() const { return path_; }
  bool has_mtp() const { return w_.mtp.has_value(); }
  const GgufFile* gguf() const { return gguf_.get(); }  // null for a checkpoint directory
  bool weights_copied() const;
  // The routed experts' store (Auto on a GGUF file with routed experts), else null.
  ExpertStore* expert_store() const { return store_.get(); }
  // Bytes of the weights read into memory at load (all of them for Copy).
  uint64_t resident_bytes() const;

 private:
  Model() = default;
  std::string path_;
  ModelConfig cfg_;
  std::unique_ptr<SafetensorsCheckpoint> st_;
  std::unique_ptr<GgufFile> gguf_;
  std::unique_ptr<ResidentTensors> resident_;
  std::unique_ptr<ExpertStore> store_;
  ModelWeights w_;
};

}  // namespace dsinfer
