// An output file that appears under its final name only when complete.
// Writes go to "<path>.tmp.<pid>"; commit() flushes, fsyncs and renames; destruction
// without commit() removes the temporary, so a failure never leaves a partial file, and a
// fatal signal removes it too (quant/temp_files.h). An existing target that is not a regular
// file (a device, a FIFO, a directory) is refused: the rename would replace it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "quant/temp_files.h"

namespace dsinfer {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // throws Error naming the file
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  // Flushes what was written, so the temporary can be read by name (temp_path()).
  void flush();
  // Overwrites n bytes at `offset` of what was written (flushed first).
  void patch(uint64_t offset, const void* data, size_t n);
  void commit();
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }

 private:
  std::string path_, tmp_;
  TempFileRegistration registration_;  // before f_: registered before the file exists
  std::FILE* f_ = nullptr;
};

}  // namespace dsinfer
