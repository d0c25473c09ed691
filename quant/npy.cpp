#include "quant/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

#include "quant/atomic_file.h"
#include "simd/error.h"

namespace dsinfer {

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) fail(path, "not a .npy file");
  const int major = uint8_t(bytes[6]);
  size_t hlen, off;
  if (major == 1) {
    hlen = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    off = 10;
  } else {
    if (bytes.size() < 12) fail(path, "truncated .npy header");
    hlen = 0;
    for (int i = 3; i >= 0; --i) hlen = (hlen << 8) | uint8_t(bytes[8 + i]);
    off = 12;
  }
  if (off + hlen > bytes.size()) fail(path, "truncated .npy header");
  const std::string header = bytes.substr(off, hlen);
  std::smatch m;
  NpyArray a;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'"))) fail(path, "no descr in .npy header");
  a.descr = m[1];
  if (header.find("'fortran_order': False") == std::string::npos) fail(path, "fortran-order arrays unsupported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) fail(path, "no shape in .npy header");
  const std::string dims = m[1];
  std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    a.shape.push_back(std::stoll(it->str()));
  const size_t n = size_t(a.numel());
  const char* p = bytes.data() + off + hlen;
  const size_t avail = bytes.size() - off - hlen;
  auto need = [&](size_t esz) {
    if (avail < n * esz) fail(path, "truncated .npy data");
  };
  if (a.descr == "<f4") {
    need(4);
    a.f32.resize(n);
    std::memcpy(a.f32.data(), p, n * 4);
  } else if (a.descr == "<i4") {
    need(4);
    a.ints.resize(n);
    for (size_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      a.ints[i] = v;
    }
  } else if (a.descr == "<i8") {
    need(8);
    a.ints.resize(n);
    std::memcpy(a.ints.data(), p, n * 8);
  } else {
    fail(path, "unsupported .npy dtype " + a.descr);
  }
  return a;
}

std::string npy_bytes_f32(const std::vector<int64_t>& shape, const float* data) {
  std::string dims;
  int64_t n = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ",";
    n *= d;
  }
  if (shape.size() > 1) dims.pop_back();  // "(3,)" keeps its comma, "(3,4)" has none at the end
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // v1.0: magic(6) + version(2) + u16 length + header, padded with spaces and '\n' to a multiple of 64.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(char(header.size() & 0xFF));
  out.push_back(char(header.size() >> 8));
  out += header;
  out.append(reinterpret_cast<const char*>(data), size_t(n) * 4);
  return out;
}

void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  AtomicFile f(path);
  f.write(npy_bytes_f32(shape, data));
  f.commit();
}

}  // namespace dsinfer
