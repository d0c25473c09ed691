// Whether a byte range of a file is in the page cache. A range that is there is copied faster
// by a buffered read than read again from the disk by O_DIRECT, and leaves the cache as it was.
#pragma once
#include <cstdint>

namespace dsinfer {

class PageCacheProbe {
 public:
  // `fd` open for reading, `size` the file's length. A probe that cannot map the file answers
  // "not cached" (reads then go to the disk, which is always correct).
  PageCacheProbe(int fd, uint64_t size);
  ~PageCacheProbe();
  PageCacheProbe(const PageCacheProbe&) = delete;
  PageCacheProbe& operator=(const PageCacheProbe&) = delete;

  // Every page of [offset, offset + n) is resident.
  bool cached(uint64_t offset, uint64_t n) const;

 private:
  void* map_ = nullptr;  // never touched: mincore only
  uint64_t size_ = 0;
};

}  // namespace dsinfer
