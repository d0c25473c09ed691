#include "tools/batch/results_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "quant/input_file.h"
#include "simd/error.h"

namespace dsinfer::cli {

std::string id_key(const nlohmann::json& record) {
  const nlohmann::json& id = record["id"];
  if (id.is_null() && record.contains("line")) return "line:" + record["line"].dump();
  return id.dump();
}

ResultsJournal::ResultsJournal(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
  if (fd_ < 0) fail(path, std::string("cannot open for appending: ") + std::strerror(errno));
  // A device (/dev/full reads as endless zeros) or a FIFO is no journal: refuse before reading.
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string kind = file_kind(st.st_mode);
    ::close(fd_);
    fd_ = -1;
    fail(path, "not a regular file (" + kind + "); results go to a regular file");
  }
  // Read what is there; keep only whole lines.
  std::string data;
  char buf[1 << 16];
  for (off_t off = 0;;) {
    const ssize_t n = ::pread(fd_, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    data.append(buf, size_t(n));
    off += n;
  }
  const size_t whole = data.rfind('\n') == std::string::npos ? 0 : data.rfind('\n') + 1;
  if (whole < data.size() && ::ftruncate(fd_, off_t(whole)) != 0)
    fail(path, std::string("cannot cut off a torn last line: ") + std::strerror(errno));
  size_t start = 0;
  while (start < whole) {
    const size_t end = data.find('\n', start);
    const std::string_view line(data.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id"))
      fail(path, "line " + std::string(line.substr(0, 60)) + "... is not a result record; is this the right file?");
    done_.insert(id_key(j));
  }
}

ResultsJournal::~ResultsJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void ResultsJournal::append(const nlohmann::json& record) {
  // ensure_ascii=false keeps UTF-8 as is; invalid UTF-8 in generated text is replaced.
  const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path_, std::string("cannot write: ") + std::strerror(errno));
    off += size_t(n);
  }
#if defined(__APPLE__)  // no fdatasync there; F_FULLFSYNC would be stronger still
  const int synced = ::fsync(fd_);
#else
  const int synced = ::fdatasync(fd_);
#endif
  if (synced != 0) fail(path_, std::string("cannot flush: ") + std::strerror(errno));
  done_.insert(id_key(record));
}

}  // namespace dsinfer::cli
