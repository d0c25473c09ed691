// Hand-assembled GGUF bytes for the tests, written from the format description and
// independent of GgufWriter: header, then key/values, then tensor infos, then data.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dsinfer::test {

class GgufBytes {
 public:
  std::string bytes;

  template <class T>
  GgufBytes& raw(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    bytes.append(b, sizeof(T));
    return *this;
  }
  GgufBytes& u32(uint32_t v) { return raw(v); }
  GgufBytes& u64(uint64_t v) { return raw(v); }
  GgufBytes& str(std::string_view s) {
    u64(s.size());
    bytes.append(s);
    return *this;
  }
  GgufBytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    bytes.append("GGUF");
    u32(version);
    u64(n_tensors);
    return u64(n_kv);
  }
  // A key with a u32 value (type 4).
  GgufBytes& kv_u32(std::string_view key, uint32_t v) {
    str(key);
    u32(4);
    return u32(v);
  }
  // A tensor info: name, n_dims, dims, ggml type, offset.
  GgufBytes& tensor(std::string_view name, std::initializer_list<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name);
    u32(uint32_t(ne.size()));
    for (int64_t n : ne) raw<int64_t>(n);
    u32(type);
    return u64(offset);
  }
  GgufBytes& pad(size_t alignment) {
    while (bytes.size() % alignment) bytes.push_back('\0');
    return *this;
  }
  GgufBytes& fill(size_t n, char c = '\x11') {
    bytes.append(n, c);
    return *this;
  }
};

}  // namespace dsinfer::test
