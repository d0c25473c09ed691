// Crash safety of every output (issue 16): quantize, logits and batch, sent SIGINT, SIGTERM or
// SIGHUP mid-run, leave no temporary file; they die by that signal (the exit status tells);
// batch's results stay whole lines and a second run completes them.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/test_support.h"

namespace dsinfer {
namespace {

namespace fs = std::filesystem;

std::string demo() { return std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf"; }

// Starts dsinfer with `args`, output discarded, every signal at its default action.
pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null = ::open("/dev/null", O_RDWR);
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    ::setenv("OMP_WAIT_POLICY", "passive", 1);
    const std::string bin = test::dsinfer_bin();
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

bool wait_for(const std::function<bool()>& ready, int seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

int count_files(const std::string& dir, const std::string& part) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().find(part) != std::string::npos;
  return n;
}

// Sends `sig` once a temporary is there; checks the process died by it and left nothing.
void interrupt_when_writing(const std::vector<std::string>& args, const test::TempDir& out, int sig) {
  const pid_t pid = spawn(args);
  ASSERT_GT(pid, 0);
  const bool writing = wait_for([&] { return count_files(out.path(), ".tmp.") > 0; }, 60);
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(writing) << "no temporary appeared";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
      << "expected death by signal " << sig << ", status " << status << " (finished before the signal?)";
  EXPECT_TRUE(fs::is_empty(out.path())) << "left behind: " << fs::directory_iterator(out.path())->path();
}

class Signals : public ::testing::TestWithParam<int> {};

TEST_P(Signals, LogitsLeavesNoTemporary) {
  test::TempDir out;
  // The float32 engine on one thread through 1000 positions: seconds of work after the outputs open.
  interrupt_when_writing({"logits", demo(), "--engine", "reference", "-t", "1", "--tokens", "0,5,7", "--decode",
                          "1000", "--out", out.file("l.npy"), "--router-out", out.file("r.json")},
                         out, GetParam());
}

TEST_P(Signals, QuantizeLeavesNoTemporary) {
  test::TempDir out;
  interrupt_when_writing({"quantize", test::fixture("tiny-v3-fp8"), "-o", out.file("q.gguf"), "--type", "q4_0",
                          "--tokenizer", test::fixture("tokenizer-deepseek-v3"), "--threads", "1", "--quiet"},
                         out, GetParam());
}

TEST_P(Signals, BatchKeepsWholeLinesAndResumes) {
  test::TempDir d;
  std::string in;
  const int N = 16;
  for (int i = 0; i < N; ++i) in += "{\"id\": " + std::to_string(i) + ", \"prompt\": \"And it came to pass\"}\n";
  test::write_file(d.file("in.jsonl"), in);
  const std::vector<std::string> args = {"batch", demo(), "-n", "64", "-t", "1", "--in", d.file("in.jsonl"), "--out",
                                         d.file("out.jsonl")};
  const pid_t pid = spawn(args);
  ASSERT_GT(pid, 0);
  const bool started = wait_for([&] { return fs::exists(d.file("out.jsonl")) && fs::file_size(d.file("out.jsonl")) > 0; }, 60);
  kill(pid, GetParam());
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(started);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == GetParam()) << status;
  EXPECT_EQ(count_files(d.path(), ""), 2) << "only the input and the results";
  std::ifstream f(d.file("out.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(f, line); ++lines)
    EXPECT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded()) << line;
  EXPECT_LT(lines, N);
  std::string cmd = "batch " + demo() + " -n 64 --in " + d.file("in.jsonl") + " --out " + d.file("out.jsonl");
  const auto again = test::run_dsinfer(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  std::ifstream g(d.file("out.jsonl"));
  lines = 0;
  for (std::string line; std::getline(g, line);) ++lines;
  EXPECT_EQ(lines, N);
}

INSTANTIATE_TEST_SUITE_P(Each, Signals, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const auto& info) {
                           return std::string(info.param == SIGINT ? "INT" : info.param == SIGTERM ? "TERM" : "HUP");
                         });

}  // namespace
}  // namespace dsinfer
