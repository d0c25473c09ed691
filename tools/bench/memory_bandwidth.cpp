#include "tools/bench/memory_bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "engine/experts/ram_budget.h"
#include "quant/huge_buffer.h"

namespace dsinfer::cli {

size_t probe_bytes(size_t wanted, uint64_t available) {
  constexpr size_t kMin = size_t(64) << 20, kPage = size_t(2) << 20;
  const size_t b = available == 0 ? wanted : std::min<size_t>(wanted, size_t(available / 2)) & ~(kPage - 1);
  return b < kMin ? 0 : b;
}

double measure_read_bandwidth(size_t bytes, int reps) {
  bytes = probe_bytes(bytes, memory_view().available);
  if (bytes == 0) return 0;
  const size_t n = bytes / sizeof(uint64_t);
  HugeBuffer hb(n * sizeof(uint64_t));
  if (!hb.data()) return 0;
  auto* buf = reinterpret_cast<uint64_t*>(hb.data());
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) buf[i] = i;  // first touch by the threads that will read it
  double best = 0;
  uint64_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (size_t i = 0; i < n; i += 8) {
      // Eight independent lanes per cache line: the loop is bound by loads, not by adds.
      total += (buf[i] ^ buf[i + 1]) + (buf[i + 2] ^ buf[i + 3]) + (buf[i + 4] ^ buf[i + 5]) + (buf[i + 6] ^ buf[i + 7]);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink += total;
    best = std::max(best, double(n / 8 * 8 * sizeof(uint64_t)) / s / 1e9);
  }
  if (sink == 42) std::fputs("", stderr);  // keeps the reads observable
  return best;
}

}  // namespace dsinfer::cli
