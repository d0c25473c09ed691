#include "engine/experts/resident_tensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "engine/experts/page_cache.h"
#include "simd/error.h"

namespace dsinfer {

namespace {
constexpr uint64_t kPage = 4096;
constexpr uint64_t kPiece = uint64_t(16) << 20;  // a read at a time
uint64_t round_up(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }
}  // namespace

std::string read_file_range(int direct_fd, int fd, uint64_t offset, uint64_t n, uint8_t* dst, bool cached) {
  const bool aligned = offset % kPage == 0 && n % kPage == 0 && uintptr_t(dst) % kPage == 0;
  int use = aligned && direct_fd >= 0 && !cached ? direct_fd : fd;
  uint64_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(use, dst + done, size_t(n - done), off_t(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EINVAL && use == direct_fd) {  // the file system refuses O_DIRECT
      use = fd;
      continue;
    }
    if (r < 0) return std::strerror(errno);
    if (r == 0) return "the file ends before the data its tensor table lists (truncated?)";
    done += uint64_t(r);
  }
#ifdef POSIX_FADV_DONTNEED
  if (use == fd && !cached) ::posix_fadvise(fd, off_t(offset), off_t(n), POSIX_FADV_DONTNEED);
#endif
  return {};
}

ResidentTensors::ResidentTensors(const GgufFile& f, const std::vector<const GgufTensor*>& tensors, bool keep_cache) {
  for (const GgufTensor* t : tensors) {
    at_[t] = used_;
    used_ += round_up(t->nbytes, kPage);
  }
  if (used_ == 0) return;
  arena_ = HugeBuffer(size_t(used_));
  if (!arena_.data()) fail(f.path(), std::string("cannot allocate memory for the weights: ") + std::strerror(errno));
  const int fd = ::open(f.path().c_str(), O_RDONLY | O_CLOEXEC);
  int direct = -1;
#ifdef O_DIRECT
  direct = ::open(f.path().c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
#endif
  if (fd < 0) fail(f.path(), std::string("cannot open: ") + std::strerror(errno));
  // Pieces of every tensor, read side by side. A tensor's file offset is page-aligned in
  // dsinfer's files (general.alignment 4096); other files are read buffered.
  struct Piece {
    uint64_t file, size;
    uint8_t* dst;
  };
  std::vector<Piece> pieces;
  for (const GgufTensor* t : tensors)
    for (uint64_t o = 0; o < t->nbytes; o += kPiece) {
      const uint64_t n = std::min(kPiece, t->nbytes - o);
      // O_DIRECT wants whole pages: the last piece reads up to the page end of the file data
      // (the arena keeps room for it), never beyond the file.
      pieces.push_back({t->file_offset + o, n, arena_.data() + at_[t] + o});
    }
  std::string err;
  std::atomic<bool> failed{false};
  const PageCacheProbe cache(fd, f.file_size());
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (failed.load(std::memory_order_relaxed)) continue;
    const Piece& pc = pieces[i];
    const std::string e = read_file_range(direct, fd, pc.file, pc.size, pc.dst, keep_cache || cache.cached(pc.file, pc.size));
    if (!e.empty() && !failed.exchange(true)) err = e;
  }
  ::close(fd);
  if (direct >= 0) ::close(direct);
  if (failed) fail(f.path(), "cannot read the weights: " + err);
}

uint8_t* ResidentTensors::data(const GgufTensor& t) const {
  const auto it = at_.find(&t);
  return it == at_.end() ? nullptr : arena_.data() + it->second;
}

}  // namespace dsinfer
