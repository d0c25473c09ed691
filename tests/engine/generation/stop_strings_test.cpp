// Stop strings across token boundaries.
#include <gtest/gtest.h>

#include "engine/generation/stop_strings.h"

namespace dsinfer {
namespace {

TEST(StopStrings, MatchesAcrossPiecesAndDropsTheRest) {
  StopStrings s({"\n\nUser:"});
  std::string out = s.push("Hello");
  out += s.push(" world\n");
  EXPECT_EQ(out, "Hello world");  // the newline could start the stop string: held
  out += s.push("\nUs");
  EXPECT_FALSE(s.stopped());
  out += s.push("er: more");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(out, "Hello world");
  EXPECT_EQ(s.push("ignored"), "");
  EXPECT_EQ(s.flush(), "");
}

TEST(StopStrings, ReleasesHeldTextWhenTheMatchFails) {
  StopStrings s({"STOP"});
  std::string out = s.push("ab ST");
  EXPECT_EQ(out, "ab ");
  out += s.push("ART");
  EXPECT_EQ(out, "ab START");
  out += s.push("ST");
  out += s.flush();
  EXPECT_EQ(out, "ab STARTST");
  EXPECT_FALSE(s.stopped());
}

TEST(StopStrings, EarliestOfSeveralAndUtf8) {
  StopStrings s({"世界", "xyz"});
  std::string out = s.push("你好世");
  EXPECT_EQ(out, "你好");
  out += s.push("界!xyz");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(out, "你好");
}

TEST(StopStrings, NoStopsPassEverything) {
  StopStrings s;
  EXPECT_EQ(s.push("abc"), "abc");
  EXPECT_EQ(s.flush(), "");
}

}  // namespace
}  // namespace dsinfer
