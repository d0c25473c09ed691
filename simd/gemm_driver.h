// The one GEMM driver the ISA kernels share: a kernel templated on its token count NT keeps
// NT accumulators in registers (a run-time count would keep them on the stack, a load and a
// store per multiply-add), so n_tok tokens run as groups of kGemmMaxTokens, each through the
// instantiation for its size.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "simd/kernels.h"

namespace dsinfer::simd::detail {

// Calls f(std::integral_constant<int, NT>{}, t0) for each group [t0, t0 + NT) of n_tok tokens.
template <int kMax = int(kGemmMaxTokens), class F>
inline void for_token_groups(int64_t n_tok, F&& f) {
  for (int64_t t0 = 0; t0 < n_tok; t0 += kMax) {
    const int nt = int(std::min<int64_t>(kMax, n_tok - t0));
    [&]<int... I>(std::integer_sequence<int, I...>) {
      (void)((nt == I + 1 ? (f(std::integral_constant<int, I + 1>{}, t0), true) : false) || ...);
    }(std::make_integer_sequence<int, kMax>{});
  }
}

// Calls f(std::integral_constant<int, NH>{}, h) for heads [h, h + NH) of nh: groups of 16, then
// one each of 8, 4, 2 and 1 as needed (attention kernels keeping one register per head).
template <class F>
inline void for_head_groups(int64_t nh, F&& f) {
  int64_t h = 0;
  for (; h + 16 <= nh; h += 16) f(std::integral_constant<int, 16>{}, h);
  if (h + 8 <= nh) f(std::integral_constant<int, 8>{}, h), h += 8;
  if (h + 4 <= nh) f(std::integral_constant<int, 4>{}, h), h += 4;
  if (h + 2 <= nh) f(std::integral_constant<int, 2>{}, h), h += 2;
  if (h < nh) f(std::integral_constant<int, 1>{}, h);
}

// The GEMM of a rows kernel K (K::run<NT>(W, rows, nb, X, Y, row0, row1) for NT tokens).
template <class K, class Block>
void gemm_by_token_groups(const Block* W, int64_t rows, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y,
                          int64_t row0, int64_t row1) noexcept {
  for_token_groups(n_tok, [&](auto nt, int64_t t0) {
    K::template run<decltype(nt)::value>(W, rows, nb, X + t0 * nb, Y + t0 * rows, row0, row1);
  });
}

}  // namespace dsinfer::simd::detail
