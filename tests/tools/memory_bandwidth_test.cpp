#include "tools/bench/memory_bandwidth.h"

#include <gtest/gtest.h>

namespace dsinfer::cli {
namespace {

constexpr size_t MiB = size_t(1) << 20;

// Bench probes bandwidth after the run, when an expert store may have filled its budget up to
// the memory cgroup's limit: a 1 GiB probe there was killed by the cgroup (found under
// `memlimit 4`), so the buffer takes at most half of what is free.
TEST(MemoryBandwidthProbe, TakesAtMostHalfOfWhatIsFree) {
  EXPECT_EQ(probe_bytes(1024 * MiB, 24576 * MiB), 1024 * MiB);
  EXPECT_EQ(probe_bytes(1024 * MiB, 600 * MiB), 300 * MiB);
  EXPECT_EQ(probe_bytes(1024 * MiB, 601 * MiB), 300 * MiB);  // whole 2 MiB huge pages
  EXPECT_LE(probe_bytes(1024 * MiB, 2047 * MiB), 1023 * MiB);
}

TEST(MemoryBandwidthProbe, NoProbeWhenTooLittleIsFree) {
  EXPECT_EQ(probe_bytes(1024 * MiB, 127 * MiB), 0u);  // 63.5 MiB would measure the caches as much
  EXPECT_EQ(probe_bytes(1024 * MiB, 128 * MiB), 64 * MiB);
}

TEST(MemoryBandwidthProbe, UnknownFreeMemoryKeepsTheRequest) {
  EXPECT_EQ(probe_bytes(1024 * MiB, 0), 1024 * MiB);
}

}  // namespace
}  // namespace dsinfer::cli
