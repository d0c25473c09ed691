// run, chat and batch end to end through the binary, on the bundled demo model.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#if __has_include(<pty.h>)
#include <pty.h>
#else
#include <util.h>  // forkpty on macOS and the BSDs
#endif
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/test_support.h"

namespace dsinfer {
namespace {

using json = nlohmann::json;

std::string demo() { return std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf"; }

TEST(Run, SameSeedSameTextOtherSeedOtherText) {
  const std::string base = "run " + demo() + " -p 'And God said' -n 24 --temp 0.9 --quiet ";
  auto a = test::run_dsinfer(base + "--seed 11"), b = test::run_dsinfer(base + "--seed 11"),
       c = test::run_dsinfer(base + "--seed 12");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_GT(a.out.size(), 20u);
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_EQ(a.err, "");  // --quiet
}

TEST(Run, GreedyFromStdinAndStopString) {
  auto g = test::run_dsinfer_with_input("run " + demo() + " -n 32 --temp 0", "And God said");
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.err.find("finish length"), std::string::npos) << g.err;
  // Stop at the first word the greedy text contains after its first character.
  const std::string text = g.out.substr(0, g.out.size() - 1);
  const size_t sp = text.find(' ', 2);
  ASSERT_NE(sp, std::string::npos) << text;
  const std::string stop = text.substr(sp, 3);
  auto s = test::run_dsinfer_with_input("run " + demo() + " -n 32 --temp 0 --stop '" + stop + "'", "And God said");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, text.substr(0, sp) + "\n");
  EXPECT_NE(s.err.find("finish stop"), std::string::npos) << s.err;
}

// --spec mtp through the binary: greedy text identical to --spec none, --stats reports the
// acceptance; flags that cannot run are one-line errors naming the flag.
TEST(Run, SpeculationSameTextAndItsErrors) {
  const std::string base = "run " + demo() + " -p 'And God said' -n 40 --temp 0 ";
  auto plain = test::run_dsinfer(base + "--quiet"), spec = test::run_dsinfer(base + "--spec mtp --draft-max 3 --stats");
  ASSERT_EQ(spec.exit_code, 0) << spec.err;
  EXPECT_EQ(plain.out, spec.out);
  EXPECT_NE(spec.err.find("acceptance by position"), std::string::npos) << spec.err;
  for (const std::string& bad : {std::string("--spec mtp --draft-max 0"), std::string("--spec mtp --draft-max 8"),
                                 std::string("--spec eagle")}) {
    auto r = test::run_dsinfer(base + bad);
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE(r.err.find(bad.find("eagle") != std::string::npos ? "--spec" : "--draft-max"), std::string::npos) << r.err;
  }
  auto r = test::run_dsinfer("run " + test::fixture("tiny-v2lite-bf16") + " --tokens 1,2,3 -n 2 --spec mtp");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--spec: mtp needs an MTP module"), std::string::npos) << r.err;
  // auto: speculates where the model has a module and it pays, else decodes plainly.
  const std::string longer = "run " + demo() + " -p 'And God said' -n 120 --temp 0 ";
  auto a = test::run_dsinfer(longer + "--spec auto --stats");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(test::run_dsinfer(longer + "--quiet").out, a.out);
  EXPECT_NE(a.err.find("plain steps"), std::string::npos) << a.err;  // the demo's drafts pause
  for (const char* extra : {"", " --draft-vocab 64"}) {  // auto's flags are moot there, not an error
    r = test::run_dsinfer("run " + test::fixture("tiny-v2lite-bf16") + " --tokens 1,2,3 -n 2 --spec auto --stats" +
                          extra);
    EXPECT_EQ(r.exit_code, 0) << extra << ": " << r.err;
    EXPECT_EQ(r.err.find("speculation"), std::string::npos) << r.err;
  }
}

TEST(Run, ExitCodes) {
  EXPECT_EQ(test::run_dsinfer("run /nonexistent.gguf -p x").exit_code, 1);
  EXPECT_EQ(test::run_dsinfer("run " + demo() + " -p x --no-such-flag").exit_code, 2);
  auto r = test::run_dsinfer("run " + demo() + " -p x --top-p 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--top-p"), std::string::npos) << r.err;
  EXPECT_EQ(test::run_dsinfer("run " + demo() + " -p x --system hi").exit_code, 1);  // --system needs --chat
}

// The status line after each reply: "[N tokens, ... | prompt P new, C cached]".
std::vector<std::pair<long, long>> prompt_counts(const std::string& err) {
  std::vector<std::pair<long, long>> v;
  for (size_t p = 0; (p = err.find("| prompt ", p)) != std::string::npos; ++p) {
    long fresh = 0, cached = 0;
    if (std::sscanf(err.c_str() + p, "| prompt %ld new, %ld cached", &fresh, &cached) == 2) v.push_back({fresh, cached});
  }
  return v;
}

TEST(Chat, PipedConversationReusesTheCache) {
  test::TempDir d;
  auto r = test::run_dsinfer_with_input(
      "chat " + demo() + " --chat-format deepseek-v3 -n 12 --temp 0 --history " + d.file("h"),
      "In the beginning\nAnd the earth\n/stats\n/reset\nAnd the earth\n/set temp 0.5\n/save " + d.file("c.json") +
          "\n/bogus\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("\x1b"), std::string::npos);  // no escape codes in a pipe
  const auto counts = prompt_counts(r.err);
  ASSERT_EQ(counts.size(), 3u) << r.err;
  EXPECT_EQ(counts[0].second, 0);
  EXPECT_GT(counts[1].second, counts[0].first / 2);  // the first turn came from the cache
  EXPECT_LT(counts[1].first, counts[0].first + 20);
  EXPECT_EQ(counts[2].second, 0);  // after /reset
  EXPECT_NE(r.err.find("last turn: prompt"), std::string::npos);
  EXPECT_NE(r.err.find("unknown command /bogus"), std::string::npos);
  const json saved = json::parse(test::read_file(d.file("c.json")));
  ASSERT_EQ(saved["messages"].size(), 2u);  // after /reset: one exchange
  EXPECT_EQ(saved["messages"][0]["content"], "And the earth");
}

// Reads from fd into acc until `want` appears at or after `from`, or the timeout passes.
std::string read_until(int fd, const std::string& want, std::string& acc, int timeout_ms = 20000, size_t from = 0) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (acc.find(want, from) == std::string::npos && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    acc.append(buf, size_t(n));
  }
  return acc;
}

TEST(Chat, TerminalSessionWithInterrupt) {
  test::TempDir d;
  int fd = -1;
  const pid_t pid = forkpty(&fd, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("TERM", "dumb", 1);
    setenv("OMP_WAIT_POLICY", "passive", 1);
    const std::string bin = test::dsinfer_bin(), model = demo(), hist = d.file("history");
    // The float32 engine on one thread: the demo model's longest reply (its 1024-token context)
    // then takes over a second, so the Ctrl-C below lands mid-reply even on a loaded machine.
    execl(bin.c_str(), bin.c_str(), "chat", model.c_str(), "--chat-format", "deepseek-v3", "-n", "100000", "--temp",
          "1.0", "--engine", "reference", "-t", "1", "--history", hist.c_str(), (char*)nullptr);
    _exit(127);
  }
  // Type as a person would: a moment after each prompt is up. Input that arrives while libedit
  // is still setting up the terminal for the new line can be lost or mangled (seen under load:
  // the line echoed twice, then a Ctrl-D that never ended the session).
  const auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(300)); };
  std::string out;
  read_until(fd, "> ", out);
  pause();
  ASSERT_NE(out.find("> "), std::string::npos) << out;
  const std::string q = "Let there be light\r";
  ASSERT_EQ(write(fd, q.data(), q.size()), ssize_t(q.size()));
  // Once the reply is streaming, Ctrl-C.
  const size_t before = out.size();
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (out.size() < before + q.size() + 10 && std::chrono::steady_clock::now() < end)
    read_until(fd, "\x01never", out, 5);
  EXPECT_GE(out.size(), before + q.size() + 10) << "no streamed reply: " << out;
  ASSERT_EQ(write(fd, "\x03", 1), 1);
  read_until(fd, "stopped", out);
  const size_t stopped = out.find("stopped");
  ASSERT_NE(stopped, std::string::npos) << out.substr(out.size() > 400 ? out.size() - 400 : 0);
  read_until(fd, "> ", out, 20000, stopped);
  pause();
  const std::string reset = "/reset\r";
  ASSERT_EQ(write(fd, reset.data(), reset.size()), ssize_t(reset.size()));
  read_until(fd, "conversation cleared", out);
  const size_t cleared = out.find("conversation cleared");
  ASSERT_NE(cleared, std::string::npos);
  read_until(fd, "> ", out, 20000, cleared);
  pause();
  // Ctrl-D at an empty prompt. libedit may discard input that arrives while it sets up the
  // terminal for a new line, so an unanswered Ctrl-D is sent again (each one is still a Ctrl-D
  // at an empty prompt).
  int status = 0;
  pid_t w = 0;
  for (int i = 0; i < 200 && (w = waitpid(pid, &status, WNOHANG)) == 0; ++i) {
    if (i % 20 == 0 && write(fd, "\x04", 1) != 1) break;  // the pty is gone: the child has exited
    std::string sink;
    read_until(fd, "\x01never", sink, 50);  // keep the pty drained
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (w == 0) w = waitpid(pid, &status, WNOHANG);
  if (w == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "chat did not exit on Ctrl-D; the terminal showed, at the end:\n"
           << out.substr(out.size() > 600 ? out.size() - 600 : 0);
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(fd);
  // libedit writes a space as \040.
  EXPECT_NE(test::read_file(d.file("history")).find("be\\040light"), std::string::npos);
}

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> v;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "torn or invalid line: " << line;
    if (!j.is_discarded()) v.push_back(j);
  }
  return v;
}

TEST(Batch, BadLinesDuplicatesAndUnicode) {
  test::TempDir d;
  test::write_file(d.file("in.jsonl"),
                   "{\"id\": 1, \"prompt\": \"And God said\", \"max_tokens\": 8}\n"
                   "this is not json\n"
                   "{\"prompt\": \"no id\"}\n"
                   "{\"id\": 2, \"messages\": [{\"role\": \"user\", \"content\": \"Let there be\"}], \"temperature\": 0}\n"
                   "{\"id\": 1, \"prompt\": \"duplicate\"}\n"
                   "{\"id\": \"ü-3\", \"prompt\": \"Und Gott sprach: «Licht» 世界\", \"stop\": [\"\\n\"], \"seed\": 3}\n"
                   "{\"id\": 4, \"prompt\": 5}\n"
                   "\n");
  auto r = test::run_dsinfer("batch " + demo() + " --chat-format deepseek-v3 -n 16 --in " + d.file("in.jsonl") +
                             " --out " + d.file("out.jsonl") + " --parallel 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("already on line 1"), std::string::npos) << r.err;
  std::map<std::string, json> by_id;
  int null_ids = 0;
  for (const json& j : read_jsonl(d.file("out.jsonl"))) {
    if (j["id"].is_null()) {
      ++null_ids;
      EXPECT_TRUE(j.contains("error") && j.contains("line")) << j.dump();
      continue;
    }
    EXPECT_TRUE(by_id.emplace(j["id"].dump(), j).second) << "id twice: " << j["id"].dump();
  }
  EXPECT_EQ(null_ids, 2);
  ASSERT_EQ(by_id.size(), 4u);
  for (const char* id : {"1", "2", "\"ü-3\""}) {
    const json& j = by_id.at(id);
    EXPECT_TRUE(j.contains("text") && j["text"].is_string()) << j.dump();
    EXPECT_GT(j["prompt_tokens"].get<int>(), 0);
    EXPECT_TRUE(j["finish_reason"] == "stop" || j["finish_reason"] == "length");
    EXPECT_TRUE(j.contains("ms"));
  }
  EXPECT_LE(by_id.at("1")["completion_tokens"].get<int>(), 8);
  EXPECT_EQ(by_id.at("\"ü-3\"")["text"].get<std::string>().find('\n'), std::string::npos);
  EXPECT_TRUE(by_id.at("4").contains("error"));
  // A second run finds everything done.
  auto again = test::run_dsinfer("batch " + demo() + " --chat-format deepseek-v3 -n 16 --in " + d.file("in.jsonl") +
                                 " --out " + d.file("out.jsonl"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_jsonl(d.file("out.jsonl")).size(), 6u);
}

TEST(Batch, KilledMidRunThenResumed) {
  test::TempDir d;
  std::string in;
  const int N = 24;
  for (int i = 0; i < N; ++i)
    in += "{\"id\": \"r" + std::to_string(i) + "\", \"prompt\": \"And it came to pass " + std::to_string(i) + "\"}\n";
  test::write_file(d.file("in.jsonl"), in);
  const std::string args = "batch " + demo() + " -n 48 --parallel 4 --in " + d.file("in.jsonl") + " --out " +
                           d.file("out.jsonl");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = "exec " + test::dsinfer_bin() + " " + args + " 2>/dev/null";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  // Kill it once a few records are out, before the end.
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream f(d.file("out.jsonl"));
    const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (std::count(s.begin(), s.end(), '\n') >= 3) break;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  const size_t partial = read_jsonl(d.file("out.jsonl")).size();
  EXPECT_GE(partial, 3u);
  EXPECT_LT(partial, size_t(N)) << "finished before the kill: make the job longer";
  auto r = test::run_dsinfer(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming"), std::string::npos) << r.err;
  std::map<std::string, int> seen;
  for (const json& j : read_jsonl(d.file("out.jsonl"))) {
    ++seen[j["id"].get<std::string>()];
    EXPECT_TRUE(j.contains("text")) << j.dump();
  }
  EXPECT_EQ(seen.size(), size_t(N));
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace dsinfer
