#include "quant/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "quant/input_file.h"
#include "simd/error.h"

namespace dsinfer {

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())), registration_(tmp_) {
  check_output_path(path_);
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail(path_, std::string("cannot create output: ") + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t n) {
  if (!f_) fail(path_, "write after commit");
  if (n && std::fwrite(data, 1, n, f_) != n) fail(path_, std::string("write failed: ") + std::strerror(errno));
}

void AtomicFile::flush() {
  if (!f_) fail(path_, "flush after commit");
  if (std::fflush(f_) != 0) fail(path_, std::string("write failed: ") + std::strerror(errno));
}

void AtomicFile::patch(uint64_t offset, const void* data, size_t n) {
  flush();
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(::fileno(f_), p, n, off_t(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail(path_, std::string("write failed: ") + std::strerror(errno));
    p += w, n -= size_t(w), offset += uint64_t(w);
  }
}

void AtomicFile::commit() {
  if (!f_) fail(path_, "committed twice");
  bool ok = std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0;
  int e = errno;
  ok = (std::fclose(f_) == 0) && ok;
  f_ = nullptr;
  if (!ok) {
    std::remove(tmp_.c_str());
    fail(path_, std::string("write failed: ") + std::strerror(e));
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    e = errno;
    std::remove(tmp_.c_str());
    fail(path_, std::string("cannot rename into place: ") + std::strerror(e));
  }
}

}  // namespace dsinfer
