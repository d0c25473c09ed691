#include "engine/experts/page_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace dsinfer {

namespace {
#ifdef __APPLE__
using MincoreByte = char;
#else
using MincoreByte = unsigned char;
#endif
const uint64_t kPage = uint64_t(::sysconf(_SC_PAGESIZE));
}  // namespace

PageCacheProbe::PageCacheProbe(int fd, uint64_t size) : size_(size) {
  if (size == 0) return;
  void* p = ::mmap(nullptr, size_t(size), PROT_READ, MAP_SHARED, fd, 0);
  if (p != MAP_FAILED) map_ = p;
}

PageCacheProbe::~PageCacheProbe() {
  if (map_) ::munmap(map_, size_t(size_));
}

bool PageCacheProbe::cached(uint64_t offset, uint64_t n) const {
  if (!map_ || n == 0 || offset >= size_) return false;
  const uint64_t first = offset / kPage * kPage, end = std::min(size_, offset + n);
  const uint64_t pages = (end - first + kPage - 1) / kPage;
  thread_local std::vector<MincoreByte> v;
  v.resize(size_t(pages));
  if (::mincore(static_cast<char*>(map_) + first, size_t(end - first), v.data()) != 0) return false;
  return std::all_of(v.begin(), v.end(), [](MincoreByte b) { return (b & 1) != 0; });
}

}  // namespace dsinfer
