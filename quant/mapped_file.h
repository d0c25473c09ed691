// A whole file in memory (RAII): mapped read-only from the page cache, or copied into private
// anonymous memory backed by transparent huge pages, which the owner may rearrange in place
// (the engine repacks weights there).
//
// Why a copy: file pages are 4 KiB, and where a TLB miss is expensive (virtual machines with
// shadow or nested paging) streaming weights that are touched rarely, as routed experts are,
// runs at a fraction of the bandwidth. Measured on our 2-core VM, one thread through the Q4_0
// kernel: 2-5 GB/s from the file mapping, 10-15 GB/s from a huge-page copy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "quant/huge_buffer.h"

namespace dsinfer {

enum class MapMode { Mmap, Copy };

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path, MapMode mode = MapMode::Mmap);  // throws Error naming the file
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  // The copy, writable; null for a mapping.
  uint8_t* writable() const { return mode_ == MapMode::Copy ? const_cast<uint8_t*>(data_) : nullptr; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  MapMode mode() const { return mode_; }

 private:
  void release() noexcept;
  std::string path_;
  HugeBuffer copy_;  // MapMode::Copy's memory
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  MapMode mode_ = MapMode::Mmap;
};

// Physical memory of this machine in bytes (0 when unknown).
uint64_t physical_memory_bytes() noexcept;

// Tells the kernel the pages wholly inside [p, p+n) of a read-only mapping are not needed
// again, so a single pass over a file larger than RAM does not grow the resident set.
void release_pages(const void* p, size_t n) noexcept;

}  // namespace dsinfer
