// What the libFuzzer targets share: the fixture tokenizer (loaded once), and fuzz input as a
// file (the readers take paths and map them) without touching the disk.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/tokenizer/tokenizer.h"

namespace dsinfer::fuzz {

// ../shared/fixtures/<rel> (DSINFER_FIXTURES overrides the configured path).
std::string fixture(const std::string& rel);
// The DeepSeek-V3 tokenizer of the fixtures, loaded on first use.
const Tokenizer& fixture_tokenizer();

// Bytes in an anonymous in-memory file (memfd), reachable by path() while it lives.
class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size);
  ~MemFile();
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// The input cut at its first NUL: (before, after); no NUL: (all, "").
std::pair<std::string_view, std::string_view> split_at_nul(const uint8_t* data, size_t size);

}  // namespace dsinfer::fuzz
