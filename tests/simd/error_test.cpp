// Every error is one whole line: text quoted from a file cannot end it early or split it.
#include <gtest/gtest.h>

#include "simd/error.h"

namespace dsinfer {
namespace {

TEST(Error, ControlBytesAreEscapedSoTheMessageIsOneWholeLine) {
  const std::string token("ab\0cd\ne\tf\x7f", 10);
  try {
    fail("model.gguf", "merge 3 ('" + token + "') is not two tokens");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "model.gguf: merge 3 ('ab\\x00cd\\ne\\tf\\x7f') is not two tokens");
  }
  EXPECT_EQ(one_line("plain UTF-8: \xc3\xa9"), "plain UTF-8: \xc3\xa9");
}

}  // namespace
}  // namespace dsinfer
