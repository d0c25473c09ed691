// RoutingMemory: what a token went to in each layer the last time, scored against what it goes
// to now, in fixed memory (the oldest token forgotten first).
#include "engine/experts/routing_memory.h"

#include <gtest/gtest.h>

#include <vector>

namespace dsinfer {
namespace {

std::vector<int> ids(std::span<const uint16_t> s) { return {s.begin(), s.end()}; }

TEST(RoutingMemory, RecallsTheLastRoutingOfEachTokenAndLayer) {
  RoutingMemory m(3, 2, 100, 10);
  EXPECT_TRUE(m.recall(0, 7).empty());
  const std::vector<int32_t> a{4, 9}, b{1, 4}, c{300, 2};
  EXPECT_EQ(m.remember(0, 7, a), -1);  // nothing to score against yet
  EXPECT_EQ(ids(m.recall(0, 7)), (std::vector<int>{4, 9}));
  EXPECT_TRUE(m.recall(1, 7).empty()) << "another layer";
  EXPECT_TRUE(m.recall(0, 8).empty()) << "another token";
  EXPECT_EQ(m.remember(0, 7, b), 1);  // 4 was recalled, 1 was not
  EXPECT_EQ(ids(m.recall(0, 7)), (std::vector<int>{1, 4}));
  EXPECT_EQ(m.remember(2, 7, c), -1);
  EXPECT_EQ(ids(m.recall(2, 7)), (std::vector<int>{300, 2}));
  EXPECT_EQ(m.remember(2, 7, c), 2);
  EXPECT_EQ(ids(m.recall(0, 7)), (std::vector<int>{1, 4})) << "layers are apart";
}

TEST(RoutingMemory, ForgetsTheOldestTokenWhenFull) {
  RoutingMemory m(1, 1, 50, 3);
  const std::vector<int32_t> e{5};
  for (int32_t t : {10, 11, 12}) m.remember(0, t, e);
  for (int32_t t : {10, 11, 12}) EXPECT_FALSE(m.recall(0, t).empty()) << t;
  m.remember(0, 10, e);  // seen again: keeps its row, no new one
  m.remember(0, 13, e);  // a fourth token takes the oldest row, token 10's
  EXPECT_TRUE(m.recall(0, 10).empty());
  for (int32_t t : {11, 12, 13}) EXPECT_FALSE(m.recall(0, t).empty()) << t;
  m.remember(0, 14, e);
  EXPECT_TRUE(m.recall(0, 11).empty());
  EXPECT_FALSE(m.recall(0, 13).empty());
}

TEST(RoutingMemory, IgnoresWhatIsOutOfRange) {
  RoutingMemory m(2, 2, 20, 4);
  const std::vector<int32_t> two{1, 2}, three{1, 2, 3};
  EXPECT_EQ(m.remember(0, 20, two), -1);
  EXPECT_EQ(m.remember(0, -1, two), -1);
  EXPECT_EQ(m.remember(2, 3, two), -1);
  EXPECT_EQ(m.remember(0, 3, three), -1);
  EXPECT_TRUE(m.recall(0, 3).empty());
  EXPECT_TRUE(m.recall(5, 3).empty());
  EXPECT_TRUE(m.recall(0, 99).empty());
}

}  // namespace
}  // namespace dsinfer
