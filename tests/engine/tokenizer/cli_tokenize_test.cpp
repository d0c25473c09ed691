// `dsinfer tokenize` end to end: text to ids, ids to text, chat renderings, and bad input
// reported on one line with exit code 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/engine/tokenizer/tiny_tokenizer.h"
#include "tests/engine/tokenizer/tokenizer_fixture.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

std::string tokenize(const std::string& args) {
  auto r = test::run_dsinfer("tokenize " + test::deepseek_v3_dir() + " " + args);
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
  return r.out;
}

std::vector<int32_t> ids_of(const std::string& out) { return nlohmann::json::parse(out).get<std::vector<int32_t>>(); }

TEST(CliTokenize, TextToIds) {
  EXPECT_EQ(tokenize("--text 'Hello, world!'"), "[19923,14,2058,3]\n");
  EXPECT_EQ(tokenize("--text 'Hello, world!' --bos"), "[0,19923,14,2058,3]\n");
}

TEST(CliTokenize, FileAndNoSpecial) {
  test::TempDir d;
  const auto& g = test::golden_lines()[54];  // "<｜User｜>What is 2+2?<｜Assistant｜>4<｜end▁of▁sentence｜>"
  ASSERT_EQ(g.text.rfind("<｜User｜>", 0), 0u);
  test::write_file(d.file("in.txt"), g.text);
  EXPECT_EQ(ids_of(tokenize("--file " + d.file("in.txt"))), g.ids);
  const std::vector<int32_t> plain = ids_of(tokenize("--no-special --file " + d.file("in.txt")));
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 128803), 0);
  EXPECT_GT(plain.size(), g.ids.size());
}

TEST(CliTokenize, Detok) {
  EXPECT_EQ(tokenize("--detok --text 19923,14,2058,3"), "Hello, world!");
  test::TempDir d;
  test::write_file(d.file("ids.json"), "[128803, 19923, 14, 2058, 3]\n");
  EXPECT_EQ(tokenize("--detok --file " + d.file("ids.json")), "<｜User｜>Hello, world!");
  EXPECT_EQ(tokenize("--detok --no-special --file " + d.file("ids.json")), "Hello, world!");
}

TEST(CliTokenize, ChatFromTemplateAndOverride) {
  const auto& lines = test::golden_lines();
  const auto g = std::find_if(lines.begin(), lines.end(), [](const auto& l) { return l.add_generation_prompt; });
  ASSERT_NE(g, lines.end());
  nlohmann::json msgs = nlohmann::json::array();
  for (const auto& m : g->chat) msgs.push_back({{"role", m.role}, {"content", m.content}});
  test::TempDir d;
  test::write_file(d.file("chat.json"), msgs.dump());
  EXPECT_EQ(ids_of(tokenize("--chat " + d.file("chat.json"))), g->ids);
  EXPECT_EQ(tokenize("--render --chat " + d.file("chat.json")), g->text);
  const std::string v2 = tokenize("--render --chat-format deepseek-v2 --chat " + d.file("chat.json"));
  EXPECT_EQ(
      v2.rfind("<｜begin▁of▁sentence｜>You are a helpful assistant.\n\nUser: Hello! Who are you?\n\nAssistant: ", 0),
      0u)
      << v2;
}

// Failure contract: exit 1, one line "dsinfer: error: ..." naming the input.
std::string failure(const std::string& args, int code = 1) {
  auto r = test::run_dsinfer("tokenize " + args);
  EXPECT_EQ(r.exit_code, code) << args << "\n" << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  if (code == 1) {
    EXPECT_EQ(r.err.rfind("dsinfer: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  return r.err;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Error paths load the small hand-made tokenizer where a tokenizer is needed at all.
struct TinyDir {
  test::TempDir d;
  TinyDir() { test::write_file(d.file("tokenizer.json"), test::tiny_tokenizer_json().dump()); }
};

TEST(CliTokenizeErrors, BadInputs) {
  TinyDir tiny;
  const std::string dir = tiny.d.path();
  EXPECT_TRUE(has(failure("/nonexistent/tok --text hi"), "/nonexistent/tok"));
  EXPECT_TRUE(has(failure(dir + " --detok --text 1,x"), "'x' is not a token id"));
  EXPECT_TRUE(has(failure(dir + " --detok --text 5,300"), "token id 300 is outside the vocabulary (262 tokens)"));
  EXPECT_TRUE(has(failure(dir + " --file /nonexistent/in.txt"), "/nonexistent/in.txt"));
  EXPECT_TRUE(has(failure(dir), "exactly one of --text, --file and --chat"));
  EXPECT_TRUE(has(failure(dir + " --chat-format raw --text hi"), "--chat-format: only applies with --chat"));
  failure(dir + " --text a --file b", 2);  // usage error
}

TEST(CliTokenizeErrors, BadFiles) {
  TinyDir tiny;
  const std::string dir = tiny.d.path();
  test::TempDir d;
  test::write_file(d.file("tokenizer.json"), "{\"model\": {\"vocab\": {}}");
  EXPECT_TRUE(has(failure(d.path() + " --text hi"), d.file("tokenizer.json") + ": not valid JSON"));
  test::write_file(d.file("bad.txt"), "ok\xFF");
  EXPECT_TRUE(has(failure(dir + " --file " + d.file("bad.txt")), d.file("bad.txt") + ": not valid UTF-8 (byte 2)"));
  // A number past double's range is nlohmann's out_of_range, which the message named no file for.
  test::write_file(d.file("chat.json"), "[{\"role\": \"user\", \"content\": \"x\", \"n\": 1E400}]");
  EXPECT_TRUE(has(failure(dir + " --chat " + d.file("chat.json")), d.file("chat.json") + ": not valid JSON"));
  test::write_file(d.file("chat.json"), "[{\"role\": \"user\"}]");
  EXPECT_TRUE(has(failure(dir + " --chat " + d.file("chat.json")), "message 1 needs a string"));
  test::write_file(d.file("chat.json"), "[{\"role\": \"user\", \"content\": \"x\"}]");
  EXPECT_TRUE(
      has(failure(dir + " --chat " + d.file("chat.json") + " --chat-format chatml"), "unknown format 'chatml'"));
  // The tiny tokenizer has no chat template to recognise.
  EXPECT_TRUE(has(failure(dir + " --chat " + d.file("chat.json")), "has no chat template"));
  EXPECT_TRUE(has(failure(dir + " --chat " + d.file("chat.json") + " --chat-format deepseek-v3"), "no EOS token"));
}

}  // namespace
}  // namespace dsinfer
