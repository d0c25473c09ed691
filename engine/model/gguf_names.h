// Tensor names of llama.cpp's `deepseek2` GGUF architecture.
#pragma once
#include <cstdint>
#include <string>

namespace dsinfer::gguf_names {

inline constexpr const char* kArch = "deepseek2";

// "blk.<l>.<what>.weight"
inline std::string blk(int64_t l, const char* what) {
  return "blk." + std::to_string(l) + "." + what + ".weight";
}
// "blk.<l>.nextn.<what>.weight" (the MTP module's own tensors)
inline std::string nextn(int64_t l, const char* what) {
  return "blk." + std::to_string(l) + ".nextn." + what + ".weight";
}
inline std::string exp_probs_b(int64_t l) { return "blk." + std::to_string(l) + ".exp_probs_b.bias"; }
// "deepseek2.<key>"
inline std::string key(const char* k) { return std::string(kArch) + "." + k; }

}  // namespace dsinfer::gguf_names
