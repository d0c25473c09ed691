// One batch input line at a time: what becomes a job, and the error line of a bad record.
#include <gtest/gtest.h>

#include "engine/tokenizer/tokenizer_json.h"
#include "simd/error.h"
#include "tests/test_support.h"
#include "tools/batch/batch_record.h"

namespace dsinfer::cli {
namespace {

using json = nlohmann::json;

class BatchRecord : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { tok_ = open_tokenizer(test::fixture("tokenizer-deepseek-v3")).release(); }
  static void TearDownTestSuite() { delete tok_; }

  BatchJob parse(const std::string& line, int64_t context = 64) const {
    const BatchLine bl = read_batch_line(line, 7);
    EXPECT_TRUE(bl.object) << line;
    BatchSettings s;
    s.context = context;
    s.n_predict = 256;
    return parse_batch_record(*bl.object, 7, s, *tok_, ChatFormat::DeepSeekV3);
  }
  std::string error(const std::string& line, int64_t context = 64) const {
    try {
      parse(line, context);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  static Tokenizer* tok_;
};
Tokenizer* BatchRecord::tok_ = nullptr;

TEST_F(BatchRecord, LinesWithoutAUsableIdAreAnsweredByLine) {
  EXPECT_EQ(read_batch_line("not json", 3).error, "line 3: not valid JSON");
  EXPECT_EQ(read_batch_line("[1]", 3).error, "line 3: not a JSON object");
  EXPECT_EQ(read_batch_line("{\"id\": [1], \"prompt\": \"x\"}", 3).rec, json({{"id", nullptr}, {"line", 3}}));
  const BatchLine ok = read_batch_line("{\"id\": \"a\", \"prompt\": \"x\"}", 3);
  EXPECT_TRUE(ok.object);
  EXPECT_EQ(ok.rec, json({{"id", "a"}}));
}

TEST_F(BatchRecord, DefaultsAreCutToTheContextExplicitLengthsAreNot) {
  const BatchJob j = parse("{\"id\": 1, \"prompt\": \"Hello\"}");
  EXPECT_EQ(j.max_tokens, 64 - int64_t(j.prompt.size()));  // -n 256, cut to what fits
  EXPECT_EQ(parse("{\"id\": 1, \"prompt\": \"Hello\", \"max_tokens\": 5.0}").max_tokens, 5);
  const std::string e = error("{\"id\": 1, \"prompt\": \"Hello\", \"max_tokens\": 2000}");
  EXPECT_EQ(e.rfind("\"max_tokens\": 2000 does not fit", 0), 0u) << e;
  EXPECT_NE(error("{\"id\": 1, \"prompt\": \"Hello world and more\"}", 4).find("context holds 4"), std::string::npos);
}

TEST_F(BatchRecord, EveryNumberIsCheckedUnderItsFieldName) {
  const std::pair<const char*, const char*> cases[] = {
      {"\"max_tokens\": 1e19", "\"max_tokens\""}, {"\"max_tokens\": 2.5", "\"max_tokens\""},
      {"\"max_tokens\": \"8\"", "\"max_tokens\""}, {"\"temperature\": -1", "\"temperature\""},
      {"\"temperature\": 1e300", "\"temperature\""}, {"\"top_p\": 1.5", "\"top_p\""},
      {"\"top_k\": -1", "\"top_k\""}, {"\"top_k\": 2.5", "\"top_k\""}, {"\"min_p\": 1", "\"min_p\""},
      {"\"seed\": -1", "\"seed\""}, {"\"seed\": 1e30", "\"seed\""}, {"\"stop\": 3", "\"stop\""},
      {"\"stop\": [\"a\", 1]", "\"stop\""}};
  for (const auto& [field, name] : cases) {
    const std::string e = error(std::string("{\"id\": 1, \"prompt\": \"Hi\", ") + field + "}");
    EXPECT_EQ(e.rfind(std::string(name) + ": ", 0), 0u) << field << " -> " << e;
  }
  const BatchJob j = parse("{\"id\": 1, \"prompt\": \"Hi\", \"seed\": 18446744073709551615, \"top_k\": 5, \"stop\": \"x\"}");
  EXPECT_EQ(j.params.seed, 18446744073709551615ull);
  EXPECT_EQ(j.params.top_k, 5);
  EXPECT_EQ(j.stop, std::vector<std::string>{"x"});
  EXPECT_NE(error("{\"id\": 1}"), "");
  EXPECT_NE(error("{\"id\": 1, \"prompt\": \"a\", \"messages\": []}"), "");
  EXPECT_NE(error("{\"id\": 1, \"messages\": [{\"role\": \"user\"}]}"), "");
  EXPECT_GT(parse("{\"id\": 1, \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"prompt\": null}").prompt.size(), 2u);
}

}  // namespace
}  // namespace dsinfer::cli
