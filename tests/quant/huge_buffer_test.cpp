// HugeBuffer (quant/huge_buffer.h): whole 2 MiB pages, writable, one owner through moves.
#include "quant/huge_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <utility>

namespace dsinfer {
namespace {

constexpr size_t kMiB = size_t(1) << 20;

TEST(HugeBuffer, RoundsUpToWholeHugePagesAndIsWritable) {
  HugeBuffer b(3 * kMiB);
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(b.size(), 4 * kMiB);
  std::memset(b.data(), 0x5a, b.size());
  EXPECT_EQ(b.data()[b.size() - 1], 0x5a);
}

TEST(HugeBuffer, EmptyHoldsNothing) {
  EXPECT_EQ(HugeBuffer().data(), nullptr);
  EXPECT_EQ(HugeBuffer(0).data(), nullptr);
  EXPECT_EQ(HugeBuffer(0).size(), 0u);
}

TEST(HugeBuffer, MovesLeaveOneOwner) {
  HugeBuffer a(kMiB);
  ASSERT_NE(a.data(), nullptr);
  a.data()[7] = 42;
  uint8_t* const p = a.data();
  HugeBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.data()[7], 42);
  HugeBuffer c(kMiB);
  c = std::move(b);  // c's own pages are released, b's taken over
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.size(), 2 * kMiB);
}

}  // namespace
}  // namespace dsinfer
