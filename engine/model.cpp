#include "engine/model.h"

#include <filesystem>

#include "engine/gguf_binding.h"
#include "engine/gguf_metadata.h"
#include "engine/hf_binding.h"
#include "quant/gguf_reader.h"
#include "quant/error.h"
#include "quant/safetensors.h"

namespace dsinfer {

Model::~Model() = default;

std::unique_ptr<Model> Model::open(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file or directory");
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  if (!fs::is_directory(path, ec)) {
    m->gguf_ = std::make_unique<GgufFile>(path);
    m->cfg_ = read_deepseek2_config(*m->gguf_);
    m->w_ = bind_gguf(*m->gguf_, m->cfg_);
    return m;
  }
  m->cfg_ = load_hf_config((fs::path(path) / "config.json").string());
  m->st_ = std::make_unique<SafetensorsCheckpoint>(path);
  m->w_ = bind_hf_checkpoint(*m->st_, m->cfg_);
  return m;
}

}  // namespace dsinfer
