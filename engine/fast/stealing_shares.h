// Work split between the threads of one OpenMP region, with stealing at the end.
//
// Each thread owns an equal share of [0, total), cut into a first half and tail_for(threads)
// small pieces. It runs its own pieces front to back (one sequential stream, as a static split
// would), then takes pieces from the back of shares still unfinished. With a static split a
// thread idles whenever the other is slower (a late wake-up, a busier memory channel): timed per
// region on decode, each thread waited ~7% of every product region.
//
// The last piece a thread runs is what the other may wait for, so where the work streams from
// memory (`fine`: a few tokens a product) the tail is cut finer on few threads: timed per region
// on a 2-thread decode (v2-lite Q4_0, 7 runs each way, alternating), the threads spent 2.8-8.3%
// (median 3.6%) of their time in product regions waiting with 8 tail pieces, 1.9-5.5% (median
// 2.2%) with 32. Not where many tokens make a product compute-bound: each piece starts its
// stream cold, and pp512 measured 115-153 tok/s with 32 against 120-163 with 8 (7 alternating
// runs). With many threads a share is small already.
//
// Which thread runs a piece changes from run to run; what a piece covers does not, so callers
// whose results depend only on the pieces (not on who runs them) stay deterministic.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

namespace dsinfer {

class StealingShares {
 public:
  // More threads than this split statically (no stealing).
  static constexpr int kMaxThreads = 64;
  // Small pieces after each share's first half: 8, or when `fine` 32 on 1-2 threads, down to 8
  // from 8 threads.
  static constexpr int tail_for(int threads, bool fine) noexcept {
    return fine ? std::clamp(64 / std::max(1, threads), 8, 32) : 8;
  }

  StealingShares(int64_t total, int threads, bool fine = false) noexcept;

  // Called by thread `me` of a team of `team` (smaller or larger than `threads`): f(lo, hi) for
  // every piece it claims, until no piece is left anywhere.
  template <class F>
  void run(int me, int team, F&& f) noexcept {
    if (threads_ > kMaxThreads) {
      for (int i = me; i < threads_; i += team) f(begin(i, 0), begin(i, pieces_));
      return;
    }
    int k;
    if (me < threads_)  // a team larger than the split only steals
      while ((k = claim(me, /*front=*/true)) >= 0) f(begin(me, k), begin(me, k + 1));
    for (int d = 1; d <= threads_; ++d) {
      const int victim = (me + d) % threads_;
      while ((k = claim(victim, /*front=*/false)) >= 0) f(begin(victim, k), begin(victim, k + 1));
    }
  }

 private:
  // Start of piece k of thread i's share (k == pieces_: the share's end).
  int64_t begin(int i, int k) const noexcept;
  // Takes the first (the owner) or the last (a thief) unclaimed piece of share i; -1 if none.
  int claim(int i, bool front) noexcept;

  // Pieces [front, back) of a share still unclaimed, as front << 32 | back: one atomic, so the
  // owner and a thief cannot both take the last piece.
  struct alignas(64) Ends {
    std::atomic<uint64_t> v;
  };
  int64_t total_;
  int threads_;
  int pieces_;  // per share: the first half and the tail
  std::array<Ends, kMaxThreads> ends_;
};

}  // namespace dsinfer
