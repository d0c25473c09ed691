#include "engine/model_tokenizer.h"

#include <filesystem>

#include "engine/gguf_tokenizer.h"
#include "engine/tokenizer/tokenizer_json.h"

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

}  // namespace dsinfer
