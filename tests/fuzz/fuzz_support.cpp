#include "tests/fuzz/fuzz_support.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "engine/tokenizer/tokenizer_json.h"

namespace dsinfer::fuzz {

std::string fixture(const std::string& rel) {
  const char* d = std::getenv("DSINFER_FIXTURES");
  return std::string(d && *d ? d : DSINFER_FIXTURES_DEFAULT) + "/" + rel;
}

const Tokenizer& fixture_tokenizer() {
  static const std::unique_ptr<Tokenizer> tok = open_tokenizer(fixture("tokenizer-deepseek-v3"));
  return *tok;
}

MemFile::MemFile(const uint8_t* data, size_t size) {
  fd_ = ::memfd_create("fuzz", MFD_CLOEXEC);
  if (fd_ < 0) std::abort();
  for (size_t off = 0; off < size;) {
    const ssize_t n = ::write(fd_, data + off, size - off);
    if (n <= 0) std::abort();
    off += size_t(n);
  }
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

MemFile::~MemFile() { ::close(fd_); }

std::pair<std::string_view, std::string_view> split_at_nul(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  if (nul == std::string_view::npos) return {all, {}};
  return {all.substr(0, nul), all.substr(nul + 1)};
}

}  // namespace dsinfer::fuzz
