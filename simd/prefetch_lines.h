// The read-ahead step the x86 row-group products share (compiled into files with different ISA
// flags; baseline SSE, so the same in each).
#pragma once
#include <xmmintrin.h>

#include <cstddef>
#include <cstdint>

namespace dsinfer::simd::detail {
namespace {  // internal linkage: each ISA file keeps its own copy, none merged across flags

// The cache lines of [p, p + bytes) fetched toward the core (kHint: _MM_HINT_T0 into L1, T1 into L2).
template <auto kHint>
inline void prefetch_lines(const uint8_t* p, size_t bytes) {
  for (size_t l = 0; l < bytes; l += 64) _mm_prefetch(reinterpret_cast<const char*>(p + l), kHint);
}

}  // namespace
}  // namespace dsinfer::simd::detail
