#include "engine/model/model.h"

#include <filesystem>

#include "engine/model/gguf_binding.h"
#include "engine/model/gguf_metadata.h"
#include "engine/model/hf_binding.h"
#include "quant/gguf_reader.h"
#include "quant/mapped_file.h"
#include "simd/error.h"
#include "quant/safetensors.h"

namespace dsinfer {

Model::~Model() = default;

WeightsLoad parse_weights_load(const std::string& s) {
  if (s == "auto") return WeightsLoad::Auto;
  if (s == "mmap") return WeightsLoad::Mmap;
  if (s == "copy") return WeightsLoad::Copy;
  fail("--weights", "unknown mode '" + s + "' (expected auto, mmap or copy)");
}

bool Model::weights_copied() const { return gguf_ && gguf_->map_mode() == MapMode::Copy; }

std::unique_ptr<Model> Model::open(const std::string& path, WeightsLoad load, bool repack) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file or directory");
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  if (!fs::is_directory(path, ec)) {
    MapMode mode = load == WeightsLoad::Copy ? MapMode::Copy : MapMode::Mmap;
    if (load == WeightsLoad::Auto) {
      const uint64_t ram = physical_memory_bytes(), size = uint64_t(fs::file_size(path, ec));
      if (!ec && ram > 0 && size <= ram / 2) mode = MapMode::Copy;
    }
    m->gguf_ = std::make_unique<GgufFile>(path, mode);
    m->cfg_ = read_deepseek2_config(*m->gguf_);
    m->w_ = bind_gguf(*m->gguf_, m->cfg_, repack);
    return m;
  }
  m->cfg_ = load_hf_config((fs::path(path) / "config.json").string());
  m->st_ = std::make_unique<SafetensorsCheckpoint>(path);
  m->w_ = bind_hf_checkpoint(*m->st_, m->cfg_);
  return m;
}

}  // namespace dsinfer
