// NumPy .npy v1.0 arrays (little-endian float32 / int32 / int64), for golden files and debug output.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer {

struct NpyArray {
  std::string descr;           // "<f4", "<i4", "<i8"
  std::vector<int64_t> shape;  // C order
  std::vector<float> f32;      // filled for "<f4"
  std::vector<int64_t> ints;   // filled for integer arrays
  int64_t numel() const;
};

NpyArray read_npy(const std::string& path);  // throws Error
// The bytes of a .npy v1.0 file holding `data` with `shape` (float32, C order).
std::string npy_bytes_f32(const std::vector<int64_t>& shape, const float* data);
// Writes through a temporary file renamed on success.
void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const float* data);

}  // namespace dsinfer
