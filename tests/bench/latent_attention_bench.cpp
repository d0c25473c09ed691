// Attention over the latent cache at depth (engine/fast/latent_attention.h): one decode token
// (and a 4-token verify, and 64 tokens of a prefill chunk) against D cached positions of one
// layer (4,096, and shallow depths within one chunk), V2-Lite's 16 heads and V3's 128, q8_0 cache with integer scores against
// the float path over the same cache, f32 cache. With 27 layers (V2-Lite's), an iteration is one
// token through every layer's attention, and the rows come from memory as in decode (88 MB of
// cache at 4,096 positions); one layer's cache stays in the last level cache.
//   build/tests/bench/latent_attention_bench [--benchmark_filter=...]
// Arguments: heads, depth, tokens, threads, path (0 float over q8_0, 1 integer over q8_0,
// 2 f32 cache), layers.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/fast/latent_attention.h"
#include "engine/fast/typed_latent_cache.h"

namespace dsinfer {
namespace {

constexpr int64_t kLatent = 512, kRope = 64;

void BM_LatentAttention(benchmark::State& state) {
  const int64_t H = state.range(0), D = state.range(1), T = state.range(2);
  const int threads = int(state.range(3)), path = int(state.range(4));
  const int64_t layers = state.range(5);
  std::mt19937 g(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  TypedLatentCache cache(layers, D + T, kLatent, kRope, path == 2 ? KvType::F32 : KvType::Q8_0);
  std::vector<float> row(size_t(kLatent + kRope));
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t p = 0; p < D + T; ++p) {
      for (float& x : row) x = dist(g);
      cache.store(l, p, row.data());
    }
  std::vector<float> lat(size_t(H * T * kLatent)), rope(size_t(T * H * kRope)), out(size_t(H * T * kLatent));
  for (float& x : lat) x = dist(g);
  for (float& x : rope) x = dist(g);
  LatentAttention attention;
  attention.reserve(H, kLatent, kRope, T, D + T, threads);
  attention.set_integer_scores(path == 1);
  std::vector<TypedLatentCache*> caches(size_t(T), &cache);
  std::vector<int64_t> pos(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) pos[size_t(t)] = D + t;
  const LatentQueries q{T, lat.data(), rope.data(), kRope, 0.04f};
  for (auto _ : state) {
    for (int64_t l = 0; l < layers; ++l) attention.run(q, TokenSlots{caches.data(), pos.data()}, l, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  // Multiply-adds of the scores and the weighted sum.
  state.counters["GMAC/s"] = benchmark::Counter(double(layers * T * H * (D + 1) * (2 * kLatent + kRope)) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int64_t heads : {16, 128})
    for (int64_t tokens : {1, 4})
      for (int64_t threads : {1, 2})
        for (int64_t path : {0, 1, 2}) b->Args({heads, 4096, tokens, threads, path, 1});
  // A prefill chunk's 64 tokens at depth (one token a thread at a time), integer scores.
  for (int64_t threads : {1, 2}) b->Args({16, 4096, 64, threads, 1, 1});
  // Decode through V2-Lite's 27 layers: the cache from memory.
  for (int64_t tokens : {1, 2})
    for (int64_t threads : {1, 2}) b->Args({16, 4096, tokens, threads, 1, 27});
  // Shallow caches (one chunk): decode's first 256 positions, integer scores.
  for (int64_t depth : {32, 64, 128, 255})
    for (int64_t tokens : {1, 2})
      for (int64_t threads : {1, 2}) b->Args({16, depth, tokens, threads, 1, 1});
}
BENCHMARK(BM_LatentAttention)->Apply(Args)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace dsinfer

BENCHMARK_MAIN();
