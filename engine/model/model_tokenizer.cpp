#include "engine/model/model_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <string_view>

#include "engine/tokenizer/gguf_tokenizer.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "simd/error.h"

namespace dsinfer {

std::unique_ptr<Tokenizer> open_model_tokenizer(const Model& m) {
  if (const GgufFile* f = m.gguf()) {
    const auto v = read_gguf_vocab(*f);
    if (!v) return nullptr;
    return std::make_unique<Tokenizer>(spec_from_gguf(*v, f->path()));
  }
  if (!std::filesystem::exists(std::filesystem::path(m.path()) / "tokenizer.json")) return nullptr;
  return open_tokenizer(m.path());
}

std::unique_ptr<Tokenizer> open_tokenizer_any(const std::string& path) {
  char magic[4] = {};
  if (std::filesystem::is_regular_file(path)) std::ifstream(path, std::ios::binary).read(magic, 4);
  if (std::string_view(magic, 4) != "GGUF") return open_tokenizer(path);
  GgufFile f(path);
  const auto v = read_gguf_vocab(f);
  if (!v) fail(path, "this GGUF file carries no tokenizer");
  return std::make_unique<Tokenizer>(spec_from_gguf(*v, path));
}

}  // namespace dsinfer
