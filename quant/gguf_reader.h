// GGUF files (versions 2 and 3, little-endian), memory-mapped. Opening validates everything
// before anything is used: header counts against the file size, every metadata value,
// general.alignment, and every tensor's name, shape, type, offset alignment and extent (inside
// the file, no overlaps). Bad input ends in one Error line naming the file and the problem.
// Metadata strings and tensor data are views into the mapping, valid while the GgufFile lives.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quant/dtype.h"
#include "quant/mapped_file.h"

namespace dsinfer {

inline constexpr uint32_t kGgufDefaultAlignment = 32;  // when general.alignment is absent
inline constexpr size_t kGgufMaxDims = 4;
inline constexpr size_t kGgufMaxNameBytes = 64;  // tensor names, per the GGUF spec

// Metadata value types, numbered as in the file.
enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
std::string_view gguf_type_name(GgufType t);  // "u8", ..., "string", "array"; "?" if unknown

// `s` in single quotes, non-printable bytes as \xNN, cut to max_chars: safe in one-line messages.
std::string gguf_quote(std::string_view s, size_t max_chars = 80);

// One metadata value: a scalar, a string, or an array of any type (arrays of arrays included).
class GgufValue {
 public:
  GgufType type() const { return type_; }
  bool is_array() const { return type_ == GgufType::ARRAY; }
  GgufType elem_type() const { return elem_; }  // arrays only
  uint64_t size() const { return count_; }      // arrays only: element count

  // The value as T, or nullopt when it does not convert. T may be any fixed-width integer
  // (from any integer type, when the value fits), float or double (from f32 or f64), bool
  // (from bool) or std::string_view (from string).
  template <class T>
  std::optional<T> get() const;
  // An array's elements as T, by the same rules; nullopt when not such an array.
  template <class T>
  std::optional<std::vector<T>> get_array() const;

  const std::vector<std::string_view>* strings() const;  // array of strings, else nullptr
  const std::vector<GgufValue>* arrays() const;          // array of arrays, else nullptr
  // A numeric or bool array's elements as stored: packed, little-endian, possibly unaligned.
  const uint8_t* raw() const { return raw_; }

  // For display ("inspect"): arrays show their first max_items elements, strings are quoted.
  std::string to_string(size_t max_items = 8, size_t max_chars = 64) const;

 private:
  friend class GgufParser;
  GgufType type_ = GgufType::U8;
  GgufType elem_ = GgufType::U8;
  uint64_t bits_ = 0;  // a numeric or bool scalar, little-endian bits zero-extended
  std::string_view str_;
  const uint8_t* raw_ = nullptr;
  uint64_t count_ = 0;
  std::vector<std::string_view> strings_;
  std::vector<GgufValue> arrays_;
};

struct GgufKv {
  std::string_view key;
  GgufValue value;
};

struct GgufTensor {
  std::string_view name;
  DType type;
  uint32_t n_dims = 0;
  std::array<int64_t, kGgufMaxDims> ne = {1, 1, 1, 1};  // ne[0] fastest; unused dims are 1
  uint64_t offset = 0;       // from the start of the data section, as stored
  uint64_t file_offset = 0;  // from the start of the file (for pread/madvise)
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the mapping

  int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t nrows() const { return ne[1] * ne[2] * ne[3]; }
  uint64_t row_bytes() const { return dtype_row_bytes(type, uint64_t(ne[0])); }
  std::string shape_str() const;  // "[7168, 2048, 256]"
};

class GgufFile {
 public:
  // Maps (or copies, see MappedFile) and validates; throws Error.
  explicit GgufFile(const std::string& path, MapMode mode = MapMode::Mmap);
  MapMode map_mode() const { return map_.mode(); }

  const std::string& path() const { return map_.path(); }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the data section
  uint64_t file_size() const { return map_.size(); }
  const uint8_t* file_data() const { return map_.data(); }
  // The file's bytes, writable, when they were copied into memory (MapMode::Copy); else null.
  uint8_t* writable_file_data() const { return map_.writable(); }

  // Metadata in file order.
  const std::vector<GgufKv>& metadata() const { return kvs_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters. They throw an Error naming the file and key when the key is missing or its
  // value does not convert (see GgufValue::get); the overloads with a fallback return it when
  // the key is missing, and still throw on a value of the wrong type.
  template <class T>
  T get(std::string_view key) const;
  template <class T>
  T get(std::string_view key, T fallback) const;
  template <class T>
  std::vector<T> get_array(std::string_view key) const;

  uint32_t get_u32(std::string_view key) const { return get<uint32_t>(key); }
  uint32_t get_u32(std::string_view key, uint32_t fallback) const { return get<uint32_t>(key, fallback); }
  int32_t get_i32(std::string_view key) const { return get<int32_t>(key); }
  uint64_t get_u64(std::string_view key) const { return get<uint64_t>(key); }
  int64_t get_i64(std::string_view key) const { return get<int64_t>(key); }
  float get_f32(std::string_view key) const { return get<float>(key); }
  float get_f32(std::string_view key, float fallback) const { return get<float>(key, fallback); }
  double get_f64(std::string_view key) const { return get<double>(key); }
  bool get_bool(std::string_view key) const { return get<bool>(key); }
  bool get_bool(std::string_view key, bool fallback) const { return get<bool>(key, fallback); }
  std::string_view get_string(std::string_view key) const { return get<std::string_view>(key); }
  // Arrays: strings without copying; integers of any integer type; floats from f32 or f64.
  const std::vector<std::string_view>& get_strings(std::string_view key) const;
  std::vector<int64_t> get_ints(std::string_view key) const { return get_array<int64_t>(key); }
  std::vector<float> get_floats(std::string_view key) const { return get_array<float>(key); }

  // Tensors in file order.
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find_tensor(std::string_view name) const;
  const GgufTensor& tensor(std::string_view name) const;  // throws Error when missing

 private:
  friend class GgufParser;
  const GgufValue& require(std::string_view key) const;
  [[noreturn]] void bad_value(std::string_view key, const GgufValue& v, std::string_view wanted) const;

  MappedFile map_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensor> tensors_;
  std::unordered_map<std::string_view, size_t> kv_index_, tensor_index_;
};

}  // namespace dsinfer
