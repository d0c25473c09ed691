// Temporary files that must not outlive the process, however it ends. While one is registered,
// every signal whose default action ends the process and that can be caught (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, and the crash signals
// SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) first removes every registered file, then ends the
// process as the signal would have: the exit status still names the signal. A signal the
// process ignores (nohup's SIGHUP) or handles itself is left alone.
#pragma once
#include <string>

namespace dsinfer {

// Registers `path` for removal on a fatal signal for as long as it lives (RAII). Register before
// creating the file, so no moment exists where the file is there and unknown to the handler.
class TempFileRegistration {
 public:
  explicit TempFileRegistration(const std::string& path);  // throws Error when the table is full
  ~TempFileRegistration();
  TempFileRegistration(const TempFileRegistration&) = delete;
  TempFileRegistration& operator=(const TempFileRegistration&) = delete;

 private:
  int slot_ = -1;
};

}  // namespace dsinfer
