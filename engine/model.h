// A loaded model: its configuration and its weights, mapped from disk (never copied).
#pragma once
#include <memory>
#include <string>

#include "engine/model_config.h"
#include "engine/model_weights.h"

namespace dsinfer {

class SafetensorsCheckpoint;
class GgufFile;

class Model {
 public:
  // `path`: a Hugging Face checkpoint directory (config.json + safetensors) or a deepseek2
  // GGUF file. Throws Error.
  static std::unique_ptr<Model> open(const std::string& path);
  ~Model();

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return w_; }
  const std::string& path() const { return path_; }
  bool has_mtp() const { return w_.mtp.has_value(); }
  const GgufFile* gguf() const { return gguf_.get(); }  // null for a checkpoint directory

 private:
  Model() = default;
  std::string path_;
  ModelConfig cfg_;
  std::unique_ptr<SafetensorsCheckpoint> st_;
  std::unique_ptr<GgufFile> gguf_;
  ModelWeights w_;
};

}  // namespace dsinfer
