#include "engine/fast/stealing_shares.h"

#include <algorithm>

#include "engine/fast/linear.h"

namespace dsinfer {

StealingShares::StealingShares(int64_t total, int threads) noexcept : total_(total), threads_(std::max(1, threads)) {
  for (int i = 0; i < std::min(threads_, kMaxThreads); ++i)
    ends_[size_t(i)].v.store(uint64_t(kPieces), std::memory_order_relaxed);
}

int64_t StealingShares::begin(int i, int k) const noexcept {
  const int64_t lo = share_begin(total_, threads_, i), hi = share_begin(total_, threads_, i + 1);
  if (k == 0) return lo;
  const int64_t half = (hi - lo) / 2;
  return lo + half + share_begin(hi - lo - half, kTail, k - 1);
}

int StealingShares::claim(int i, bool front) noexcept {
  auto& a = ends_[size_t(i)].v;
  uint64_t e = a.load(std::memory_order_relaxed);
  while (true) {
    const uint32_t f = uint32_t(e >> 32), b = uint32_t(e);
    if (f >= b) return -1;
    const uint64_t next = front ? (uint64_t(f + 1) << 32) | b : (uint64_t(f) << 32) | (b - 1);
    if (a.compare_exchange_weak(e, next, std::memory_order_acq_rel)) return int(front ? f : b - 1);
  }
}

}  // namespace dsinfer
