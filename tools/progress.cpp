#include "tools/progress.h"

#include <unistd.h>

#include <cstdio>

namespace dsinfer::cli {

std::string format_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000.0 && u < 4) {
    b /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", b, units[u]);
  return buf;
}

std::string format_seconds(double s) {
  if (s < 0 || s > 1e7) return "?";
  const long t = long(s + 0.5), h = t / 3600, m = (t / 60) % 60, sec = t % 60;
  char buf[32];
  if (h) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", h, m, sec);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", m, sec);
  return buf;
}

Progress::Progress(std::string what, uint64_t total, bool enabled)
    : what_(std::move(what)), total_(total), enabled_(enabled), tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  if (enabled_ && tty_ && !finished_) std::fputs("\n", stderr);  // leave the interrupted bar readable
}

void Progress::add(uint64_t bytes) {
  done_ += bytes;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ >= std::chrono::milliseconds(100)) draw(false);
  } else {
    const int decile = total_ ? int(10 * done_ / total_) : 10;
    if (decile != last_decile_ || now - last_draw_ >= std::chrono::seconds(30)) {
      last_decile_ = decile;
      draw(false);
    }
  }
}

void Progress::finish() {
  if (finished_) return;
  if (enabled_) draw(true);
  finished_ = true;
}

void Progress::draw(bool final) {
  const auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? double(done_) / secs : 0;
  const double frac = total_ ? double(done_) / double(total_) : 1.0;
  const double eta = rate > 0 ? double(total_ - std::min(done_, total_)) / rate : -1;
  std::string line = what_ + " " + format_bytes(double(done_)) + " / " + format_bytes(double(total_)) + "  " +
                     format_bytes(rate) + "/s";
  line += final ? "  in " + format_seconds(secs) : "  ETA " + format_seconds(eta);
  if (tty_) {
    const int width = 30, filled = int(frac * width + 0.5);
    std::string bar = "[" + std::string(size_t(filled), '#') + std::string(size_t(width - filled), ' ') + "]";
    std::fprintf(stderr, "\r\033[K%s %3.0f%% %s%s", bar.c_str(), frac * 100, line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%3.0f%% %s\n", frac * 100, line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace dsinfer::cli
