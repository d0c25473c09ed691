#include "engine/fast/linear.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "engine/fast/stealing_shares.h"
#include "simd/kernels.h"
#include "simd/repack.h"

namespace dsinfer {

namespace {

constexpr int64_t kChunk = 256;  // columns of a float-path row dequantized at a time
// Rows per tile when many tokens share a weight: the tile stays in cache while every group of
// kGemmMaxTokens tokens passes over it.
constexpr int64_t kTileRows = 32;
// Below this much work (weight bytes x tokens) one thread does it all: a parallel region costs
// a few microseconds.
constexpr int64_t kParallelBytes = 1 << 15;

// Work of one split unit (a row, or a row group): bytes read times tokens.
int64_t unit_cost(const LinearJob& j) {
  return int64_t(dtype_row_bytes(j.w->type, j.w->cols)) * j.w->row_unit() * std::max<int64_t>(1, j.x.T);
}

void float_rows(const LinearJob& j, int64_t r0, int64_t r1) noexcept {
  const Matrix& w = *j.w;
  const auto& vk = simd::kernels();
  float buf[kChunk];
  // Float32 rows (the router) are read in place: copying them cost ~1% of a decode step. Same
  // chunks, so the same sums.
  const bool in_place = w.type == DType::F32 && reinterpret_cast<uintptr_t>(w.data) % alignof(float) == 0;
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t t = 0; t < j.x.T; ++t) j.y[t * w.rows + r] = 0.0f;
    for (int64_t c0 = 0; c0 < w.cols; c0 += kChunk) {
      const int64_t n = std::min(kChunk, w.cols - c0);
      const float* row = in_place ? reinterpret_cast<const float*>(w.data) + (w.row_offset + r) * w.cols + c0 : buf;
      if (!in_place) dequant_row_chunk(w, r, c0, n, buf);
      for (int64_t t = 0; t < j.x.T; ++t) j.y[t * w.rows + r] += vk.dot(row, j.x.f + t * w.cols + c0, n);
    }
  }
}

}  // namespace

bool uses_q8_acts(const Matrix& w) noexcept { return w.type == DType::Q8_0 || w.type == DType::Q4_0; }

void linear_rows(const LinearJob& j, int64_t r0, int64_t r1) noexcept {
  const Matrix& w = *j.w;
  if (r0 >= r1 || j.x.T == 0) return;
  if (!uses_q8_acts(w)) return float_rows(j, r0, r1);
  const int64_t nb = w.cols / kBlockWeights;
  const auto& k = simd::kernels();
  const uint8_t* base = w.data + size_t(w.row_offset) * dtype_row_bytes(w.type, w.cols);
  if (w.layout == Layout::RowGroups) {  // r0 and r1 on row groups (run_linear splits so)
    (w.type == DType::Q8_0 ? k.gemm_q8_0_r16 : k.gemm_q4_0_r16)(base, nb, j.x.q, j.x.T, j.y, w.rows, r0 / kRowGroup,
                                                              r1 / kRowGroup);
    return;
  }
  const int64_t tile = j.x.T > simd::kGemmMaxTokens ? kTileRows : r1 - r0;
  for (int64_t a = r0; a < r1; a += tile) {
    const int64_t b = std::min(r1, a + tile);
    if (w.type == DType::Q8_0)
      k.gemm_q8_0(reinterpret_cast<const BlockQ8_0*>(base), w.rows, nb, j.x.q, j.x.T, j.y, a, b);
    else
      k.gemm_q4_0(reinterpret_cast<const BlockQ4_0*>(base), w.rows, nb, j.x.q, j.x.T, j.y, a, b);
  }
}

void run_linear_transposed(std::span<const TransposedJob> jobs) {
  int64_t chunks = 0, work = 0;
  for (const TransposedJob& j : jobs) {
    chunks += (j.w->cols + kChunk - 1) / kChunk;
    work += j.w->rows * j.w->cols * j.T;
  }
#pragma omp parallel for schedule(static) if (work > kParallelBytes)
  for (int64_t item = 0; item < chunks; ++item) {
    // The item-th column chunk over all jobs.
    int64_t i = item;
    size_t jn = 0;
    for (; i >= (jobs[jn].w->cols + kChunk - 1) / kChunk; ++jn) i -= (jobs[jn].w->cols + kChunk - 1) / kChunk;
    const TransposedJob& j = jobs[jn];
    const Matrix& w = *j.w;
    const int64_t c0 = i * kChunk, n = std::min(kChunk, w.cols - c0);
    const auto& k = simd::kernels();
    float buf[kChunk];
    for (int64_t t = 0; t < j.T; ++t) std::fill(j.y + t * w.cols + c0, j.y + t * w.cols + c0 + n, 0.0f);
    for (int64_t r = 0; r < w.rows; ++r) {
      dequant_row_chunk(w, r, c0, n, buf);
      for (int64_t t = 0; t < j.T; ++t) k.axpy(j.x[t * w.rows + r], buf, j.y + t * w.cols + c0, n);
    }
  }
}

void run_linear(std::span<const LinearJob> jobs) {
  int64_t total = 0;
  for (const LinearJob& j : jobs) total += unit_cost(j) * (j.w->rows / j.w->row_unit());
  // The units whose cost starts in [lo, hi): boundaries are the ceilings below, so however the
  // cost is cut into pieces each unit is computed exactly once.
  auto cost_range = [&](int64_t lo, int64_t hi) {
    int64_t c0 = 0;  // cost where the current job starts
    for (const LinearJob& j : jobs) {
      const int64_t unit = j.w->row_unit(), units = j.w->rows / unit;
      const int64_t cpu = unit_cost(j), c1 = c0 + cpu * units;
      if (c1 > lo && c0 < hi) {
        const int64_t u0 = std::max<int64_t>(0, (lo - c0 + cpu - 1) / cpu);
        const int64_t u1 = std::min<int64_t>(units, (hi - c0 + cpu - 1) / cpu);
        linear_rows(j, u0 * unit, u1 * unit);
      }
      c0 = c1;
    }
  };
  if (total < kParallelBytes) return cost_range(0, total);
  StealingShares shares(total, omp_get_max_threads());
#pragma omp parallel
  shares.run(omp_get_thread_num(), omp_get_num_threads(), cost_range);
}

}  // namespace dsinfer
