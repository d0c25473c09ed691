#include "quant/gguf_reader.h"
#include "simd/shape.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>

#include "simd/error.h"

namespace dsinfer {

static_assert(std::endian::native == std::endian::little, "GGUF is read in place: little-endian hosts only");

namespace {

// Plausibility limits, checked before anything is allocated.
constexpr uint64_t kMaxKeyBytes = 65535;  // the GGUF spec's limit for keys
constexpr int kMaxArrayDepth = 16;
// Smallest encodings: a KV is a key length, a type and at least one byte of value; a tensor info
// a name length, n_dims, a type and an offset.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;
// Counts from the file only bound up-front reservations up to this; beyond, vectors grow as
// entries are actually read, so a lying header cannot make us allocate far more than its size.
constexpr uint64_t kMaxReserve = 1 << 16;

size_t capped(uint64_t n) { return size_t(std::min(n, kMaxReserve)); }

// Bytes of one scalar of a fixed-size type; 0 for string, array and unknown types.
uint64_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    case GgufType::STRING: case GgufType::ARRAY: return 0;
  }
  return 0;
}

bool known_type(uint32_t t) { return t <= uint32_t(GgufType::F64); }

bool is_integer(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
    case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64: return true;
    default: return false;
  }
}

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The integer in `bits` (zero-extended little-endian bytes of type t) as a signed or unsigned
// 64-bit value; `neg` tells which.
struct Int {
  bool neg;
  uint64_t mag;  // the value if !neg, else its two's complement bits as int64
};

Int decode_int(GgufType t, uint64_t bits) {
  switch (t) {
    case GgufType::I8: return {int8_t(bits) < 0, uint64_t(int64_t(int8_t(bits)))};
    case GgufType::I16: return {int16_t(bits) < 0, uint64_t(int64_t(int16_t(bits)))};
    case GgufType::I32: return {int32_t(bits) < 0, uint64_t(int64_t(int32_t(bits)))};
    case GgufType::I64: return {int64_t(bits) < 0, bits};
    default: return {false, bits};
  }
}

template <class T>
std::optional<T> int_as(GgufType t, uint64_t bits) {
  const Int v = decode_int(t, bits);
  if (v.neg) {
    const int64_t s = int64_t(v.mag);
    if constexpr (std::is_signed_v<T>) {
      if (s >= int64_t(std::numeric_limits<T>::min())) return T(s);
    }
    return std::nullopt;
  }
  if (v.mag <= uint64_t(std::numeric_limits<T>::max())) return T(v.mag);
  return std::nullopt;
}

double float_of(GgufType t, uint64_t bits) {
  return t == GgufType::F32 ? double(std::bit_cast<float>(uint32_t(bits))) : std::bit_cast<double>(bits);
}

// Converts one scalar of type t with value bits/str to T, by GgufValue::get's rules.
template <class T>
std::optional<T> convert(GgufType t, uint64_t bits, std::string_view str) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    if (t == GgufType::STRING) return str;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (t == GgufType::BOOL) return bits != 0;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (t == GgufType::F32 || t == GgufType::F64) return T(float_of(t, bits));
  } else {
    static_assert(std::is_integral_v<T>);
    if (is_integer(t)) return int_as<T>(t, bits);
  }
  return std::nullopt;
}

uint64_t read_bits(const uint8_t* p, uint64_t size) {
  uint64_t v = 0;
  std::memcpy(&v, p, size);  // little-endian: the low bytes
  return v;
}

template <class T>
constexpr std::string_view wanted_name() {
  if constexpr (std::is_same_v<T, std::string_view>) return "a string";
  else if constexpr (std::is_same_v<T, bool>) return "a bool";
  else if constexpr (std::is_same_v<T, float>) return "f32";
  else if constexpr (std::is_same_v<T, double>) return "f64";
  else if constexpr (std::is_same_v<T, uint8_t>) return "u8";
  else if constexpr (std::is_same_v<T, int8_t>) return "i8";
  else if constexpr (std::is_same_v<T, uint16_t>) return "u16";
  else if constexpr (std::is_same_v<T, int16_t>) return "i16";
  else if constexpr (std::is_same_v<T, uint32_t>) return "u32";
  else if constexpr (std::is_same_v<T, int32_t>) return "i32";
  else if constexpr (std::is_same_v<T, uint64_t>) return "u64";
  else return "i64";
}

std::string describe(const GgufValue& v) {
  if (v.is_array()) return "an array of " + std::string(gguf_type_name(v.elem_type()));
  if (v.type() == GgufType::STRING) return "a string";
  return std::string(gguf_type_name(v.type())) + " " + v.to_string();
}

}  // namespace

std::string_view gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "u8";
    case GgufType::I8: return "i8";
    case GgufType::U16: return "u16";
    case GgufType::I16: return "i16";
    case GgufType::U32: return "u32";
    case GgufType::I32: return "i32";
    case GgufType::F32: return "f32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::U64: return "u64";
    case GgufType::I64: return "i64";
    case GgufType::F64: return "f64";
  }
  return "?";
}

std::string gguf_quote(std::string_view s, size_t max_chars) {
  std::string out = "'";
  size_t shown = 0;
  for (unsigned char c : s) {
    if (shown == max_chars) {
      out += fmt::format("...' ({} bytes)", s.size());
      return out;
    }
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'')
      out += char(c);
    else
      out += fmt::format("\\x{:02x}", c);
    ++shown;
  }
  return out + "'";
}

// ---- GgufValue ----

template <class T>
std::optional<T> GgufValue::get() const {
  if (is_array()) return std::nullopt;
  return convert<T>(type_, bits_, str_);
}

template <class T>
std::optional<std::vector<T>> GgufValue::get_array() const {
  if (!is_array()) return std::nullopt;
  std::vector<T> out;
  out.reserve(size_t(count_));
  if (elem_ == GgufType::STRING) {
    if constexpr (std::is_same_v<T, std::string_view>) {
      out = strings_;
      return out;
    } else {
      return std::nullopt;
    }
  }
  const uint64_t es = scalar_size(elem_);
  if (es == 0) return std::nullopt;  // arrays of arrays
  for (uint64_t i = 0; i < count_; ++i) {
    auto v = convert<T>(elem_, read_bits(raw_ + i * es, es), {});
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

const std::vector<std::string_view>* GgufValue::strings() const {
  return is_array() && elem_ == GgufType::STRING ? &strings_ : nullptr;
}

const std::vector<GgufValue>* GgufValue::arrays() const {
  return is_array() && elem_ == GgufType::ARRAY ? &arrays_ : nullptr;
}

namespace {

std::string scalar_string(GgufType t, uint64_t bits, std::string_view str, size_t max_chars) {
  switch (t) {
    case GgufType::STRING: return gguf_quote(str, max_chars);
    case GgufType::BOOL: return bits ? "true" : "false";
    case GgufType::F32: return fmt::format("{}", std::bit_cast<float>(uint32_t(bits)));
    case GgufType::F64: return fmt::format("{}", std::bit_cast<double>(bits));
    default: {
      const Int v = decode_int(t, bits);
      return v.neg ? fmt::format("{}", int64_t(v.mag)) : fmt::format("{}", v.mag);
    }
  }
}

}  // namespace

std::string GgufValue::to_string(size_t max_items, size_t max_chars) const {
  if (!is_array()) return scalar_string(type_, bits_, str_, max_chars);
  std::string out = "[";
  const uint64_t shown = std::min<uint64_t>(count_, max_items);
  const uint64_t es = scalar_size(elem_);
  for (uint64_t i = 0; i < shown; ++i) {
    if (i) out += ", ";
    if (elem_ == GgufType::STRING)
      out += gguf_quote(strings_[size_t(i)], max_chars);
    else if (elem_ == GgufType::ARRAY)
      out += arrays_[size_t(i)].to_string(max_items, max_chars);
    else
      out += scalar_string(elem_, read_bits(raw_ + i * es, es), {}, max_chars);
  }
  if (shown < count_) out += shown ? ", ..." : "...";
  return out + "]";
}

// ---- GgufTensor ----

std::string GgufTensor::shape_str() const { return dsinfer::shape_str(std::span(ne.data(), n_dims)); }

// ---- parsing ----

// Reads the file front to back; every read is bounds-checked and names what it was reading.
class GgufParser {
 public:
  explicit GgufParser(GgufFile& f) : f_(f), p_(f.map_.data()), size_(f.map_.size()) {}

  void parse() {
    header();
    metadata();
    alignment();
    tensor_infos();
    data_section();
  }

 private:
  [[noreturn]] void bad(const std::string& what) const { fail(f_.path(), what); }

  void need(uint64_t n, const std::string& what) const {
    if (n > size_ - pos_)
      bad(fmt::format("truncated file: {} at byte {} needs {} bytes, the file has {}", what, pos_, n, size_));
  }
  uint32_t u32(const std::string& what) {
    need(4, what);
    const uint32_t v = load<uint32_t>(p_ + pos_);
    pos_ += 4;
    return v;
  }
  uint64_t u64(const std::string& what) {
    need(8, what);
    const uint64_t v = load<uint64_t>(p_ + pos_);
    pos_ += 8;
    return v;
  }
  std::string_view str(const std::string& what) {
    const uint64_t n = u64(what);
    if (n > size_ - pos_)
      bad(fmt::format("{} has length {}, past the end of the file ({} bytes left)", what, n, size_ - pos_));
    std::string_view s(reinterpret_cast<const char*>(p_ + pos_), size_t(n));
    pos_ += n;
    return s;
  }
  // Element i of the string array of `k`; the same checks, with the message only built on
  // failure (a tokenizer has hundreds of thousands of these).
  std::string_view array_str(const std::string& k, uint64_t i) {
    if (8 > size_ - pos_ || load<uint64_t>(p_ + pos_) > size_ - pos_ - 8)
      str(fmt::format("string #{} of {}", i, k));  // fails, naming the element
    const uint64_t n = u64("");
    std::string_view s(reinterpret_cast<const char*>(p_ + pos_), size_t(n));
    pos_ += n;
    return s;
  }

  void header() {
    if (size_ < 4) bad(fmt::format("truncated file: {} bytes, too short for a GGUF header", size_));
    if (std::memcmp(p_, "GGUF", 4) != 0)
      bad("not a GGUF file: magic " + gguf_quote(std::string_view(reinterpret_cast<const char*>(p_), 4)) +
          ", expected 'GGUF'");
    pos_ = 4;
    f_.version_ = u32("the version");
    const uint32_t v = f_.version_;
    if (v == 1) bad("GGUF version 1 is not supported (only 2 and 3)");
    if (v != 2 && v != 3) {
      if ((v & 0xFFFF) == 0 && v != 0) bad(fmt::format("GGUF version {:#x}: a big-endian file, not supported", v));
      bad(fmt::format("unsupported GGUF version {} (only 2 and 3)", v));
    }
    n_tensors_ = u64("the tensor count");
    n_kv_ = u64("the metadata count");
    const uint64_t left = size_ - pos_;
    if (n_tensors_ > left / kMinTensorInfoBytes)
      bad(fmt::format("header claims {} tensors, more than a file of {} bytes can describe", n_tensors_, size_));
    if (n_kv_ > left / kMinKvBytes)
      bad(fmt::format("header claims {} metadata entries, more than a file of {} bytes can hold", n_kv_, size_));
    if (n_tensors_ * kMinTensorInfoBytes + n_kv_ * kMinKvBytes > left)
      bad(fmt::format("header claims {} tensors and {} metadata entries, more than a file of {} bytes can hold",
                      n_tensors_, n_kv_, size_));
  }

  void metadata() {
    f_.kvs_.reserve(capped(n_kv_));
    for (uint64_t i = 0; i < n_kv_; ++i) {
      const std::string what = fmt::format("metadata key #{}", i);
      const uint64_t at = pos_;
      const std::string_view key = str(what);
      if (key.empty()) bad(fmt::format("{} at byte {} is empty", what, at));
      if (key.size() > kMaxKeyBytes) bad(fmt::format("{} at byte {} is {} bytes long", what, at, key.size()));
      const std::string k = "metadata key " + gguf_quote(key);
      if (f_.kv_index_.count(key)) bad("duplicate " + k);
      const uint32_t type = u32("the type of " + k);
      GgufValue v = value(type, k, 0);
      f_.kv_index_.emplace(key, f_.kvs_.size());
      f_.kvs_.push_back({key, std::move(v)});
    }
  }

  // A value of type `type` at pos_ (for arrays: the element type, count and elements).
  GgufValue value(uint32_t type, const std::string& k, int depth) {
    if (!known_type(type)) bad(fmt::format("{} has unknown value type {}", k, type));
    GgufValue v;
    v.type_ = GgufType(type);
    if (v.type_ == GgufType::STRING) {
      v.str_ = str("the string value of " + k);
    } else if (v.type_ == GgufType::ARRAY) {
      if (depth == kMaxArrayDepth) bad(fmt::format("{} has arrays nested more than {} deep", k, kMaxArrayDepth));
      const uint32_t et = u32("the array type of " + k);
      if (!known_type(et)) bad(fmt::format("{} is an array of unknown value type {}", k, et));
      v.elem_ = GgufType(et);
      v.count_ = u64("the array length of " + k);
      const uint64_t es = scalar_size(v.elem_);
      // Strings take at least their length, nested arrays their type and length.
      const uint64_t min_es = es ? es : (v.elem_ == GgufType::STRING ? 8 : 12);
      if (v.count_ > (size_ - pos_) / min_es)
        bad(fmt::format("{}: array of {} {} runs past the end of the file ({} bytes left)", k, v.count_,
                        gguf_type_name(v.elem_), size_ - pos_));
      if (es) {
        v.raw_ = p_ + pos_;
        pos_ += v.count_ * es;
      } else if (v.elem_ == GgufType::STRING) {
        v.strings_.reserve(capped(v.count_));
        for (uint64_t i = 0; i < v.count_; ++i) v.strings_.push_back(array_str(k, i));
      } else {
        v.arrays_.reserve(capped(v.count_));
        for (uint64_t i = 0; i < v.count_; ++i)
          v.arrays_.push_back(value(uint32_t(GgufType::ARRAY), fmt::format("{} item #{}", k, i), depth + 1));
      }
    } else {
      const uint64_t n = scalar_size(v.type_);
      need(n, "the value of " + k);
      v.bits_ = read_bits(p_ + pos_, n);
      pos_ += n;
    }
    return v;
  }

  void alignment() {
    const GgufValue* a = f_.find("general.alignment");
    if (!a) return;
    if (a->type() != GgufType::U32)
      bad("metadata key 'general.alignment' is " + describe(*a) + ", must be u32");
    const uint32_t v = *a->get<uint32_t>();
    if (v == 0 || (v & (v - 1)) != 0) bad(fmt::format("general.alignment {} is not a power of two", v));
    f_.alignment_ = v;
  }

  void tensor_infos() {
    f_.tensors_.reserve(capped(n_tensors_));
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      GgufTensor t;
      const std::string what = fmt::format("the name of tensor #{}", i);
      t.name = str(what);
      if (t.name.empty()) bad(fmt::format("tensor #{} has an empty name", i));
      const std::string tn = "tensor " + gguf_quote(t.name);
      if (t.name.size() > kGgufMaxNameBytes)
        bad(fmt::format("{} has a name of {} bytes, more than GGUF's {}", tn, t.name.size(), kGgufMaxNameBytes));
      if (f_.tensor_index_.count(t.name)) bad("duplicate " + tn);
      t.n_dims = u32("the dimension count of " + tn);
      if (t.n_dims > kGgufMaxDims)
        bad(fmt::format("{} has {} dimensions, at most {} allowed", tn, t.n_dims, kGgufMaxDims));
      uint64_t count = 1;  // product of the dimensions, zeros counted as 1
      for (uint32_t d = 0; d < t.n_dims; ++d) {
        const int64_t n = int64_t(u64("the shape of " + tn));
        if (n < 0) bad(fmt::format("{} has a negative dimension {}", tn, n));
        t.ne[d] = n;
        // Keep element and row counts (and so byte counts) far from overflow: below 2^56.
        if (n != 0 && count > (uint64_t(1) << 56) / uint64_t(n))
          bad(fmt::format("{} has an implausible shape {}", tn, t.shape_str()));
        count *= uint64_t(std::max<int64_t>(n, 1));
      }
      const uint32_t type = u32("the type of " + tn);
      const auto dt = dtype_from_gguf_id(type);
      if (!dt) bad(fmt::format("{} has unknown ggml type {}", tn, int32_t(type)));
      t.type = *dt;
      const uint32_t block = dtype_info(t.type).block_size;
      if (uint64_t(t.ne[0]) % block != 0)
        bad(fmt::format("{} is {} with rows of {} elements, not a multiple of its block size {}", tn,
                        dtype_name(t.type), t.ne[0], block));
      t.nbytes = dtype_row_bytes(t.type, uint64_t(t.ne[0])) * uint64_t(t.nrows());
      t.offset = u64("the data offset of " + tn);
      if (t.offset % f_.alignment_ != 0)
        bad(fmt::format("{} has data offset {}, not a multiple of the alignment {}", tn, t.offset, f_.alignment_));
      f_.tensor_index_.emplace(t.name, f_.tensors_.size());
      f_.tensors_.push_back(t);
    }
  }

  void data_section() {
    const uint64_t a = f_.alignment_;
    f_.data_offset_ = pos_ % a ? pos_ + (a - pos_ % a) : pos_;
    struct Extent {
      uint64_t b, e;
      size_t idx;
    };
    std::vector<Extent> extents;
    for (size_t i = 0; i < f_.tensors_.size(); ++i) {
      GgufTensor& t = f_.tensors_[i];
      const uint64_t room = size_ >= f_.data_offset_ ? size_ - f_.data_offset_ : 0;
      if (t.offset > room || t.nbytes > room - t.offset)
        bad(fmt::format("tensor {} ({} {}, {} bytes at data offset {}) runs past the end of the file ({} bytes, data "
                        "from byte {}; truncated?)",
                        gguf_quote(t.name), dtype_name(t.type), t.shape_str(), t.nbytes, t.offset, size_,
                        f_.data_offset_));
      t.file_offset = f_.data_offset_ + t.offset;
      t.data = p_ + t.file_offset;
      if (t.nbytes) extents.push_back({t.offset, t.offset + t.nbytes, i});
    }
    std::sort(extents.begin(), extents.end(), [](const Extent& x, const Extent& y) { return x.b < y.b; });
    const Extent* prev = nullptr;  // the extent reaching furthest so far
    for (const Extent& x : extents) {
      if (prev && x.b < prev->e)
        bad("tensors " + gguf_quote(f_.tensors_[prev->idx].name) + " and " + gguf_quote(f_.tensors_[x.idx].name) +
            " overlap in the data section");
      if (!prev || x.e > prev->e) prev = &x;
    }
  }

  GgufFile& f_;
  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0, n_kv_ = 0;
};

// ---- GgufFile ----

GgufFile::GgufFile(const std::string& path, MapMode mode) : map_(path, mode) { GgufParser(*this).parse(); }

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const GgufValue& GgufFile::require(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail(path(), "metadata key " + gguf_quote(key) + " is missing");
  return *v;
}

void GgufFile::bad_value(std::string_view key, const GgufValue& v, std::string_view wanted) const {
  fail(path(), "metadata key " + gguf_quote(key) + " is " + describe(v) + ", expected " + std::string(wanted));
}

template <class T>
T GgufFile::get(std::string_view key) const {
  const GgufValue& v = require(key);
  auto r = v.get<T>();
  if (!r) bad_value(key, v, wanted_name<T>());
  return *r;
}

template <class T>
T GgufFile::get(std::string_view key, T fallback) const {
  return has(key) ? get<T>(key) : fallback;
}

template <class T>
std::vector<T> GgufFile::get_array(std::string_view key) const {
  const GgufValue& v = require(key);
  auto r = v.get_array<T>();
  if (!r) bad_value(key, v, "an array of " + std::string(wanted_name<T>()));
  return std::move(*r);
}

const std::vector<std::string_view>& GgufFile::get_strings(std::string_view key) const {
  const GgufValue& v = require(key);
  if (!v.strings()) bad_value(key, v, "an array of strings");
  return *v.strings();
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensor& GgufFile::tensor(std::string_view name) const {
  const GgufTensor* t = find_tensor(name);
  if (!t) fail(path(), "tensor " + gguf_quote(name) + " is missing");
  return *t;
}

#define DSINFER_GGUF_GET(T)                                                 \
  template std::optional<T> GgufValue::get<T>() const;                      \
  template std::optional<std::vector<T>> GgufValue::get_array<T>() const;   \
  template T GgufFile::get<T>(std::string_view) const;                      \
  template T GgufFile::get<T>(std::string_view, T) const;                   \
  template std::vector<T> GgufFile::get_array<T>(std::string_view) const;
DSINFER_GGUF_GET(uint8_t)
DSINFER_GGUF_GET(int8_t)
DSINFER_GGUF_GET(uint16_t)
DSINFER_GGUF_GET(int16_t)
DSINFER_GGUF_GET(uint32_t)
DSINFER_GGUF_GET(int32_t)
DSINFER_GGUF_GET(uint64_t)
DSINFER_GGUF_GET(int64_t)
DSINFER_GGUF_GET(float)
DSINFER_GGUF_GET(double)
DSINFER_GGUF_GET(bool)
DSINFER_GGUF_GET(std::string_view)
#undef DSINFER_GGUF_GET

}  // namespace dsinfer
