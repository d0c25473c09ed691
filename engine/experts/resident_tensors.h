// Tensors read from a GGUF file into private huge-page memory (the weights every token reads:
// attention, shared experts, dense layers, norms, the head), where the engine may rearrange
// them. Reads bypass the page cache where the file system allows, so a memory cgroup holds
// them once, not twice, unless they are in the page cache already: then they are copied from it.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "quant/gguf_reader.h"
#include "quant/huge_buffer.h"

namespace dsinfer {

class ResidentTensors {
 public:
  // Reads `tensors` of `f` (in parallel on the OpenMP team), through the page cache when
  // `keep_cache`. Throws Error naming the file.
  ResidentTensors(const GgufFile& f, const std::vector<const GgufTensor*>& tensors, bool keep_cache = false);
  ResidentTensors(const ResidentTensors&) = delete;
  ResidentTensors& operator=(const ResidentTensors&) = delete;

  // The tensor's bytes here, or null when it was not read.
  uint8_t* data(const GgufTensor& t) const;
  uint64_t bytes() const { return used_; }

 private:
  HugeBuffer arena_;
  uint64_t used_ = 0;
  std::unordered_map<const GgufTensor*, uint64_t> at_;
};

// Reads n bytes at `offset` of the file into dst. Through the page cache when `cached` (the
// range is there, or is to stay there: a buffered read, the cache left as it is); else page-aligned offsets, sizes and buffers through O_DIRECT where
// the file system takes it, the rest buffered with the pages dropped after. Returns "" or what
// went wrong.
std::string read_file_range(int direct_fd, int fd, uint64_t offset, uint64_t n, uint8_t* dst, bool cached = false);

}  // namespace dsinfer
