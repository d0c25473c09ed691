// A short streaming-read probe of this machine's memory bandwidth: the physical limit of
// decode speed, which reads every active weight once per token.
#pragma once
#include <cstddef>

namespace dsinfer::cli {

// Best of `reps` OpenMP-parallel passes over a buffer of `bytes` (far larger than the caches),
// in GB/s (1e9 bytes).
double measure_read_bandwidth(size_t bytes = size_t(1) << 30, int reps = 5);

}  // namespace dsinfer::cli
