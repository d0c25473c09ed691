// Safetensors files (one, or the shards of a Hugging Face checkpoint directory), memory-mapped.
// Every header is validated before any tensor data is touched.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quant/dtype.h"
#include "quant/mapped_file.h"

namespace dsinfer {

struct StTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;  // row-major, outermost first
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  const std::string* file = nullptr;  // the file it lives in, for error messages
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // maps and validates; throws Error
  const StTensor* find(std::string_view name) const;
  const std::vector<StTensor>& tensors() const { return tensors_; }
  const std::string& path() const { return map_.path(); }

 private:
  MappedFile map_;
  std::vector<StTensor> tensors_;
  std::unordered_map<std::string_view, size_t> by_name_;
};

// A checkpoint directory: model.safetensors.index.json and its shards, or one model.safetensors.
class SafetensorsCheckpoint {
 public:
  explicit SafetensorsCheckpoint(const std::string& dir);  // throws Error
  const StTensor* find(std::string_view name) const;
  const std::string& dir() const { return dir_; }
  size_t tensor_count() const { return index_.size(); }
  std::vector<std::string> names() const;  // sorted

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unordered_map<std::string, const StTensor*> index_;
};

}  // namespace dsinfer
