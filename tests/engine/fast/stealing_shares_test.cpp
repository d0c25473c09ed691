#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "engine/fast/stealing_shares.h"

namespace dsinfer {
namespace {

using Pieces = std::vector<std::pair<int64_t, int64_t>>;

// The pieces a team of `team` threads runs over a split made for `threads`, sorted.
Pieces run_team(int64_t total, int threads, int team, bool slow_first = false) {
  StealingShares shares(total, threads);
  Pieces got;
  std::mutex m;
#pragma omp parallel num_threads(team)
  {
    const int me = omp_get_thread_num();
    shares.run(me, omp_get_num_threads(), [&](int64_t lo, int64_t hi) {
      // Thread 0 dawdles over each piece so the others run out and steal from it.
      if (slow_first && me == 0) {
        volatile int64_t x = 0;
        for (int i = 0; i < 200000; ++i) x = x + i;
      }
      std::lock_guard<std::mutex> l(m);
      got.emplace_back(lo, hi);
    });
  }
  std::sort(got.begin(), got.end());
  return got;
}

// Pieces cover [0, total) once: each starts where the one before it ends.
void expect_partition(const Pieces& p, int64_t total) {
  int64_t at = 0;
  for (const auto& [lo, hi] : p) {
    EXPECT_EQ(lo, at);
    EXPECT_LE(lo, hi);
    at = hi;
  }
  EXPECT_EQ(at, total);
}

TEST(StealingShares, EveryPieceRunsOnceWhateverTheTeam) {
  for (int64_t total : {int64_t(0), int64_t(1), int64_t(7), int64_t(100), int64_t(123457)})
    for (int threads : {1, 2, 3, 8})
      for (int team : {1, 2, threads, threads + 2}) {
        SCOPED_TRACE(testing::Message() << "total " << total << " threads " << threads << " team " << team);
        const Pieces a = run_team(total, threads, team);
        expect_partition(a, total);
        // What the pieces cover depends on total and threads only, not on who ran them.
        EXPECT_EQ(a, run_team(total, threads, team, /*slow_first=*/true));
        EXPECT_EQ(a, run_team(total, threads, 1));
      }
}

TEST(StealingShares, ASlowThreadsPiecesAreTakenOver) {
  // Thread 0 takes its first piece (half its share) and dawdles; thread 1 finishes its own share
  // and must then take thread 0's remaining pieces from the back.
  if (omp_get_max_threads() < 2) GTEST_SKIP() << "one thread only";
  StealingShares shares(1 << 20, 2);
  std::vector<int> runs_of(2, 0);
  std::set<int64_t> starts_by_1;
  std::atomic<bool> zero_started{false};
#pragma omp parallel num_threads(2)
  {
    const int me = omp_get_thread_num();
    shares.run(me, omp_get_num_threads(), [&](int64_t lo, int64_t) {
      if (me == 0) {
        zero_started = true;
        volatile int64_t x = 0;
        for (int i = 0; i < 20000000; ++i) x = x + i;
      } else {
        while (!zero_started) {  // thread 1 could otherwise be done before thread 0 begins
        }
      }
#pragma omp critical
      {
        ++runs_of[size_t(me)];
        if (me == 1) starts_by_1.insert(lo);
      }
    });
  }
  EXPECT_EQ(runs_of[0] + runs_of[1], 2 * (1 + StealingShares::kTail));
  EXPECT_GT(runs_of[1], 1 + StealingShares::kTail);                // it stole
  EXPECT_EQ(starts_by_1.count(int64_t(0)), 0u);                     // but not thread 0's first piece
}

TEST(StealingShares, MoreThreadsThanItStealsAmongSplitsStatically) {
  const int threads = StealingShares::kMaxThreads + 3;
  for (int team : {1, 4}) expect_partition(run_team(100000, threads, team), 100000);
}

}  // namespace
}  // namespace dsinfer
