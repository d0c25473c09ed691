// A read-only memory mapping of a whole file (RAII).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dsinfer {

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);  // throws Error naming the file
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void release() noexcept;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Tells the kernel the pages wholly inside [p, p+n) of a read-only mapping are not needed
// again, so a single pass over a file larger than RAM does not grow the resident set.
void release_pages(const void* p, size_t n) noexcept;

}  // namespace dsinfer
