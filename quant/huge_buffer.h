// Anonymous memory in transparent huge pages where the kernel has them, as the engine's copies of
// weights are (streaming through 4 KiB pages on a VM measures the page walks as much as the
// memory). Rounded up to whole 2 MiB pages; data() is null when the mapping failed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>

namespace dsinfer {

class HugeBuffer {
 public:
  HugeBuffer() noexcept = default;  // empty
  // On failure data() is null and errno says why.
  explicit HugeBuffer(size_t bytes) noexcept;
  ~HugeBuffer();
  HugeBuffer(HugeBuffer&& o) noexcept;
  HugeBuffer& operator=(HugeBuffer&& o) noexcept;

  uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return len_; }

 private:
  size_t len_ = 0;
  uint8_t* data_ = nullptr;
};

}  // namespace dsinfer
