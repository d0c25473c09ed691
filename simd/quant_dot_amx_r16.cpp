// AMX products over row groups (simd/repack.h), for CPUs with AMX-TILE and AMX-INT8 (compiled
// with those flags and AVX-512's; only called after simd/cpu.cpp found them and Linux granted
// the tile state).
//
// A row group's block is already a B tile: its 8 (Q8_0) slices of 64 bytes hold 4 consecutive
// weights of each of 16 rows, the layout TDPBSSD reads B in. Q4_0's 4 slices unpack to the
// same 8 rows of q - 8. The A tile is up to 16 tokens' activation levels of that block (a row
// of 32 bytes each). One TDPBSSD gives every token's exact int32 dot with each of the 16 rows;
// the tile goes to memory and each token's row of it is scaled into a float accumulator with
// one fma: per row and token exactly the scalar reference's arithmetic and order, so results
// are bit-identical to it. Blocks cannot share a tile product: each has its own scales.
// Fewer than kMinTokens tokens take the VNNI kernels (a tile load and store per block would
// cost more than it saves).

#include "simd/avx512_intrinsics.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "simd/kernels_isa.h"
#include "simd/repack.h"

namespace dsinfer::simd::detail {
namespace {

constexpr int64_t kMinTokens = 8;
constexpr int kTileTokens = 16;

// Tile 0: C, tokens x 16 int32; tile 1: A, tokens x 32 bytes; tile 2: B, 8 x 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

void configure(int tokens) {
  TileConfig c;
  c.colsb[0] = 64, c.rows[0] = uint8_t(tokens);
  c.colsb[1] = 32, c.rows[1] = uint8_t(tokens);
  c.colsb[2] = 64, c.rows[2] = 8;
  _tile_loadconfig(&c);
}

// Q4_0 slices as the 8 B-tile rows of q - 8 (row k: weights 4k..4k+3 of each of the 16 rows).
void unpack_q4(const uint8_t* g, int8_t* b) {
  const __m512i lo = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
  for (int s = 0; s < 4; ++s) {
    const __m512i v = _mm512_loadu_si512(g + 32 + 64 * s);
    _mm512_storeu_si512(b + 64 * s, _mm512_sub_epi8(_mm512_and_si512(v, lo), eight));
    _mm512_storeu_si512(b + 64 * (4 + s), _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), lo), eight));
  }
}

template <bool kQ4>
void gemm_amx(const uint8_t* W, int64_t nb, const BlockQ8_0* X, int64_t n_tok, float* Y, int64_t ldy, int64_t g0,
              int64_t g1) noexcept {
  if (n_tok < kMinTokens)
    return (kQ4 ? gemm_q4_0_r16_vnni : gemm_q8_0_r16_vnni)(W, nb, X, n_tok, Y, ldy, g0, g1);
  const size_t gbb = kQ4 ? kQ4GroupBlockBytes : kQ8GroupBlockBytes, group_bytes = size_t(nb) * gbb;
  const int64_t stride = nb * int64_t(sizeof(BlockQ8_0));  // from one token's block to the next token's
  alignas(64) int32_t c[kTileTokens][16];
  alignas(64) int8_t b4[8 * 64];
  for (int64_t t0 = 0; t0 < n_tok; t0 += kTileTokens) {
    const int nt = int(std::min<int64_t>(kTileTokens, n_tok - t0));
    configure(nt);
    for (int64_t g = g0; g < g1; ++g) {
      const uint8_t* G = W + size_t(g) * group_bytes;
      __m512 acc[kTileTokens];
      for (int t = 0; t < nt; ++t) acc[t] = _mm512_setzero_ps();
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = G + size_t(b) * gbb;
        const BlockQ8_0* xb = X + t0 * nb + b;
        _tile_zero(0);
        _tile_loadd(1, xb->qs, stride);
        if constexpr (kQ4) {
          unpack_q4(blk, b4);
          _tile_loadd(2, b4, 64);
        } else {
          _tile_loadd(2, blk + 32, 64);
        }
        _tile_dpbssd(0, 1, 2);
        _tile_stored(0, c, 64);
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
        for (int t = 0; t < nt; ++t) {
          const __m512 s = _mm512_cvtepi32_ps(_mm512_load_si512(c[t]));
          acc[t] = _mm512_fmadd_ps(s, _mm512_mul_ps(dw, _mm512_set1_ps(_cvtsh_ss(xb[t * nb].d))), acc[t]);
        }
      }
      for (int t = 0; t < nt; ++t) _mm512_storeu_ps(Y + (t0 + t) * ldy + g * kRowGroup, acc[t]);
    }
  }
  _tile_release();
}

}  // namespace

void add_r16_amx(Kernels& k) noexcept {
  k.gemm_q4_0_r16 = gemm_amx<true>;
  k.gemm_q8_0_r16 = gemm_amx<false>;
  k.r16_native = true;
}

}  // namespace dsinfer::simd::detail
