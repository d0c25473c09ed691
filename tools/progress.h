// Progress of a long job on stderr: a redrawn bar with bytes, rate and ETA on a terminal,
// plain periodic lines otherwise (logs, pipes).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace dsinfer::cli {

class Progress {
 public:
  Progress(std::string what, uint64_t total_bytes, bool enabled = true);
  ~Progress();
  void add(uint64_t bytes);
  void finish();  // the final line

 private:
  void draw(bool final);
  std::string what_;
  uint64_t total_, done_ = 0;
  bool enabled_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_decile_ = -1;
};

std::string format_bytes(double bytes);    // "1.23 GB"
std::string format_seconds(double s);      // "1:02:03" / "4:05"

}  // namespace dsinfer::cli
