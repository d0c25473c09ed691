// The AVX2 intrinsics for the files compiled with the AVX2 flags (and only those: nothing here
// may run before the CPU check), and the one helper their vpmaddubsw loops share.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace dsinfer::simd::detail {

// 4 bytes at p (any alignment) in every 32-bit lane: one operand of a vpmaddubsw step.
inline __m256i bcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

}  // namespace dsinfer::simd::detail
