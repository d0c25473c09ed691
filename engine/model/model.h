// A loaded model: its configuration and its weights, mapped from disk (never copied).
#pragma once
#include <memory>
#include <string>

#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"

namespace dsinfer {

class SafetensorsCheckpoint;
class GgufFile;

// How a GGUF file's weights get into memory: mapped from the page cache (start-up is instant,
// a model larger than RAM streams from disk), or copied into huge-page memory (reads at full
// bandwidth where TLB misses are expensive; see quant/mapped_file.h). Auto copies when the file
// takes at most half the machine's RAM. Checkpoint directories are always mapped.
enum class WeightsLoad { Auto, Mmap, Copy };
// "auto" | "mmap" | "copy"; throws Error otherwise.
WeightsLoad parse_weights_load(const std::string& s);

class Model {
 public:
  // `path`: a Hugging Face checkpoint directory (config.json + safetensors) or a deepseek2
  // GGUF file. Throws Error.
  // `repack`: copied Q8_0/Q4_0 weights go into the kernels' row groups (where the CPU's kernels
  // have them; see engine/model/matrix.h).
  static std::unique_ptr<Model> open(const std::string& path, WeightsLoad load = WeightsLoad::Mmap,
                                     bool repack = true);
  ~Model();

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return w_; }
  const std::string& path() const { return path_; }
  bool has_mtp() const { return w_.mtp.has_value(); }
  const GgufFile* gguf() const { return gguf_.get(); }  // null for a checkpoint directory
  bool weights_copied() const;

 private:
  Model() = default;
  std::string path_;
  ModelConfig cfg_;
  std::unique_ptr<SafetensorsCheckpoint> st_;
  std::unique_ptr<GgufFile> gguf_;
  ModelWeights w_;
};

}  // namespace dsinfer
