// The AVX-512 intrinsics for the files compiled with the AVX-512 flags (and only those: nothing
// here may run before the CPU check), and the one helper their VNNI loops share.
//
// GCC 12's AVX-512 headers build results from _mm512_undefined_*(), which -W(maybe-)uninitialized
// reports once inlined (GCC bug 105593); the warning is off for the files that include this.
#pragma once
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace dsinfer::simd::detail {

// 4 bytes at p (any alignment) in every 32-bit lane: one operand of a vpdpbusd step.
inline __m512i bcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

}  // namespace dsinfer::simd::detail
