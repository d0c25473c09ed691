// Sampling one token from a DeepSeek-V3-sized vocabulary (129,280 logits), as run, chat and
// batch do after every forward: greedy, the default top-k 40 with top-p 0.95, and top-p alone
// (top-k 0), at temperature 0.7.
//   build/tests/bench/sampler_bench
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/generation/sampler.h"

namespace dsinfer {
namespace {

constexpr int64_t kVocab = 129280;

void BM_Sample(benchmark::State& state) {
  SamplingParams p;
  p.temperature = state.range(0) ? 0.7f : 0.0f;
  p.top_k = int32_t(state.range(1));
  std::vector<float> logits(static_cast<size_t>(kVocab));
  std::mt19937 g(1);
  std::normal_distribution<float> d(0.0f, 3.0f);
  for (float& x : logits) x = d(g);
  Sampler s(kVocab, p);
  int64_t i = 0;
  for (auto _ : state) {
    logits[size_t(i++ % kVocab)] += 0.01f;  // a new distribution each time
    benchmark::DoNotOptimize(s.sample(logits.data(), {}));
  }
}
BENCHMARK(BM_Sample)->ArgNames({"sampled", "top_k"})->Args({0, 0})->Args({1, 40})->Args({1, 0})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace dsinfer

BENCHMARK_MAIN();
