#include "quant/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "quant/input_file.h"
#include "simd/error.h"

namespace dsinfer {

namespace {

constexpr size_t kCopyChunk = size_t(64) << 20;

// Reads the whole file into fresh anonymous memory (huge pages where the kernel has them), in
// parallel chunks. Throws on a read error or short file.
HugeBuffer copy_file(int fd, size_t size, const std::string& path) {
  HugeBuffer copy(size);
  if (!copy.data()) fail(path, std::string("cannot allocate memory for the weights: ") + std::strerror(errno));
  uint8_t* dst = copy.data();
  const int64_t chunks = int64_t((size + kCopyChunk - 1) / kCopyChunk);
  std::atomic<int> err{0};
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    size_t off = size_t(c) * kCopyChunk;
    const size_t end = std::min(size, off + kCopyChunk);
    while (off < end && err.load(std::memory_order_relaxed) == 0) {
      const ssize_t n = ::pread(fd, dst + off, end - off, off_t(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        err.store(n < 0 ? errno : EIO);
        break;
      }
      off += size_t(n);
    }
  }
  if (err.load() != 0) fail(path, std::string("cannot read: ") + std::strerror(err.load()));
  return copy;
}

}  // namespace

uint64_t physical_memory_bytes() noexcept {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

MappedFile::MappedFile(const std::string& path, MapMode mode) : path_(path), mode_(mode) {
  const RegularFile f(path);  // refuses FIFOs, devices and directories without blocking
  size_ = size_t(f.size());
  if (size_ > 0) {
    if (mode == MapMode::Copy) {
      copy_ = copy_file(f.fd(), size_, path);
      data_ = copy_.data();
    } else {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, f.fd(), 0);
      if (p == MAP_FAILED) fail(path, std::string("cannot map: ") + std::strerror(errno));
      data_ = static_cast<const uint8_t*>(p);
    }
  }
  // The mapping keeps the file alive after f closes it.
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& o) noexcept
    : path_(std::move(o.path_)), copy_(std::move(o.copy_)), data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)), mode_(o.mode_) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    copy_ = std::move(o.copy_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    mode_ = o.mode_;
  }
  return *this;
}

void release_pages(const void* p, size_t n) noexcept {
  const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  uintptr_t b = (uintptr_t(p) + page - 1) & ~(page - 1);
  const uintptr_t e = (uintptr_t(p) + n) & ~(page - 1);
  if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
}

void MappedFile::release() noexcept {
  if (data_ && mode_ != MapMode::Copy) ::munmap(const_cast<uint8_t*>(data_), size_);
  copy_ = HugeBuffer();
  data_ = nullptr;
  size_ = 0;
}

}  // namespace dsinfer
