// Odd files and odd numbers through the CLI (issue 16): inputs that are not regular files are
// refused at once (a FIFO with no writer, /dev/zero, a directory), thread counts the machine
// cannot run are clamped, numeric flags are range-checked, usage errors are one line naming
// dsinfer. Runs that used to hang are bounded by a timeout, so they fail instead of hanging.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace dsinfer {
namespace {

namespace fs = std::filesystem;

std::string demo() { return std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf"; }
std::string tokenizer_dir() { return test::fixture("tokenizer-deepseek-v3"); }
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The error contract: exit 1, one line "dsinfer: error: ..." mentioning `part`.
void expect_error(const test::CommandResult& r, const std::string& part) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("dsinfer: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_TRUE(has(r.err, part)) << "expected '" << part << "' in: " << r.err;
}

// Files named like AtomicFile's temporaries in `dir`.
int temporaries(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += has(e.path().filename().string(), ".tmp.");
  return n;
}

std::string make_fifo(const test::TempDir& d, const char* name = "fifo") {
  const std::string p = d.file(name);
  EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0);
  return p;
}

TEST(Threads, CountsBeyondTheMachineAreClampedNotACrash) {
  // libgomp crashed (SIGSEGV in GOMP_parallel) at 65536 and up, and gave up at 40000.
  for (const char* t : {"40000", "65536", "100000"}) {
    const auto r = test::run_dsinfer_within("run " + demo() + " -p 'And God said' -n 2 --temp 0 --quiet -t " + t, 120);
    EXPECT_EQ(r.exit_code, 0) << "-t " << t << ": " << r.err;
    EXPECT_TRUE(has(r.err, std::string("--threads ") + t + " is more than 4 x the")) << r.err;
  }
  test::TempDir d;
  const auto l = test::run_dsinfer_within("logits " + test::fixture("tiny-v3-fp8") + " --tokens 0,5,7 -t 70000 --out " +
                                              d.file("l.npy"),
                                          120);
  EXPECT_EQ(l.exit_code, 0) << l.err;
  EXPECT_TRUE(fs::exists(d.file("l.npy")));
  EXPECT_EQ(temporaries(d.path()), 0);
  expect_error(test::run_dsinfer("run " + demo() + " -p x -t -1"), "--threads");
}

TEST(Threads, QuantizeClampsAndRefusesNegative) {
  test::TempDir d;
  const auto q = test::run_dsinfer_within(
      "quantize " + test::fixture("tiny-v2lite-bf16") + " -o " + d.file("q.gguf") + " --quiet --type q8_0 --threads 100000", 300);
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_TRUE(fs::exists(d.file("q.gguf")));
  EXPECT_EQ(temporaries(d.path()), 0);
  const auto n = test::run_dsinfer("quantize " + test::fixture("tiny-v2lite-bf16") + " -o " + d.file("n.gguf") +
                                   " --quiet --threads -1");
  expect_error(n, "--threads");
  EXPECT_FALSE(fs::exists(d.file("n.gguf")));
}

TEST(Usage, ErrorsAreOneLineNamingTheCommand) {
  const auto r = test::run_dsinfer("run " + demo() + " -p x --no-such-flag");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("dsinfer run: usage error: ", 0), 0u) << r.err;
  EXPECT_TRUE(has(r.err, "--no-such-flag")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const auto none = test::run_dsinfer("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err.rfind("dsinfer: usage error: ", 0), 0u) << none.err;
  EXPECT_EQ(std::count(none.err.begin(), none.err.end(), '\n'), 1) << none.err;
  EXPECT_EQ(test::run_dsinfer("run --help").exit_code, 0);
}

TEST(Flags, NumbersOutOfRangeAreRefusedNamingTheFlag) {
  const std::string run = "run " + demo() + " -p x -n 2 ";
  expect_error(test::run_dsinfer(run + "--temp -1"), "--temp");
  expect_error(test::run_dsinfer(run + "--seed -2"), "--seed");
  expect_error(test::run_dsinfer("run " + demo() + " --tokens '' -n 2"), "--tokens");
  // Did not fit 64 bits, and became 2^63 - 1 silently; nan, inf, octal-looking numbers likewise.
  for (const char* bad : {"--seed 99999999999999999999999", "--temp nan", "--top-p inf", "-n 0x10"}) {
    const auto r = test::run_dsinfer(run + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_TRUE(has(r.err, std::string(bad).substr(0, std::string(bad).find(' ')))) << r.err;
  }
  test::TempDir d;
  const auto l = test::run_dsinfer("logits " + demo() + " --tokens 0,5,7 --decode 100000 --out " + d.file("l.npy"));
  expect_error(l, "--decode");
  EXPECT_TRUE(has(l.err, "context of 1024")) << l.err;
  EXPECT_TRUE(fs::is_empty(d.path()));
}

TEST(Inputs, FifoIsRefusedNotWaitedFor) {
  test::TempDir d;
  const std::string fifo = make_fifo(d);
  const std::string kind = "not a regular file (a FIFO)";
  expect_error(test::run_dsinfer_within("run " + fifo + " -p x", 30), kind);
  expect_error(test::run_dsinfer_within("inspect " + fifo, 30), kind);
  expect_error(test::run_dsinfer_within("tokenize " + fifo + " --text hi", 30), kind);
  expect_error(test::run_dsinfer_within("tokenize " + tokenizer_dir() + " --file " + fifo, 30), kind);
  expect_error(test::run_dsinfer_within("run " + demo() + " -n 1 -f " + fifo, 30), kind);
  expect_error(test::run_dsinfer_within("perplexity " + demo() + " -f " + fifo, 30), kind);
  expect_error(test::run_dsinfer_within("batch " + demo() + " --in " + fifo + " --out " + d.file("o.jsonl"), 30), kind);
}

TEST(Inputs, DevicesAndDirectoriesAreRefused) {
  expect_error(test::run_dsinfer_within("tokenize " + tokenizer_dir() + " --file /dev/zero", 30),
               "not a regular file (a character device)");
  expect_error(test::run_dsinfer_within("run /dev/zero -p x", 30), "not a regular file (a character device)");
  expect_error(test::run_dsinfer_within("tokenize /dev/zero --text hi", 30), "(a character device)");
  test::TempDir d;
  expect_error(test::run_dsinfer("tokenize " + tokenizer_dir() + " --file " + d.path()), "is a directory");
  // A stream still works where one makes sense: stdin, by "-", bounded.
  const auto a = test::run_dsinfer_with_input("tokenize " + tokenizer_dir() + " --file -", "Hello, world");
  const auto b = test::run_dsinfer("tokenize " + tokenizer_dir() + " --text 'Hello, world'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
}

TEST(Outputs, AnExistingNonFileIsNotReplaced) {
  // The temporary is renamed over the target: over a FIFO (or, as root, over /dev/null) that
  // would replace it with a regular file.
  test::TempDir d;
  const std::string fifo = make_fifo(d, "out");
  expect_error(test::run_dsinfer("logits " + test::fixture("tiny-v3-fp8") + " --tokens 0,5 --out " + fifo),
               "exists and is not a regular file (a FIFO)");
  struct stat st {};
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(temporaries(d.path()), 0);
}

TEST(Batch, OutputMustBeARegularFileOfItsOwn) {
  test::TempDir d;
  const std::string in = d.file("in.jsonl");
  test::write_file(in, "{\"id\": 1, \"prompt\": \"And God said\"}\n");
  // /dev/full reads as endless zeros: the journal's reading spun forever.
  expect_error(test::run_dsinfer_within("batch " + demo() + " -n 2 --in " + in + " --out /dev/full", 30),
               "not a regular file (a character device)");
  // The prompts passed as results ("resuming, nothing to do"), also through a symlink.
  expect_error(test::run_dsinfer("batch " + demo() + " -n 2 --in " + in + " --out " + in), "same file as --in");
  fs::create_symlink(in, d.file("link.jsonl"));
  expect_error(test::run_dsinfer("batch " + demo() + " -n 2 --in " + in + " --out " + d.file("link.jsonl")),
               "same file as --in");
  EXPECT_EQ(test::read_file(in), "{\"id\": 1, \"prompt\": \"And God said\"}\n");
}

TEST(Batch, ARecordsBadNumbersAreItsErrorLineAndTheRunGoesOn) {
  test::TempDir d;
  test::write_file(d.file("in.jsonl"),
                   "{\"id\": 1, \"prompt\": \"And God said\", \"max_tokens\": 2000}\n"
                   "{\"id\": 2, \"prompt\": \"And God said\", \"max_tokens\": 1e19}\n"
                   "{\"id\": 3, \"prompt\": \"And God said\", \"max_tokens\": 2.5}\n"
                   "{\"id\": 4, \"prompt\": \"And God said\", \"max_tokens\": 4}\n"
                   "{\"id\": 5, \"prompt\": \"And God said\", \"temperature\": -1}\n"
                   "{\"id\": 6, \"prompt\": \"And God said\", \"seed\": -3}\n"
                   "{\"id\": 7, \"prompt\": \"And God said\", \"top_k\": 1e300}\n"
                   "{\"id\": 8, \"prompt\": \"And God said\", \"max_tokens\": 3.0, \"seed\": 18446744073709551615}\n");
  const auto r = test::run_dsinfer("batch " + demo() + " --in " + d.file("in.jsonl") + " --out " + d.file("out.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<int, nlohmann::json> by_id;
  std::istringstream out(test::read_file(d.file("out.jsonl")));
  for (std::string line; std::getline(out, line);) {
    const auto j = nlohmann::json::parse(line);
    by_id[j["id"].get<int>()] = j;
  }
  ASSERT_EQ(by_id.size(), 8u);
  const std::map<int, std::string> field = {{1, "\"max_tokens\": 2000 does not fit"}, {2, "\"max_tokens\""},
                                            {3, "\"max_tokens\""}, {5, "\"temperature\""},
                                            {6, "\"seed\""}, {7, "\"top_k\""}};
  for (const auto& [id, part] : field) {
    const auto& j = by_id[id];
    ASSERT_TRUE(j.contains("error")) << j.dump();
    const std::string e = j["error"].get<std::string>();
    EXPECT_EQ(e.rfind("line " + std::to_string(id) + ": ", 0), 0u) << e;
    EXPECT_TRUE(has(e, part)) << e;
  }
  EXPECT_TRUE(has(by_id[1]["error"].get<std::string>(), "context holds 1024")) << by_id[1].dump();  // the model's, not 4096
  EXPECT_TRUE(has(by_id[3]["error"].get<std::string>(), "whole number")) << by_id[3].dump();
  for (int id : {4, 8}) {
    ASSERT_TRUE(by_id[id].contains("text")) << by_id[id].dump();
    EXPECT_LE(by_id[id]["completion_tokens"].get<int>(), id == 4 ? 4 : 3);
  }
  EXPECT_EQ(by_id[8]["completion_tokens"].get<int>() > 0, true);
}

TEST(Context, LargerThanTheModelsIsRefused) {
  test::TempDir d;
  test::write_file(d.file("in.jsonl"), "{\"id\": 1, \"prompt\": \"And God said\"}\n");
  const auto b =
      test::run_dsinfer("batch " + demo() + " --ctx 4096 --in " + d.file("in.jsonl") + " --out " + d.file("out.jsonl"));
  expect_error(b, "--ctx: 4096 is more than the model's context of 1024");
  const auto c = test::run_dsinfer_with_input("chat " + demo() + " --chat-format deepseek-v3 --ctx 4096", "hi\n");
  expect_error(c, "--ctx: 4096 is more than the model's context of 1024");
}

TEST(Chat, ContextFullSaysWhatHelps) {
  test::TempDir d;
  std::string long_line;
  for (int i = 0; i < 40; ++i) long_line += "and the earth was without form ";
  const std::string chat = "chat " + demo() + " --chat-format deepseek-v3 -n 4 --ctx 64 --history " + d.file("h") + " ";
  const auto plain = test::run_dsinfer_with_input(chat, long_line + "\n");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_TRUE(has(plain.err, "restart with --drop-oldest")) << plain.err;
  const auto dropping = test::run_dsinfer_with_input(chat + "--drop-oldest", long_line + "\n");
  ASSERT_EQ(dropping.exit_code, 0) << dropping.err;
  EXPECT_FALSE(has(dropping.err, "--drop-oldest")) << dropping.err;  // it is already set
  EXPECT_TRUE(has(dropping.err, "even with the older turns dropped")) << dropping.err;
}

}  // namespace
}  // namespace dsinfer
