// Streaming GGUF v3 writer for files larger than RAM.
//
// Use in three phases:
//   1. declare: set_* metadata, add_tensor() every tensor (name, type, shape). Offsets follow
//      from the declaration order: each tensor starts on a multiple of the alignment, padded
//      with zeros, as llama.cpp lays them out (it requires that order and packing).
//   2. data: write_header() (or let the first data call do it), then each tensor's bytes in
//      declaration order, whole (write_tensor_data) or in pieces (begin_tensor, append...,
//      end_tensor) so a stacked-expert tensor can be written expert by expert.
//   3. finish(): checks every tensor got exactly its byte count, then fsyncs and renames the
//      temporary "<path>.tmp.<pid>" into place. Without finish() (an exception, say) the
//      temporary is removed and no file appears.
// Misuse (wrong order, wrong byte counts, duplicate names) throws Error naming the file.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "quant/atomic_file.h"
#include "quant/dtype.h"
#include "quant/gguf_reader.h"

namespace dsinfer {

class GgufWriter {
 public:
  // `alignment`: a power of two, written as general.alignment (u32), the first metadata entry.
  // dsinfer uses 4096 so every tensor, and every expert slice of one, starts on a page.
  explicit GgufWriter(const std::string& path, uint32_t alignment = kGgufDefaultAlignment);

  // ---- phase 1: metadata, in the order given; each key once (general.alignment is the writer's)
  void set_u8(std::string_view key, uint8_t v);
  void set_i8(std::string_view key, int8_t v);
  void set_u16(std::string_view key, uint16_t v);
  void set_i16(std::string_view key, int16_t v);
  void set_u32(std::string_view key, uint32_t v);
  void set_i32(std::string_view key, int32_t v);
  void set_u64(std::string_view key, uint64_t v);
  void set_i64(std::string_view key, int64_t v);
  void set_f32(std::string_view key, float v);
  void set_f64(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  // An array; T is a fixed-width integer, float, double, bool, std::string or std::string_view.
  template <class T>
  void set_array(std::string_view key, const std::vector<T>& values);
  // A value read from another GGUF file, of any type, arrays of arrays included (llama.cpp
  // itself cannot read arrays of arrays).
  void set_value(std::string_view key, const GgufValue& v);

  // ---- phase 1: tensors. ne[0] fastest, 1 to 4 dimensions; ne[0] a multiple of the type's
  // block size; the name shorter than 64 bytes (llama.cpp's limit).
  void add_tensor(std::string_view name, DType type, const std::vector<int64_t>& ne);

  // ---- phase 2
  void write_header();
  void write_tensor_data(std::string_view name, const void* data, size_t n);
  void begin_tensor(std::string_view name);
  void append(const void* data, size_t n);
  void end_tensor();

  // ---- phase 3
  void finish();  // complete() then commit()
  // Checks every tensor got its bytes; the file is then whole but still under its temporary
  // name (temp_path()), where it can be read and its tensors patched before commit().
  void complete();
  void patch_tensor(std::string_view name, uint64_t offset, const void* data, size_t n);
  void commit();

  const std::string& path() const { return file_.path(); }
  const std::string& temp_path() const { return file_.temp_path(); }
  uint32_t alignment() const { return alignment_; }
  size_t tensor_count() const { return tensors_.size(); }
  // Known once all tensors are declared (the header size depends on them).
  uint64_t data_offset() const;
  uint64_t file_size() const;  // the final size: data offset plus every padded tensor
  uint64_t tensor_offset(std::string_view name) const;  // from the data section start
  uint64_t tensor_nbytes(std::string_view name) const;

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes, offset;
  };
  enum class Phase { Declare, Data, Done };

  void add_kv(std::string_view key, GgufType type, const std::string& payload);
  void check_declaring(std::string_view what) const;
  const Tensor& find(std::string_view name) const;
  std::string header_bytes() const;
  void write(const void* data, size_t n);
  void pad();

  AtomicFile file_;
  uint32_t alignment_;
  Phase phase_ = Phase::Declare;
  std::string kvs_;  // serialized metadata entries
  uint64_t n_kv_ = 0;
  std::unordered_set<std::string> keys_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  uint64_t data_size_ = 0;  // all tensors, padded
  size_t next_ = 0;          // the tensor being written or next to write
  bool in_tensor_ = false;
  uint64_t written_ = 0;     // bytes of tensors_[next_] so far
  uint64_t pos_ = 0;         // bytes written to the file
};

}  // namespace dsinfer
