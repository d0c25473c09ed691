#include "quant/huge_buffer.h"

#include <sys/mman.h>

namespace dsinfer {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}  // namespace

HugeBuffer::HugeBuffer(size_t bytes) noexcept : len_((bytes + kHugePage - 1) & ~(kHugePage - 1)) {
  if (len_ == 0) return;
  void* p = ::mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
#ifdef MADV_HUGEPAGE
  ::madvise(p, len_, MADV_HUGEPAGE);
#endif
  data_ = static_cast<uint8_t*>(p);
}

HugeBuffer::~HugeBuffer() {
  if (data_) ::munmap(data_, len_);
}

HugeBuffer::HugeBuffer(HugeBuffer&& o) noexcept
    : len_(std::exchange(o.len_, 0)), data_(std::exchange(o.data_, nullptr)) {}

HugeBuffer& HugeBuffer::operator=(HugeBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(data_, len_);
    len_ = std::exchange(o.len_, 0);
    data_ = std::exchange(o.data_, nullptr);
  }
  return *this;
}

}  // namespace dsinfer
