// Prefill GEMM throughput: our int8 kernels on Q8_0 tokens, over the row groups the engine
// computes on (gemm_q4_0_r16 / gemm_q8_0_r16; also the GGUF-row gemm_q4_0 / gemm_q8_0) against
// oneDNN matmul (bf16 x bf16 -> f32, and s8 x s8 -> f32 with one per-tensor scale), to decide
// whether linking oneDNN is worth it for prefill's dense products. Shapes are DeepSeek-V2-Lite's
// (rows x cols = out x in): routed expert gate/up 1408x2048 and down 2048x1408, q projection
// 3072x2048, kv_a 576x2048, attn_output 2048x2048, shared experts' gate/up 2816x2048 and down
// 2048x2816, dense layer 0's gate/up 10944x2048 and down 2048x10944, lm_head 102400x2048; M = 64
// and 512 tokens. Threads come from OMP_NUM_THREADS: oneDNN uses them itself; ours splits the
// rows (row groups) evenly, as the engine does.
// Every benchmark reports GMAC/s = M*N*K / wall time, also the costs that are not GEMMs
// (activation quantization, Q4_0 -> bf16 weight conversion, oneDNN's weight reorder), so their
// times can be added to a GEMM's. oneDNN weights are converted and reordered once, outside the
// timed loop, except in the benchmarks that measure exactly that. Built when libdnnl-dev is
// installed: build/tests/bench/onednn_gemm_bench (OMP_NUM_THREADS=1 or 2).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "simd/blocks.h"
#include "simd/kernels.h"
#include "simd/repack.h"
#include "tests/simd/random_blocks.h"

namespace {

using dsinfer::BlockQ4_0;
using dsinfer::BlockQ8_0;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

int g_threads = 1;

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  return dsinfer::test::random_floats(rng, n, 1.0f);
}

// Round to nearest even; the inputs here are finite, so no NaN case (which would stop the
// loop from vectorizing).
inline uint16_t to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  x += 0x7FFF + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

// Q4_0 rows [r0, r1) -> bf16, row-major N x K (oneDNN's "ba" for a K x N weight). Row by row
// through a float buffer that stays in L1.
void q4_0_to_bf16(const BlockQ4_0* W, int64_t K, int64_t r0, int64_t r1, uint16_t* out) {
  std::vector<float> row(static_cast<size_t>(K));
  const int64_t nb = K / dsinfer::kBlockWeights;
  for (int64_t r = r0; r < r1; ++r) {
    dsinfer::dequantize_row_q4_0(W + r * nb, row.data(), K);
    uint16_t* o = out + r * K;
    for (int64_t k = 0; k < K; ++k) o[k] = to_bf16(row[k]);
  }
}

// Calls f(lo, hi) on g_threads disjoint, even parts of [0, n).
template <class F>
void split(int64_t n, F&& f) {
  if (g_threads == 1) return f(int64_t{0}, n);
#pragma omp parallel num_threads(g_threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    f(n * t / nt, n * (t + 1) / nt);
  }
}

struct Case {
  int64_t N, K, M, nb;
  std::vector<float> xf;  // M x K activations
  std::vector<BlockQ4_0> w4;
  std::vector<BlockQ8_0> w8, x8;
  std::vector<uint8_t> g4, g8;  // the same weights in row groups, repacked once here
  std::vector<uint16_t> wbf;  // N x K bf16 from the Q4_0 weights
  std::vector<float> y;       // M x N

  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  // bf16: weights in the primitive's preferred layout (any) and as converted (ba).
  dnnl::matmul bf_any, bf_ba, s8s8;
  dnnl::memory src_bf, wei_bf_ba, wei_bf_any, dst, src_s8, wei_s8;
  dnnl::reorder reorder_wei;
  bool any_is_ba = false;
  std::string impl_bf_any, impl_bf_ba, impl_s8;

  Case(int64_t n, int64_t k, int64_t m) : N(n), K(k), M(m), nb(k / dsinfer::kBlockWeights) {
    const auto& qk = dsinfer::simd::kernels();
    const std::vector<float> wf = random_floats(N * K, 1);
    xf = random_floats(M * K, 2);
    w4.resize(static_cast<size_t>(N * nb));
    w8.resize(static_cast<size_t>(N * nb));
    x8.resize(static_cast<size_t>(M * nb));
    dsinfer::quantize_row_q4_0(wf.data(), w4.data(), N * K);
    dsinfer::quantize_row_q8_0(wf.data(), w8.data(), N * K);
    g4.resize(w4.size() * sizeof(BlockQ4_0));
    g8.resize(w8.size() * sizeof(BlockQ8_0));
    for (int64_t g = 0; g < N / dsinfer::kRowGroup; ++g) {
      const int64_t b0 = g * dsinfer::kRowGroup * nb;
      dsinfer::repack_q4_0_rows(w4.data() + b0, nb, g4.data() + size_t(b0) * sizeof(BlockQ4_0));
      dsinfer::repack_q8_0_rows(w8.data() + b0, nb, g8.data() + size_t(b0) * sizeof(BlockQ8_0));
    }
    qk.quantize_row_q8_0_act(xf.data(), x8.data(), M * K);
    wbf.resize(static_cast<size_t>(N * K));
    q4_0_to_bf16(w4.data(), K, 0, N, wbf.data());
    y.assign(static_cast<size_t>(M * N), 0.0f);

    const dnnl::memory::dims sd{M, K}, wd{K, N}, dd{M, N};
    const dnnl::memory::desc src_md(sd, dt::bf16, tag::ab), dst_md(dd, dt::f32, tag::ab),
        wei_ba_md(wd, dt::bf16, tag::ba), wei_any_md(wd, dt::bf16, tag::any);
    {
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_any_md, dst_md), eng);
      bf_any = dnnl::matmul(pd);
      impl_bf_any = pd.impl_info_str();
      wei_bf_ba = dnnl::memory(wei_ba_md, eng, wbf.data());
      wei_bf_any = dnnl::memory(pd.weights_desc(), eng);
      any_is_ba = pd.weights_desc() == wei_ba_md;
      reorder_wei = dnnl::reorder(wei_bf_ba, wei_bf_any);
      reorder_wei.execute(strm, wei_bf_ba, wei_bf_any);
    }
    {
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_ba_md, dst_md), eng);
      bf_ba = dnnl::matmul(pd);
      impl_bf_ba = pd.impl_info_str();
    }
    src_bf = dnnl::memory(src_md, eng);
    {
      uint16_t* s = static_cast<uint16_t*>(src_bf.get_data_handle());
      for (int64_t i = 0; i < M * K; ++i) s[i] = to_bf16(xf[i]);
    }
    dst = dnnl::memory(dst_md, eng, y.data());

    // int8: the Q8_0 levels with one made-up per-tensor scale (speed does not depend on it).
    {
      const dnnl::memory::desc s_md(sd, dt::s8, tag::ab), w_any(wd, dt::s8, tag::any),
          w_ba(wd, dt::s8, tag::ba);
      dnnl::primitive_attr attr;
      attr.set_output_scales(0, {1e-4f});
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(s_md, w_any, dst_md), attr, eng);
      s8s8 = dnnl::matmul(pd);
      impl_s8 = pd.impl_info_str();
      src_s8 = dnnl::memory(s_md, eng);
      int8_t* s = static_cast<int8_t*>(src_s8.get_data_handle());
      for (int64_t i = 0; i < M * K; ++i) s[i] = x8[i / 32].qs[i % 32];
      std::vector<int8_t> wl(static_cast<size_t>(N * K));
      for (int64_t i = 0; i < N * K; ++i) wl[i] = w8[i / 32].qs[i % 32];
      dnnl::memory wsrc(w_ba, eng, wl.data());
      wei_s8 = dnnl::memory(pd.weights_desc(), eng);
      dnnl::reorder(wsrc, wei_s8).execute(strm, wsrc, wei_s8);
      strm.wait();
    }
    check();
  }

  // oneDNN bf16 (Q4_0 weights as bf16) against ours on the same Q4_0 weights, in rows and in
  // row groups: catches a transposed layout or a wrong repack, not rounding.
  void check() {
    const auto& qk = dsinfer::simd::kernels();
    std::vector<float> rows(y.size()), groups(y.size());
    qk.gemm_q4_0(w4.data(), N, nb, x8.data(), M, rows.data(), 0, N);
    qk.gemm_q4_0_r16(g4.data(), nb, x8.data(), M, groups.data(), N, 0, N / dsinfer::kRowGroup);
    run_dnnl(bf_any, src_bf, wei_bf_any);
    for (const auto* ours : {&rows, &groups}) {
      float maxd = 0, maxy = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        maxd = std::max(maxd, std::fabs(y[i] - (*ours)[i]));
        maxy = std::max(maxy, std::fabs((*ours)[i]));
      }
      if (maxd > 0.05f * maxy)
        std::fprintf(stderr, "MISMATCH %lldx%lld M=%lld (%s): max|diff| %g, max|y| %g\n", (long long)N,
                     (long long)K, (long long)M, ours == &rows ? "rows" : "row groups", maxd, maxy);
    }
  }

  void run_dnnl(dnnl::matmul& p, dnnl::memory& s, dnnl::memory& w) {
    p.execute(strm, {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}});
    strm.wait();
  }
};

Case& get_case(int64_t N, int64_t K, int64_t M) {
  static std::map<std::tuple<int64_t, int64_t, int64_t>, std::unique_ptr<Case>> cases;
  auto& c = cases[{N, K, M}];
  if (!c) {
    c = std::make_unique<Case>(N, K, M);
    std::fprintf(stderr, "%lldx%lld M=%lld: bf16/any %s%s, bf16/ba %s, s8s8 %s\n", (long long)N,
                 (long long)K, (long long)M, c->impl_bf_any.c_str(),
                 c->any_is_ba ? " (layout ba)" : " (blocked layout)", c->impl_bf_ba.c_str(),
                 c->impl_s8.c_str());
  }
  return *c;
}

enum class What { OursQ4, OursQ8, OursQ4R16, OursQ8R16, QuantAct, DnnlBf16Any, DnnlBf16Ba, DnnlS8S8, Q4ToBf16, Reorder };

void run(benchmark::State& state, What what, int64_t N, int64_t K, int64_t M) {
  Case& c = get_case(N, K, M);
  const auto& qk = dsinfer::simd::kernels();
  for (auto _ : state) {
    switch (what) {
      case What::OursQ4:
        split(N, [&](int64_t r0, int64_t r1) {
          qk.gemm_q4_0(c.w4.data(), N, c.nb, c.x8.data(), M, c.y.data(), r0, r1);
        });
        break;
      case What::OursQ8:
        split(N, [&](int64_t r0, int64_t r1) {
          qk.gemm_q8_0(c.w8.data(), N, c.nb, c.x8.data(), M, c.y.data(), r0, r1);
        });
        break;
      // Whole row groups per thread, as the engine splits them.
      case What::OursQ4R16:
        split(N / dsinfer::kRowGroup, [&](int64_t g0, int64_t g1) {
          qk.gemm_q4_0_r16(c.g4.data(), c.nb, c.x8.data(), M, c.y.data(), N, g0, g1);
        });
        break;
      case What::OursQ8R16:
        split(N / dsinfer::kRowGroup, [&](int64_t g0, int64_t g1) {
          qk.gemm_q8_0_r16(c.g8.data(), c.nb, c.x8.data(), M, c.y.data(), N, g0, g1);
        });
        break;
      case What::QuantAct:
        split(M, [&](int64_t t0, int64_t t1) {
          qk.quantize_row_q8_0_act(c.xf.data() + t0 * K, c.x8.data() + t0 * c.nb, (t1 - t0) * K);
        });
        break;
      case What::DnnlBf16Any: c.run_dnnl(c.bf_any, c.src_bf, c.wei_bf_any); break;
      case What::DnnlBf16Ba: c.run_dnnl(c.bf_ba, c.src_bf, c.wei_bf_ba); break;
      case What::DnnlS8S8: c.run_dnnl(c.s8s8, c.src_s8, c.wei_s8); break;
      case What::Q4ToBf16:
        split(N, [&](int64_t r0, int64_t r1) { q4_0_to_bf16(c.w4.data(), K, r0, r1, c.wbf.data()); });
        break;
      case What::Reorder:
        c.reorder_wei.execute(c.strm, c.wei_bf_ba, c.wei_bf_any);
        c.strm.wait();
        break;
    }
    benchmark::DoNotOptimize(c.y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GMACs"] =
      benchmark::Counter(double(M) * double(N) * double(K) * 1e-9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  g_threads = omp_get_max_threads();
  const dnnl_version_t* v = dnnl_version();
  char ver[96];
  std::snprintf(ver, sizeof ver, "%d.%d.%d (%s, cpu_runtime %u)", v->major, v->minor, v->patch,
                v->hash, v->cpu_runtime);
  benchmark::AddCustomContext("onednn", ver);
  benchmark::AddCustomContext("dsinfer_isa", dsinfer::simd::kernels().isa);
  benchmark::AddCustomContext("threads", std::to_string(g_threads));

  struct Shape { int64_t N, K; };
  const std::pair<What, const char*> whats[] = {
      {What::OursQ4, "OursQ4_0"},        {What::OursQ8, "OursQ8_0"},
      {What::OursQ4R16, "OursQ4_0R16"},  {What::OursQ8R16, "OursQ8_0R16"},
      {What::QuantAct, "QuantAct"},      {What::DnnlBf16Any, "DnnlBf16Any"},
      {What::DnnlBf16Ba, "DnnlBf16Ba"},  {What::DnnlS8S8, "DnnlS8S8"},
      {What::Q4ToBf16, "Q4_0ToBf16"},    {What::Reorder, "DnnlReorderBf16"}};
  // lm_head last: its case holds ~2.5 GB; a plain prefill runs it for the last token only.
  const Shape shapes[] = {{1408, 2048}, {2048, 1408},  {3072, 2048},  {576, 2048},
                          {2048, 2048}, {2816, 2048},  {2048, 2816},  {10944, 2048},
                          {2048, 10944}, {102400, 2048}};
  for (Shape s : shapes)
    for (int64_t M : {64, 512})
      for (auto [what, name] : whats) {
        const std::string full = std::string(name) + "/" + std::to_string(s.N) + "x" +
                                 std::to_string(s.K) + "/M" + std::to_string(M) + "/t" +
                                 std::to_string(g_threads);
        benchmark::RegisterBenchmark(full.c_str(), [=, w = what](benchmark::State& st) {
          run(st, w, s.N, s.K, M);
        })->Unit(benchmark::kMicrosecond)->UseRealTime();
      }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
