#include "quant/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "simd/error.h"

namespace dsinfer {

namespace {

std::string megabytes(uint64_t n) { return std::to_string(n >> 20) + " MB"; }

}  // namespace

std::string file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

RegularFile::RegularFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd_ < 0) {
    const int e = errno;
    if (e == ENOENT) fail(path, "no such file or directory");
    fail(path, std::string("cannot open: ") + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    fail(path, std::string("cannot stat: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not a file");
    fail(path, "not a regular file (" + file_kind(st.st_mode) + ")");
  }
  // Regular files never block; clear the flag so reads behave as usual.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  size_ = uint64_t(st.st_size);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string read_stream(int fd, const std::string& where, uint64_t max_bytes) {
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(where, std::string("read error: ") + std::strerror(errno));
    if (n == 0) return out;
    if (out.size() + size_t(n) > max_bytes) fail(where, "more than " + megabytes(max_bytes) + " of input");
    out.append(buf, size_t(n));
  }
}

std::string read_regular_file(const std::string& path, uint64_t max_bytes) {
  RegularFile f(path);
  if (f.size() > max_bytes)
    fail(path, "is " + std::to_string(f.size()) + " bytes, more than the " + megabytes(max_bytes) + " this input may hold");
  return read_stream(f.fd(), path, max_bytes);  // the file may have grown since the stat
}

std::string read_text_input(const std::string& path, uint64_t max_bytes) {
  if (path == "-") return read_stream(0, "stdin", max_bytes);
  return read_regular_file(path, max_bytes);
}

void check_output_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // missing (or unreachable: creating it will say why)
  if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not a file");
  if (!S_ISREG(st.st_mode)) fail(path, "exists and is not a regular file (" + file_kind(st.st_mode) + ")");
}

}  // namespace dsinfer
