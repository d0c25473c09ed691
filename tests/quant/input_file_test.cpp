// Inputs are regular files, checked without blocking; temporaries go away on a fatal signal.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fcntl.h>
#include <functional>
#include <filesystem>
#include <iterator>

#include "quant/atomic_file.h"
#include "quant/input_file.h"
#include "quant/mapped_file.h"
#include "quant/temp_files.h"
#include "simd/error.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(InputFile, RegularFilesOnlyAndBounded) {
  test::TempDir d;
  test::write_file(d.file("a.txt"), "hello");
  EXPECT_EQ(read_regular_file(d.file("a.txt")), "hello");
  EXPECT_EQ(error_of([&] { read_regular_file(d.file("a.txt"), 4); }).find(d.file("a.txt") + ": is 5 bytes"), 0u);
  ASSERT_EQ(::mkfifo(d.file("fifo").c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] { read_regular_file(d.file("fifo")); }), d.file("fifo") + ": not a regular file (a FIFO)");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // no waiting for a writer
  EXPECT_EQ(error_of([&] { read_regular_file("/dev/zero"); }), "/dev/zero: not a regular file (a character device)");
  EXPECT_EQ(error_of([&] { read_regular_file(d.path()); }), d.path() + ": is a directory, not a file");
  EXPECT_EQ(error_of([&] { read_regular_file(d.file("none")); }), d.file("none") + ": no such file or directory");
  EXPECT_EQ(error_of([&] { MappedFile m(d.file("fifo")); }), d.file("fifo") + ": not a regular file (a FIFO)");
}

TEST(InputFile, StreamsAreBounded) {
  const int fd = ::open("/dev/zero", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(error_of([&] { read_stream(fd, "stdin", 1 << 20); }), "stdin: more than 1 MB of input");
  ::close(fd);
}

TEST(AtomicFile, RefusesToReplaceANonFile) {
  test::TempDir d;
  ASSERT_EQ(::mkfifo(d.file("fifo").c_str(), 0600), 0);
  EXPECT_NE(error_of([&] { AtomicFile f(d.file("fifo")); }).find("exists and is not a regular file (a FIFO)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { AtomicFile f(d.path()); }).find("is a directory"), std::string::npos);
  EXPECT_EQ(std::distance(fs::directory_iterator(d.path()), fs::directory_iterator()), 1);  // only the FIFO
}

// In a child: registers a file, creates it, then `sig` arrives (ignored first, if asked).
int child_with_temp(const std::string& path, int sig, bool ignore_first) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (ignore_first) ::signal(sig, SIG_IGN);
    TempFileRegistration reg(path);
    test::write_file(path, "partial");
    ::raise(sig);
    _exit(7);  // only reached when the signal is ignored
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(TempFiles, AFatalSignalRemovesThemAndStillEndsTheProcess) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGABRT, SIGUSR1}) {
    test::TempDir d;
    const int status = child_with_temp(d.file("x.tmp.1"), sig, false);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << sig << ": " << status;
    EXPECT_FALSE(fs::exists(d.file("x.tmp.1"))) << sig;
  }
  // A signal the process ignores (nohup's SIGHUP) is left ignored.
  test::TempDir d;
  const int status = child_with_temp(d.file("x.tmp.2"), SIGHUP, true);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
  EXPECT_TRUE(fs::exists(d.file("x.tmp.2")));
}

}  // namespace
}  // namespace dsinfer
