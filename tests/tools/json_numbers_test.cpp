// Numbers from user JSON: whole numbers where one is needed, no conversion out of range.
#include <gtest/gtest.h>

#include <functional>

#include "simd/error.h"
#include "tools/json_numbers.h"

namespace dsinfer::cli {
namespace {

using json = nlohmann::json;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonNumbers, WholeNumbersOnlyAndInRange) {
  EXPECT_EQ(json_whole(json::parse("8"), 1, 100, "x"), 8);
  EXPECT_EQ(json_whole(json::parse("8.0"), 1, 100, "x"), 8);
  for (const char* bad : {"2.5", "1e19", "-1", "0", "101", "1e300", "-1e300", "18446744073709551615", "\"8\"", "true", "null"})
    EXPECT_NE(error_of([&] { json_whole(json::parse(bad), 1, 100, "\"max_tokens\""); }).find("\"max_tokens\": "), std::string::npos)
        << bad;
  EXPECT_EQ(json_seed(json::parse("18446744073709551615"), "s"), 18446744073709551615ull);
  EXPECT_EQ(json_seed(json::parse("3.0"), "s"), 3u);
  for (const char* bad : {"-3", "1.5", "1e20", "-0.5"}) EXPECT_NE(error_of([&] { json_seed(json::parse(bad), "s"); }), "") << bad;
  EXPECT_FLOAT_EQ(json_float(json::parse("0.5"), "f"), 0.5f);
  EXPECT_NE(error_of([] { json_float(json::parse("1e300"), "f"); }), "");
}

TEST(JsonNumbers, SamplingFieldsAreRangeCheckedUnderTheirOwnName) {
  SamplingParams p;
  EXPECT_TRUE(set_sampling_field(p, "temperature", json(0.0), "\"temperature\""));
  EXPECT_EQ(p.temperature, 0.0f);
  EXPECT_FALSE(set_sampling_field(p, "max_tokens", json(3), "x"));
  const std::string e = error_of([&] { set_sampling_field(p, "temperature", json(-1), "\"temperature\""); });
  EXPECT_EQ(e.rfind("\"temperature\": ", 0), 0u) << e;
  EXPECT_EQ(error_of([&] { set_sampling_field(p, "top_p", json(0), "\"top_p\""); }).rfind("\"top_p\": ", 0), 0u);
  EXPECT_NE(error_of([&] { set_sampling_field(p, "top_k", json(1e300), "\"top_k\""); }), "");
  EXPECT_NE(error_of([&] { set_sampling_field(p, "repeat_last_n", json(-1), "r"); }), "");
}

}  // namespace
}  // namespace dsinfer::cli
