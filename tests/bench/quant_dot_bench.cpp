// Quantized GEMV/GEMM throughput on one core, per ISA available here: Q4_0 and Q8_0 weights of
// 2048x1408 and 7168x2048 against 1, 2, 3, 4, 8, 16 and 64 Q8_0 tokens, and 65536x2048 (out of
// cache) against up to 8. bytes_per_second counts weight bytes (each weight block is read once
// per call whatever n_tok is), so n_tok = 8 shows how far one weight read is shared. Random data; the kernels' speed does not depend on the values.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "quant/huge_buffer.h"
#include "simd/blocks.h"
#include "simd/kernels.h"
#include "simd/repack.h"
#include "tests/simd/random_blocks.h"

namespace {

using dsinfer::BlockQ4_0;
using dsinfer::BlockQ8_0;
using dsinfer::simd::Kernels;

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  return dsinfer::test::random_floats(rng, n, 1.0f);
}

// `groups`: the weights in row groups (simd/repack.h), through the gemm_*_r16 kernels.
template <class Block>
void run(benchmark::State& state, const Kernels* k, int64_t rows, int64_t cols, int64_t n_tok, bool groups) {
  const int64_t nb = cols / dsinfer::kBlockWeights;
  const std::vector<float> wf = random_floats(rows * cols, 1);
  std::vector<Block> W(static_cast<size_t>(rows * nb));
  if constexpr (sizeof(Block) == sizeof(BlockQ8_0))
    dsinfer::quantize_row_q8_0(wf.data(), W.data(), rows * cols);
  else
    dsinfer::quantize_row_q4_0(wf.data(), W.data(), rows * cols);
  std::vector<BlockQ8_0> X(static_cast<size_t>(n_tok * nb));
  const std::vector<float> xf = random_floats(n_tok * cols, 2);
  k->quantize_row_q8_0_act(xf.data(), X.data(), n_tok * cols);
  std::vector<float> Y(static_cast<size_t>(rows * n_tok));
  // Huge pages, as the engine's copies of the weights have (resident_tensors.cpp): with 4 KiB
  // pages the out-of-cache shape measures TLB misses too.
  dsinfer::HugeBuffer G(W.size() * sizeof(Block));
  if (!G.data()) throw std::bad_alloc();
  constexpr bool q8 = sizeof(Block) == sizeof(BlockQ8_0);
  for (int64_t g = 0; g < rows / dsinfer::kRowGroup; ++g) {
    uint8_t* dst = G.data() + size_t(g * dsinfer::kRowGroup * nb) * sizeof(Block);
    if constexpr (q8)
      dsinfer::repack_q8_0_rows(W.data() + g * dsinfer::kRowGroup * nb, nb, dst);
    else
      dsinfer::repack_q4_0_rows(W.data() + g * dsinfer::kRowGroup * nb, nb, dst);
  }
  for (auto _ : state) {
    if (groups)
      (q8 ? k->gemm_q8_0_r16 : k->gemm_q4_0_r16)(G.data(), nb, X.data(), n_tok, Y.data(), rows, 0,
                                                 rows / dsinfer::kRowGroup);
    else if constexpr (q8)
      k->gemm_q8_0(W.data(), rows, nb, X.data(), n_tok, Y.data(), 0, rows);
    else
      k->gemm_q4_0(W.data(), rows, nb, X.data(), n_tok, Y.data(), 0, rows);
    benchmark::DoNotOptimize(Y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(W.size() * sizeof(Block)));
}

}  // namespace

int main(int argc, char** argv) {
  struct Shape { int64_t rows, cols; };
  for (const char* isa : {"scalar", "avx2", "avx2vnni", "avx512vnni", "neon"}) {
    const Kernels* k = dsinfer::simd::kernels_for(isa);
    if (!k) continue;
    // The last shape (75 MB in Q4_0) does not fit in any cache: the kernels as they stream from memory.
    for (Shape s : {Shape{2048, 1408}, Shape{7168, 2048}, Shape{65536, 2048}})
      for (int64_t n_tok : {1, 2, 3, 4, 8, 16, 64}) {
        if (s.rows > 8192 && n_tok > 8) continue;
        const std::string tail = std::string("/") + isa + "/" + std::to_string(s.rows) + "x" +
                                 std::to_string(s.cols) + "/tok" + std::to_string(n_tok);
        for (bool groups : {false, true}) {
          const std::string layout = groups ? "R16" : "";
          benchmark::RegisterBenchmark(("GemmQ4_0" + layout + tail).c_str(), [=](benchmark::State& st) {
            run<BlockQ4_0>(st, k, s.rows, s.cols, n_tok, groups);
          })->Unit(benchmark::kMicrosecond);
          benchmark::RegisterBenchmark(("GemmQ8_0" + layout + tail).c_str(), [=](benchmark::State& st) {
            run<BlockQ8_0>(st, k, s.rows, s.cols, n_tok, groups);
          })->Unit(benchmark::kMicrosecond);
        }
      }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
