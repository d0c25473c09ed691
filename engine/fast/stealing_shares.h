// Work split between the threads of one OpenMP region, with stealing at the end.
//
// Each thread owns an equal share of [0, total), cut into a first half and kTail small pieces.
// It runs its own pieces front to back (one sequential stream, as a static split would), then
// takes pieces from the back of shares still unfinished. With a static split a thread idles
// whenever the other is slower (a late wake-up, a busier memory channel): timed per region on
// decode, each thread waited ~7% of every product region.
//
// Which thread runs a piece changes from run to run; what a piece covers does not, so callers
// whose results depend only on the pieces (not on who runs them) stay deterministic.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>

namespace dsinfer {

class StealingShares {
 public:
  // More threads than this split statically (no stealing).
  static constexpr int kMaxThreads = 64;
  static constexpr int kTail = 8;

  StealingShares(int64_t total, int threads) noexcept;

  // Called by thread `me` of a team of `team` (smaller or larger than `threads`): f(lo, hi) for
  // every piece it claims, until no piece is left anywhere.
  template <class F>
  void run(int me, int team, F&& f) noexcept {
    if (threads_ > kMaxThreads) {
      for (int i = me; i < threads_; i += team) f(begin(i, 0), begin(i, kPieces));
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
  static constexpr int kPieces = 1 + kTail;
  // Start of piece k of thread i's share (k == kPieces: the share's end).
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
  std::array<Ends, kMaxThreads> ends_;
};

}  // namespace dsinfer
