// Files a user names as input. Only regular files are read: a FIFO blocks until some writer
// appears (or forever), a device such as /dev/zero never ends, a directory is not text. Every
// check opens without blocking, and every read is bounded, so bad input is one error line.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace dsinfer {

// The most a whole-file input (a prompt, a text, a JSON file) may hold.
inline constexpr uint64_t kMaxInputBytes = uint64_t(256) << 20;

// What kind of file a st_mode is, for messages: "a directory", "a FIFO", "a character device", ...
std::string file_kind(mode_t mode);

// An open regular file (RAII). Throws Error "<path>: not a regular file (a FIFO)", "<path>: is a
// directory", or "<path>: cannot open: <reason>".
class RegularFile {
 public:
  explicit RegularFile(const std::string& path);
  ~RegularFile();
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  dev_t device() const { return dev_; }
  ino_t inode() const { return ino_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

// The whole of a regular file of at most max_bytes; throws Error naming the file otherwise.
std::string read_regular_file(const std::string& path, uint64_t max_bytes = kMaxInputBytes);

// Everything readable from fd (a pipe, say) up to max_bytes; more is an Error naming `where`.
std::string read_stream(int fd, const std::string& where, uint64_t max_bytes = kMaxInputBytes);

// A text input: "-" is stdin (read as a bounded stream), anything else a regular file.
std::string read_text_input(const std::string& path, uint64_t max_bytes = kMaxInputBytes);

// Throws Error naming the file when `path` exists and is not a regular file (an output that
// would replace or write into a device, a FIFO or a directory). A missing path is fine.
void check_output_path(const std::string& path);

}  // namespace dsinfer
