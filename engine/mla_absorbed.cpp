#include "engine/mla_absorbed.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/ops_fast.h"
#include "simd/kernels.h"

namespace dsinfer {

namespace {

// At most this many query tokens spread their chunks over threads (and keep per-chunk
// partials); more tokens give one token to a thread at a time.
constexpr int64_t kFewTokens = 4;

struct Dims {
  int64_t H, dn, dr, dv, r, qk, L;
  explicit Dims(const ModelConfig& c)
      : H(c.num_attention_heads), dn(c.qk_nope_head_dim), dr(c.qk_rope_head_dim), dv(c.v_head_dim),
        r(c.kv_lora_rank), qk(dn + dr), L(r + dr) {}
};

int64_t chunks_for(int64_t n) { return (n + kAttnChunk - 1) / kAttnChunk; }
int64_t part_floats(const Dims& d) { return d.H * d.r + 2 * d.H; }
// scores [H][chunk], rows [chunk][L], running output [H][r], chunk output [H][r], max/sum
// twice [4H], two dot results [2H].
int64_t thread_floats(const Dims& d) { return d.H * kAttnChunk + kAttnChunk * d.L + 2 * d.H * d.r + 6 * d.H; }

struct AttnCtx {
  const Dims& d;
  const TokenSlots& slots;
  int64_t layer, T;
  const float* qlat;  // [H][T][r]
  const float* q;     // [T][H][qk], rope part at dn
  float scale;
};

// Positions [sa, sb) for query token t: unnormalized output o [H][r], max m [H], sum l [H].
void attend_chunk(const AttnCtx& a, int64_t t, int64_t sa, int64_t sb, float* o, float* m, float* l,
                  float* space, const float** rows) {
  const Dims& d = a.d;
  const auto& vk = simd::kernels();
  float* scores = space;                       // [H][kAttnChunk]
  float* conv = scores + d.H * kAttnChunk;     // [kAttnChunk][L]
  float* dl = conv + kAttnChunk * d.L;         // [H]
  float* drp = dl + d.H;                       // [H]
  const int64_t n = sb - sa;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = a.slots.cache[t]->load(a.layer, sa + i, conv + i * d.L);
    rows[i] = row;
    vk.dot_many(a.qlat + t * d.r, a.T * d.r, d.H, row, d.r, dl);
    vk.dot_many(a.q + t * d.H * d.qk + d.dn, d.qk, d.H, row + d.r, d.dr, drp);
    for (int64_t h = 0; h < d.H; ++h) scores[h * kAttnChunk + i] = a.scale * (dl[h] + drp[h]);
  }
  for (int64_t h = 0; h < d.H; ++h) {
    float* sc = scores + h * kAttnChunk;
    m[h] = *std::max_element(sc, sc + n);
    l[h] = vk.exp_shift_sum(sc, n, m[h]);
    std::fill(o + h * d.r, o + (h + 1) * d.r, 0.0f);
  }
  vk.weighted_sum(scores, kAttnChunk, d.H, rows, n, d.r, o);
}

// Running (M, Lsum, O) absorbs one chunk's (m, l, o); `first` starts it.
void merge_chunk(const Dims& d, bool first, float* O, float* M, float* Ls, const float* o, const float* m,
                 const float* l) {
  for (int64_t h = 0; h < d.H; ++h) {
    float* Oh = O + h * d.r;
    const float* oh = o + h * d.r;
    if (first) {
      M[h] = m[h];
      Ls[h] = l[h];
      std::copy(oh, oh + d.r, Oh);
      continue;
    }
    const float nm = std::max(M[h], m[h]);
    const float a = std::exp(M[h] - nm), b = std::exp(m[h] - nm);
    Ls[h] = Ls[h] * a + l[h] * b;
    M[h] = nm;
    for (int64_t i = 0; i < d.r; ++i) Oh[i] = Oh[i] * a + oh[i] * b;
  }
}

// olat [H][T][r] for token t from the merged state.
void finish_token(const Dims& d, int64_t T, int64_t t, const float* O, const float* Ls, float* olat) {
  for (int64_t h = 0; h < d.H; ++h) {
    const float inv = 1.0f / Ls[h];
    float* dst = olat + (h * T + t) * d.r;
    for (int64_t i = 0; i < d.r; ++i) dst[i] = O[h * d.r + i] * inv;
  }
}

}  // namespace

void MlaScratch::reserve(const ModelConfig& c, int64_t T, int64_t context, int nthreads) {
  const Dims d(c);
  threads = std::max(1, nthreads);
  max_T = T;
  auto blocks = [](int64_t n) { return size_t(std::max<int64_t>(1, n / kBlockWeights)); };
  qa.resize(size_t(T * std::max<int64_t>(1, c.q_lora_rank)));
  qaq.resize(size_t(T) * blocks(c.q_lora_rank));
  q.resize(size_t(T * d.H * d.qk));
  kva.resize(size_t(T * d.L));
  qn.resize(size_t(d.H * T * d.dn));
  qnq.resize(size_t(d.H * T) * blocks(d.dn));
  qlat.resize(size_t(d.H * T * d.r));
  olat.resize(size_t(d.H * T * d.r));
  olatq.resize(size_t(d.H * T) * blocks(d.r));
  oh.resize(size_t(d.H * T * d.dv));
  o.resize(size_t(T * d.H * d.dv));
  oq.resize(size_t(T) * blocks(d.H * d.dv));
  row.resize(size_t(T * d.L));
  part.resize(size_t(std::min(T, kFewTokens) * chunks_for(context) * part_floats(d)));
  thread_space.resize(size_t(threads * thread_floats(d)));
  thread_rows.resize(size_t(threads * kAttnChunk));
  jobs.reserve(size_t(2 * d.H + 4));
}

void mla_absorbed(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, const TokenSlots& slots,
                  int64_t layer, const Acts& h, float* out, MlaScratch& s) {
  const Dims d(c);
  const int64_t T = h.T, r = d.r;

  // Projections of the input: the query (through its low-rank path when there is one) and
  // the compressed key/value.
  s.jobs.clear();
  const bool qlora = c.q_lora_rank > 0;
  s.jobs.push_back({qlora ? &w.q_a : &w.q, h, qlora ? s.qa.data() : s.q.data()});
  s.jobs.push_back({&w.kv_a, h, s.kva.data()});
  run_linear(s.jobs);
  if (qlora) {
    rmsnorm_rows(s.qa.data(), w.q_a_norm.data(), T, c.q_lora_rank, c.rms_norm_eps, s.qa.data());
    Acts a{s.qa.data(), nullptr, T};
    if (uses_q8_acts(w.q_b)) {
      quantize_rows(s.qa.data(), T, c.q_lora_rank, s.qaq.data());
      a.q = s.qaq.data();
    }
    s.jobs.assign(1, LinearJob{&w.q_b, a, s.q.data()});
    run_linear(s.jobs);
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t hd = 0; hd < d.H; ++hd) rope.apply(s.q.data() + (t * d.H + hd) * d.qk + d.dn, slots.pos[t]);

  // The new positions' latents and rope keys go into the cache before anyone attends.
  for (int64_t t = 0; t < T; ++t) {
    float* row = s.row.data() + t * d.L;
    const float* kv = s.kva.data() + t * d.L;
    rmsnorm_rows(kv, w.kv_a_norm.data(), 1, r, c.rms_norm_eps, row);
    std::copy(kv + r, kv + d.L, row + r);
    rope.apply(row + r, slots.pos[t]);
    slots.cache[t]->store(layer, slots.pos[t], row);
  }

  // q_lat[h][t] = W_UK_h^T q_nope[t][h].
  for (int64_t hd = 0; hd < d.H; ++hd)
    for (int64_t t = 0; t < T; ++t) {
      const float* src = s.q.data() + (t * d.H + hd) * d.qk;
      std::copy(src, src + d.dn, s.qn.data() + (hd * T + t) * d.dn);
    }
  if (w.w_uk_transposed) {
    const bool q8 = uses_q8_acts(w.w_uk[0]);
    if (q8) quantize_rows(s.qn.data(), d.H * T, d.dn, s.qnq.data());
    s.jobs.clear();
    for (int64_t hd = 0; hd < d.H; ++hd)
      s.jobs.push_back({&w.w_uk[size_t(hd)],
                        Acts{s.qn.data() + hd * T * d.dn, q8 ? s.qnq.data() + hd * T * (d.dn / kBlockWeights) : nullptr, T},
                        s.qlat.data() + hd * T * r});
    run_linear(s.jobs);
  } else {
    for (int64_t hd = 0; hd < d.H; ++hd)
      for (int64_t t = 0; t < T; ++t)
        matvec_t_ref(w.w_uk[size_t(hd)], s.qn.data() + (hd * T + t) * d.dn, s.qlat.data() + (hd * T + t) * r);
  }

  // Attention over the cached latents.
  const AttnCtx a{d, slots, layer, T, s.qlat.data(), s.q.data(), rope.softmax_scale()};
  int64_t longest = 0;
  for (int64_t t = 0; t < T; ++t) longest = std::max(longest, slots.pos[t] + 1);
  const int64_t tf = thread_floats(d), pf = part_floats(d);
  if (T <= kFewTokens) {
    // Every (token, chunk) is an item; partials merge afterwards in chunk order.
    const int64_t nc_max = chunks_for(longest);
    const int64_t items = T * nc_max;
#pragma omp parallel for schedule(dynamic, 1) num_threads(s.threads) if (longest > kAttnChunk)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t t = it / nc_max, ch = it % nc_max;
      const int64_t n = slots.pos[t] + 1, sa = ch * kAttnChunk;
      if (sa >= n) continue;
      float* sp = s.thread_space.data() + omp_get_thread_num() * tf;
      float* p = s.part.data() + it * pf;
      attend_chunk(a, t, sa, std::min(n, sa + kAttnChunk), p, p + d.H * r, p + d.H * r + d.H, sp,
                   s.thread_rows.data() + omp_get_thread_num() * kAttnChunk);
    }
#pragma omp parallel for schedule(static) num_threads(s.threads) if (T * d.H * r * nc_max > (1 << 15))
    for (int64_t t = 0; t < T; ++t) {
      float* sp = s.thread_space.data() + omp_get_thread_num() * tf;
      float* O = sp + d.H * kAttnChunk + kAttnChunk * d.L;
      float* M = O + 2 * d.H * r;
      float* Ls = M + d.H;
      const int64_t nc = chunks_for(slots.pos[t] + 1);
      for (int64_t ch = 0; ch < nc; ++ch) {
        const float* p = s.part.data() + (t * nc_max + ch) * pf;
        merge_chunk(d, ch == 0, O, M, Ls, p, p + d.H * r, p + d.H * r + d.H);
      }
      finish_token(d, T, t, O, Ls, s.olat.data());
    }
  } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(s.threads)
    for (int64_t t = 0; t < T; ++t) {
      float* sp = s.thread_space.data() + omp_get_thread_num() * tf;
      float* O = sp + d.H * kAttnChunk + kAttnChunk * d.L;
      float* o = O + d.H * r;
      float* M = o + d.H * r;
      float* Ls = M + d.H;
      float* m = Ls + d.H;
      float* l = m + d.H;
      const int64_t n = slots.pos[t] + 1, nc = chunks_for(n);
      for (int64_t ch = 0; ch < nc; ++ch) {
        const int64_t sa = ch * kAttnChunk;
        attend_chunk(a, t, sa, std::min(n, sa + kAttnChunk), o, m, l, sp,
                     s.thread_rows.data() + omp_get_thread_num() * kAttnChunk);
        merge_chunk(d, ch == 0, O, M, Ls, o, m, l);
      }
      finish_token(d, T, t, O, Ls, s.olat.data());
    }
  }

  // o[t][h] = W_UV_h olat[h][t], then the output projection.
  const bool q8v = uses_q8_acts(w.w_uv[0]);
  if (q8v) quantize_rows(s.olat.data(), d.H * T, r, s.olatq.data());
  s.jobs.clear();
  for (int64_t hd = 0; hd < d.H; ++hd)
    s.jobs.push_back({&w.w_uv[size_t(hd)],
                      Acts{s.olat.data() + hd * T * r, q8v ? s.olatq.data() + hd * T * (r / kBlockWeights) : nullptr, T},
                      s.oh.data() + hd * T * d.dv});
  run_linear(s.jobs);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t hd = 0; hd < d.H; ++hd)
      std::copy(s.oh.data() + (hd * T + t) * d.dv, s.oh.data() + (hd * T + t + 1) * d.dv,
                s.o.data() + (t * d.H + hd) * d.dv);
  Acts oa{s.o.data(), nullptr, T};
  if (uses_q8_acts(w.o)) {
    quantize_rows(s.o.data(), T, d.H * d.dv, s.oq.data());
    oa.q = s.oq.data();
  }
  s.jobs.assign(1, LinearJob{&w.o, oa, out});
  run_linear(s.jobs);
}

}  // namespace dsinfer
