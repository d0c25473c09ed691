// A short streaming-read probe of this machine's memory bandwidth: the physical limit of
// decode speed, which reads every active weight once per token.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dsinfer::cli {

// Best of `reps` OpenMP-parallel passes over a buffer of `bytes` (far larger than the caches),
// in GB/s (1e9 bytes); smaller where memory is short (see probe_bytes), 0 when not measured.
double measure_read_bandwidth(size_t bytes = size_t(1) << 30, int reps = 5);

// The probe's buffer for `wanted` bytes when `available` bytes are free (0: unknown): at most
// half of them, since after a run that filled an expert store's budget the process may be
// near its memory limit; 0 (no probe) below 64 MiB, too close to the caches' size to measure
// memory.
size_t probe_bytes(size_t wanted, uint64_t available);

}  // namespace dsinfer::cli
