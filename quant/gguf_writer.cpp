#include "quant/gguf_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>

#include "simd/error.h"

namespace dsinfer {

namespace {

constexpr size_t kMaxNameBytes = 63;  // llama.cpp keeps names NUL-terminated in 64 bytes

template <class T>
void put(std::string& out, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.append(s);
}

template <class T>
constexpr GgufType type_of() {
  if constexpr (std::is_same_v<T, bool>) return GgufType::BOOL;
  else if constexpr (std::is_same_v<T, uint8_t>) return GgufType::U8;
  else if constexpr (std::is_same_v<T, int8_t>) return GgufType::I8;
  else if constexpr (std::is_same_v<T, uint16_t>) return GgufType::U16;
  else if constexpr (std::is_same_v<T, int16_t>) return GgufType::I16;
  else if constexpr (std::is_same_v<T, uint32_t>) return GgufType::U32;
  else if constexpr (std::is_same_v<T, int32_t>) return GgufType::I32;
  else if constexpr (std::is_same_v<T, uint64_t>) return GgufType::U64;
  else if constexpr (std::is_same_v<T, int64_t>) return GgufType::I64;
  else if constexpr (std::is_same_v<T, float>) return GgufType::F32;
  else if constexpr (std::is_same_v<T, double>) return GgufType::F64;
  else return GgufType::STRING;
}

uint64_t scalar_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

// A value's payload (everything after its type tag), as the reader parsed it.
void put_value(std::string& out, const GgufValue& v) {
  if (v.type() == GgufType::STRING) {
    put_string(out, *v.get<std::string_view>());
  } else if (v.is_array()) {
    put<uint32_t>(out, uint32_t(v.elem_type()));
    put<uint64_t>(out, v.size());
    if (const auto* s = v.strings()) {
      for (std::string_view x : *s) put_string(out, x);
    } else if (const auto* a = v.arrays()) {
      for (const GgufValue& x : *a) put_value(out, x);
    } else if (v.size()) {
      out.append(reinterpret_cast<const char*>(v.raw()), size_t(v.size() * scalar_bytes(v.elem_type())));
    }
  } else {
    // Scalars round-trip through their widest form, written back at their own width.
    switch (v.type()) {
      case GgufType::F32: put<float>(out, *v.get<float>()); break;
      case GgufType::F64: put<double>(out, *v.get<double>()); break;
      case GgufType::BOOL: put<uint8_t>(out, *v.get<bool>() ? 1 : 0); break;
      case GgufType::U8: put<uint8_t>(out, *v.get<uint8_t>()); break;
      case GgufType::I8: put<int8_t>(out, *v.get<int8_t>()); break;
      case GgufType::U16: put<uint16_t>(out, *v.get<uint16_t>()); break;
      case GgufType::I16: put<int16_t>(out, *v.get<int16_t>()); break;
      case GgufType::U32: put<uint32_t>(out, *v.get<uint32_t>()); break;
      case GgufType::I32: put<int32_t>(out, *v.get<int32_t>()); break;
      case GgufType::U64: put<uint64_t>(out, *v.get<uint64_t>()); break;
      case GgufType::I64: put<int64_t>(out, *v.get<int64_t>()); break;
      default: break;
    }
  }
}

uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

GgufWriter::GgufWriter(const std::string& path, uint32_t alignment) : file_(path), alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail(path, fmt::format("GGUF alignment {} is not a power of two", alignment));
  std::string payload;
  put<uint32_t>(payload, alignment);
  add_kv("general.alignment", GgufType::U32, payload);
}

// ---- metadata ----

void GgufWriter::check_declaring(std::string_view what) const {
  if (phase_ != Phase::Declare) fail(path(), std::string(what) + " after the header was written");
}

void GgufWriter::add_kv(std::string_view key, GgufType type, const std::string& payload) {
  check_declaring("metadata key " + gguf_quote(key) + " set");
  if (key.empty()) fail(path(), "empty metadata key");
  if (!keys_.emplace(key).second) {
    if (key == "general.alignment") fail(path(), "general.alignment is set by the writer's alignment argument");
    fail(path(), "metadata key " + gguf_quote(key) + " set twice");
  }
  put_string(kvs_, key);
  put<uint32_t>(kvs_, uint32_t(type));
  kvs_ += payload;
  ++n_kv_;
}

#define DSINFER_GGUF_SET(NAME, T, TYPE)                   \
  void GgufWriter::NAME(std::string_view key, T v) {     \
    std::string p;                                        \
    put<T>(p, v);                                         \
    add_kv(key, GgufType::TYPE, p);                       \
  }
DSINFER_GGUF_SET(set_u8, uint8_t, U8)
DSINFER_GGUF_SET(set_i8, int8_t, I8)
DSINFER_GGUF_SET(set_u16, uint16_t, U16)
DSINFER_GGUF_SET(set_i16, int16_t, I16)
DSINFER_GGUF_SET(set_u32, uint32_t, U32)
DSINFER_GGUF_SET(set_i32, int32_t, I32)
DSINFER_GGUF_SET(set_u64, uint64_t, U64)
DSINFER_GGUF_SET(set_i64, int64_t, I64)
DSINFER_GGUF_SET(set_f32, float, F32)
DSINFER_GGUF_SET(set_f64, double, F64)
#undef DSINFER_GGUF_SET

void GgufWriter::set_bool(std::string_view key, bool v) {
  std::string p;
  put<uint8_t>(p, v ? 1 : 0);
  add_kv(key, GgufType::BOOL, p);
}

void GgufWriter::set_string(std::string_view key, std::string_view v) {
  std::string p;
  put_string(p, v);
  add_kv(key, GgufType::STRING, p);
}

template <class T>
void GgufWriter::set_array(std::string_view key, const std::vector<T>& values) {
  constexpr GgufType et = type_of<T>();
  std::string p;
  put<uint32_t>(p, uint32_t(et));
  put<uint64_t>(p, values.size());
  if constexpr (et == GgufType::STRING) {
    for (const auto& s : values) put_string(p, s);
  } else if constexpr (et == GgufType::BOOL) {
    for (bool b : values) put<uint8_t>(p, b ? 1 : 0);
  } else {
    p.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  add_kv(key, GgufType::ARRAY, p);
}

template void GgufWriter::set_array(std::string_view, const std::vector<uint8_t>&);
template void GgufWriter::set_array(std::string_view, const std::vector<int8_t>&);
template void GgufWriter::set_array(std::string_view, const std::vector<uint16_t>&);
template void GgufWriter::set_array(std::string_view, const std::vector<int16_t>&);
template void GgufWriter::set_array(std::string_view, const std::vector<uint32_t>&);
template void GgufWriter::set_array(std::string_view, const std::vector<int32_t>&);
template void GgufWriter::set_array(std::string_view, const std::vector<uint64_t>&);
template void GgufWriter::set_array(std::string_view, const std::vector<int64_t>&);
template void GgufWriter::set_array(std::string_view, const std::vector<float>&);
template void GgufWriter::set_array(std::string_view, const std::vector<double>&);
template void GgufWriter::set_array(std::string_view, const std::vector<bool>&);
template void GgufWriter::set_array(std::string_view, const std::vector<std::string>&);
template void GgufWriter::set_array(std::string_view, const std::vector<std::string_view>&);

void GgufWriter::set_value(std::string_view key, const GgufValue& v) {
  std::string p;
  put_value(p, v);
  add_kv(key, v.type(), p);
}

// ---- tensors ----

void GgufWriter::add_tensor(std::string_view name, DType type, const std::vector<int64_t>& ne) {
  check_declaring("tensor " + gguf_quote(name) + " declared");
  const std::string tn = "tensor " + gguf_quote(name);
  if (name.empty()) fail(path(), "empty tensor name");
  if (name.size() > kMaxNameBytes)
    fail(path(), fmt::format("{}: name of {} bytes, llama.cpp allows at most {}", tn, name.size(), kMaxNameBytes));
  if (tensor_index_.count(std::string(name))) fail(path(), tn + " declared twice");
  if (dtype_info(type).gguf_id < 0) fail(path(), fmt::format("{}: type {} has no GGUF id", tn, dtype_name(type)));
  if (ne.empty() || ne.size() > kGgufMaxDims)
    fail(path(), fmt::format("{}: {} dimensions, must be 1 to {}", tn, ne.size(), kGgufMaxDims));
  uint64_t count = 1;  // zeros counted as 1, only to bound the size
  for (int64_t n : ne) {
    if (n < 0) fail(path(), fmt::format("{}: negative dimension {}", tn, n));
    if (n != 0 && count > (uint64_t(1) << 56) / uint64_t(n)) fail(path(), tn + ": implausibly large shape");
    count *= uint64_t(std::max<int64_t>(n, 1));
  }
  const uint32_t block = dtype_info(type).block_size;
  if (uint64_t(ne[0]) % block != 0)
    fail(path(), fmt::format("{}: rows of {} elements are not a multiple of the {} block size {}", tn, ne[0],
                             dtype_name(type), block));
  uint64_t rows = 1;
  for (size_t i = 1; i < ne.size(); ++i) rows *= uint64_t(ne[i]);
  Tensor t{std::string(name), type, ne, dtype_row_bytes(type, uint64_t(ne[0])) * rows, data_size_};
  data_size_ += align_up(t.nbytes, alignment_);
  tensor_index_.emplace(t.name, tensors_.size());
  tensors_.push_back(std::move(t));
}

const GgufWriter::Tensor& GgufWriter::find(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  if (it == tensor_index_.end()) fail(path(), "tensor " + gguf_quote(name) + " was not declared");
  return tensors_[it->second];
}

uint64_t GgufWriter::tensor_offset(std::string_view name) const { return find(name).offset; }
uint64_t GgufWriter::tensor_nbytes(std::string_view name) const { return find(name).nbytes; }

// ---- header ----

std::string GgufWriter::header_bytes() const {
  std::string h = "GGUF";
  put<uint32_t>(h, 3);
  put<uint64_t>(h, tensors_.size());
  put<uint64_t>(h, n_kv_);
  h += kvs_;
  for (const Tensor& t : tensors_) {
    put_string(h, t.name);
    put<uint32_t>(h, uint32_t(t.ne.size()));
    for (int64_t n : t.ne) put<int64_t>(h, n);
    put<uint32_t>(h, uint32_t(dtype_info(t.type).gguf_id));
    put<uint64_t>(h, t.offset);
  }
  return h;
}

uint64_t GgufWriter::data_offset() const {
  uint64_t n = 4 + 4 + 8 + 8 + kvs_.size();  // as header_bytes() lays it out, without building it
  for (const Tensor& t : tensors_) n += 8 + t.name.size() + 4 + 8 * t.ne.size() + 4 + 8;
  return align_up(n, alignment_);
}

uint64_t GgufWriter::file_size() const { return data_offset() + data_size_; }

void GgufWriter::write(const void* data, size_t n) {
  file_.write(data, n);
  pos_ += n;
}

void GgufWriter::pad() {
  static constexpr std::array<char, 4096> kZeros{};
  uint64_t n = align_up(pos_, alignment_) - pos_;
  while (n) {
    const size_t k = size_t(std::min<uint64_t>(n, kZeros.size()));
    write(kZeros.data(), k);
    n -= k;
  }
}

void GgufWriter::write_header() {
  if (phase_ != Phase::Declare) fail(path(), "GGUF header written twice");
  const std::string h = header_bytes();
  write(h.data(), h.size());
  pad();
  if (pos_ != data_offset()) fail(path(), "internal error: header size mismatch");
  phase_ = Phase::Data;
}

// ---- data ----

void GgufWriter::begin_tensor(std::string_view name) {
  if (phase_ == Phase::Declare) write_header();
  if (phase_ == Phase::Done) fail(path(), "tensor " + gguf_quote(name) + " written after finish()");
  if (in_tensor_)
    fail(path(), "tensor " + gguf_quote(name) + " begun before tensor " + gguf_quote(tensors_[next_].name) +
                     " was ended");
  if (next_ == tensors_.size())
    fail(path(), "tensor " + gguf_quote(name) + " written after every declared tensor");
  if (name != tensors_[next_].name) {
    find(name);  // names an undeclared tensor, if it is one
    fail(path(), "tensor " + gguf_quote(name) + " written out of order: the next declared is " +
                     gguf_quote(tensors_[next_].name));
  }
  in_tensor_ = true;
  written_ = 0;
}

void GgufWriter::append(const void* data, size_t n) {
  if (!in_tensor_) fail(path(), "tensor data appended outside begin_tensor/end_tensor");
  const Tensor& t = tensors_[next_];
  if (n > t.nbytes - written_)
    fail(path(), fmt::format("tensor {}: {} more bytes would make {}, more than its {}", gguf_quote(t.name), n,
                             written_ + n, t.nbytes));
  write(data, n);
  written_ += n;
}

void GgufWriter::end_tensor() {
  if (!in_tensor_) fail(path(), "end_tensor without begin_tensor");
  const Tensor& t = tensors_[next_];
  if (written_ != t.nbytes)
    fail(path(), fmt::format("tensor {} got {} of its {} bytes", gguf_quote(t.name), written_, t.nbytes));
  pad();
  in_tensor_ = false;
  ++next_;
}

void GgufWriter::write_tensor_data(std::string_view name, const void* data, size_t n) {
  begin_tensor(name);
  append(data, n);
  end_tensor();
}

void GgufWriter::finish() {
  complete();
  commit();
}

void GgufWriter::complete() {
  if (phase_ == Phase::Done) fail(path(), "finish() called twice");
  if (phase_ == Phase::Declare) write_header();
  if (in_tensor_) fail(path(), "finish() inside tensor " + gguf_quote(tensors_[next_].name));
  if (next_ != tensors_.size())
    fail(path(), fmt::format("tensor {} and {} more were declared but never written", gguf_quote(tensors_[next_].name),
                             tensors_.size() - next_ - 1));
  phase_ = Phase::Done;
  file_.flush();
}

void GgufWriter::patch_tensor(std::string_view name, uint64_t offset, const void* data, size_t n) {
  if (phase_ != Phase::Done) fail(path(), "tensor " + gguf_quote(name) + " patched before complete()");
  const Tensor& t = find(name);
  if (offset > t.nbytes || n > t.nbytes - offset)
    fail(path(), fmt::format("tensor {}: a patch of {} bytes at {} runs past its {}", gguf_quote(name), n, offset,
                             t.nbytes));
  file_.patch(data_offset() + t.offset + offset, data, n);
}

void GgufWriter::commit() {
  if (phase_ != Phase::Done) fail(path(), "commit() before complete()");
  file_.commit();
}

}  // namespace dsinfer
