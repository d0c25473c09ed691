#include "engine/fast/mla_absorbed.h"

#include <algorithm>

#include "engine/fast/row_ops.h"

namespace dsinfer {

namespace {

// Tokens from which the per-token steps around the products (rotations, cache stores, the
// heads' rearrangement) are spread over the threads: a prefill chunk's, not a decode step's.
constexpr int64_t kParallelTokens = 16;

struct Dims {
  int64_t H, dn, dr, dv, r, qk, L;
  explicit Dims(const ModelConfig& c)
      : H(c.num_attention_heads), dn(c.qk_nope_head_dim), dr(c.qk_rope_head_dim), dv(c.v_head_dim),
        r(c.kv_lora_rank), qk(dn + dr), L(r + dr) {}
};

// Float rows with their Q8_0 blocks when W multiplies quantized activations.
Acts acts_for(const Matrix& w, const float* x, int64_t T, int64_t n, BlockQ8_0* q) {
  if (!uses_q8_acts(w)) return Acts{x, nullptr, T};
  quantize_rows(x, T, n, q);
  return Acts{x, q, T};
}

// q [T][H][qk] (rope part rotated) and kv_a [T][r + rope] from the normed input.
void project(const ModelConfig& c, const Dims& d, const AttentionWeights& w, const Rope& rope,
             const TokenSlots& slots, const Acts& h, MlaScratch& s) {
  const int64_t T = h.T;
  const bool low_rank = c.q_lora_rank > 0;
  s.jobs.clear();
  s.jobs.push_back({low_rank ? &w.q_a : &w.q, h, low_rank ? s.q_a.data() : s.q.data()});
  s.jobs.push_back({&w.kv_a, h, s.kv_a.data()});
  run_linear(s.jobs);
  if (low_rank) {
    rmsnorm_rows(s.q_a.data(), w.q_a_norm.data(), T, c.q_lora_rank, c.rms_norm_eps, s.q_a.data());
    s.jobs.assign(1, LinearJob{&w.q_b, acts_for(w.q_b, s.q_a.data(), T, c.q_lora_rank, s.q_a_q.data()), s.q.data()});
    run_linear(s.jobs);
  }
  // One rotation a token for its heads and its key: the angles' cos and sin (in double) cost
  // more than the products of a prefill's attention projections if taken per vector.
#pragma omp parallel for schedule(static) if (T >= kParallelTokens)
  for (int64_t t = 0; t < T; ++t) {
    float* cs = s.rope_cs.data() + t * 2 * rope.pairs();
    rope.angles(slots.pos[t], cs);
    for (int64_t hd = 0; hd < d.H; ++hd) rope.rotate(s.q.data() + (t * d.H + hd) * d.qk + d.dn, cs);
  }
}

// The new positions' latents (normed) and rope keys (rotated with project()'s angles) into
// their caches, before anyone attends.
void store_latents(const ModelConfig& c, const Dims& d, const AttentionWeights& w, const Rope& rope,
                   const TokenSlots& slots, int64_t layer, int64_t T, MlaScratch& s) {
#pragma omp parallel for schedule(static) if (T >= kParallelTokens)
  for (int64_t t = 0; t < T; ++t) {
    float* row = s.latents.data() + t * d.L;
    const float* kv = s.kv_a.data() + t * d.L;
    rmsnorm_rows(kv, w.kv_a_norm.data(), 1, d.r, c.rms_norm_eps, row);
    std::copy(kv + d.r, kv + d.L, row + d.r);
    rope.rotate(row + d.r, s.rope_cs.data() + t * 2 * rope.pairs());
    slots.cache[t]->store(layer, slots.pos[t], row);
  }
}

// q_lat[h][t] = W_UK_h^T q_nope[t][h].
void absorb_queries(const Dims& d, const AttentionWeights& w, int64_t T, MlaScratch& s) {
#pragma omp parallel for schedule(static) if (T >= kParallelTokens)
  for (int64_t hd = 0; hd < d.H; ++hd)
    for (int64_t t = 0; t < T; ++t) {
      const float* src = s.q.data() + (t * d.H + hd) * d.qk;
      std::copy(src, src + d.dn, s.q_nope.data() + (hd * T + t) * d.dn);
    }
  if (!w.w_uk_transposed) {  // W_UK inside kv_b ([nope x r] a head): a transposed product
    s.tjobs.clear();
    for (int64_t hd = 0; hd < d.H; ++hd)
      s.tjobs.push_back({&w.w_uk[size_t(hd)], s.q_nope.data() + hd * T * d.dn, T, s.q_lat.data() + hd * T * d.r});
    run_linear_transposed(s.tjobs);
    return;
  }
  const bool q8 = uses_q8_acts(w.w_uk[0]);
  if (q8) quantize_rows(s.q_nope.data(), d.H * T, d.dn, s.q_nope_q.data());
  s.jobs.clear();
  for (int64_t hd = 0; hd < d.H; ++hd)
    s.jobs.push_back({&w.w_uk[size_t(hd)],
                      Acts{s.q_nope.data() + hd * T * d.dn,
                           q8 ? s.q_nope_q.data() + hd * T * (d.dn / kBlockWeights) : nullptr, T},
                      s.q_lat.data() + hd * T * d.r});
  run_linear(s.jobs);
}

// out = o_proj([W_UV_h o_lat[h][t] for every head]).
void project_out(const Dims& d, const AttentionWeights& w, int64_t T, float* out, MlaScratch& s) {
  const bool q8 = uses_q8_acts(w.w_uv[0]);
  if (q8) quantize_rows(s.o_lat.data(), d.H * T, d.r, s.o_lat_q.data());
  s.jobs.clear();
  for (int64_t hd = 0; hd < d.H; ++hd)
    s.jobs.push_back({&w.w_uv[size_t(hd)],
                      Acts{s.o_lat.data() + hd * T * d.r, q8 ? s.o_lat_q.data() + hd * T * (d.r / kBlockWeights) : nullptr,
                           T},
                      s.o_head.data() + hd * T * d.dv});
  run_linear(s.jobs);
#pragma omp parallel for schedule(static) if (T >= kParallelTokens)
  for (int64_t t = 0; t < T; ++t)
    for (int64_t hd = 0; hd < d.H; ++hd)
      std::copy(s.o_head.data() + (hd * T + t) * d.dv, s.o_head.data() + (hd * T + t + 1) * d.dv,
                s.o.data() + (t * d.H + hd) * d.dv);
  s.jobs.assign(1, LinearJob{&w.o, acts_for(w.o, s.o.data(), T, d.H * d.dv, s.o_q.data()), out});
  run_linear(s.jobs);
}

}  // namespace

void MlaScratch::reserve(const ModelConfig& c, int64_t T, int64_t context, int threads) {
  const Dims d(c);
  auto blocks = [](int64_t n) { return size_t(std::max<int64_t>(1, n / kBlockWeights)); };
  q_a.resize(size_t(T * std::max<int64_t>(1, c.q_lora_rank)));
  q_a_q.resize(size_t(T) * blocks(c.q_lora_rank));
  q.resize(size_t(T * d.H * d.qk));
  kv_a.resize(size_t(T * d.L));
  latents.resize(size_t(T * d.L));
  q_nope.resize(size_t(d.H * T * d.dn));
  q_nope_q.resize(size_t(d.H * T) * blocks(d.dn));
  q_lat.resize(size_t(d.H * T * d.r));
  o_lat.resize(size_t(d.H * T * d.r));
  o_lat_q.resize(size_t(d.H * T) * blocks(d.r));
  o_head.resize(size_t(d.H * T * d.dv));
  o.resize(size_t(T * d.H * d.dv));
  o_q.resize(size_t(T) * blocks(d.H * d.dv));
  rope_cs.resize(size_t(T * d.dr));
  jobs.reserve(size_t(2 * d.H + 4));
  tjobs.reserve(size_t(d.H));
  attention.reserve(d.H, d.r, d.dr, T, context, threads);
}

void mla_absorbed(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, const TokenSlots& slots,
                  int64_t layer, const Acts& h, float* out, MlaScratch& s) {
  const Dims d(c);
  const int64_t T = h.T;
  project(c, d, w, rope, slots, h, s);
  store_latents(c, d, w, rope, slots, layer, T, s);
  absorb_queries(d, w, T, s);
  s.attention.run(LatentQueries{T, s.q_lat.data(), s.q.data() + d.dn, d.qk, rope.softmax_scale()}, slots, layer,
                  s.o_lat.data());
  project_out(d, w, T, out, s);
}

void mla_store_only(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, const TokenSlots& slots,
                    int64_t layer, const Acts& h, MlaScratch& s) {
  const Dims d(c);
  const int64_t T = h.T;
  s.jobs.assign(1, LinearJob{&w.kv_a, h, s.kv_a.data()});
  run_linear(s.jobs);
#pragma omp parallel for schedule(static) if (T >= kParallelTokens)
  for (int64_t t = 0; t < T; ++t) rope.angles(slots.pos[t], s.rope_cs.data() + t * 2 * rope.pairs());
  store_latents(c, d, w, rope, slots, layer, T, s);
}

}  // namespace dsinfer
