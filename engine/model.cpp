#include "engine/model.h"

#include <filesystem>

#include "engine/hf_binding.h"
#include "quant/error.h"
#include "quant/safetensors.h"

namespace dsinfer {

Model::~Model() = default;

std::unique_ptr<Model> Model::open(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file or directory");
  if (!fs::is_directory(path, ec)) fail(path, "not a model directory (GGUF files are not supported yet)");
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  m->cfg_ = load_hf_config((fs::path(path) / "config.json").string());
  m->st_ = std::make_unique<SafetensorsCheckpoint>(path);
  m->w_ = bind_hf_checkpoint(*m->st_, m->cfg_);
  return m;
}

}  // namespace dsinfer
