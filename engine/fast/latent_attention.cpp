#include "engine/fast/latent_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "engine/fast/linear.h"
#include "simd/kernels.h"

namespace dsinfer {

namespace {

// At most this many query tokens spread their chunks over threads (and keep per-chunk
// partials); more tokens give one token to a thread at a time.
constexpr int64_t kFewTokens = 4;
// Positions from which one token's single chunk is spread over the threads (attend_spread).
constexpr int64_t kSpreadPositions = 32;

int64_t chunks_for(int64_t n) { return (n + kAttnChunk - 1) / kAttnChunk; }

}  // namespace

void LatentAttention::reserve(int64_t heads, int64_t latent, int64_t rope, int64_t max_T, int64_t context,
                              int threads) {
  H_ = heads, r_ = latent, dr_ = rope, threads_ = std::max(1, threads);
  const int64_t state = H_ * r_ + 2 * H_;
  const int64_t space = 2 * H_ * kAttnChunk + kAttnChunk * (r_ + dr_) + 2 * state;
  part_.resize(size_t(std::min(max_T, kFewTokens) * chunks_for(context) * state));
  space_.resize(size_t(threads_ * space));
  rows_.resize(size_t(2 * threads_ * kAttnChunk));
  raw_.resize(size_t(threads_ * kAttnChunk));
  few_ = std::min(max_T, kFewTokens);
  packed_.resize(size_t(few_ + threads_));
  for (auto& b : packed_) b.reserve(heads, latent, rope);
}

LatentAttention::Space LatentAttention::space(int thread) {
  const int64_t state = H_ * r_ + 2 * H_;
  const int64_t size = 2 * H_ * kAttnChunk + kAttnChunk * (r_ + dr_) + 2 * state;
  float* p = space_.data() + thread * size;
  Space s;
  s.scores = p, p += H_ * kAttnChunk;
  s.rope_scores = p, p += H_ * kAttnChunk;
  s.rows_f = p, p += kAttnChunk * (r_ + dr_);
  s.run = {p, p + H_ * r_, p + H_ * r_ + H_}, p += state;
  s.chunk = {p, p + H_ * r_, p + H_ * r_ + H_};
  s.rows = rows_.data() + 2 * thread * kAttnChunk;
  s.rope_rows = s.rows + kAttnChunk;
  s.raw = raw_.data() + thread * kAttnChunk;
  return s;
}

LatentAttention::State LatentAttention::partial(int64_t t, int64_t ch, int64_t chunks) {
  float* p = part_.data() + (t * chunks + ch) * (H_ * r_ + 2 * H_);
  return {p, p + H_ * r_, p + H_ * r_ + H_};
}

void LatentAttention::pack(const LatentQueries& q, int64_t t, simd::LatentQueryQ8& into) const {
  simd::pack_latent_query_q8(q.lat + t * r_, q.T * r_, q.rope + t * H_ * q.rope_stride, q.rope_stride, q.scale, into);
}

// Positions [sa, sb) for query token t into `out` (unnormalised).
void LatentAttention::attend_chunk(const LatentQueries& q, const simd::LatentQueryQ8* qq, const TokenSlots& slots,
                                   int64_t layer, int64_t t, int64_t sa, int64_t sb, Space& sp,
                                   const State& out) const {
  const auto& k = simd::kernels();
  const int64_t n = sb - sa;
  const TypedLatentCache& cache = *slots.cache[t];
  if (qq) {
    for (int64_t i = 0; i < n; ++i) sp.raw[i] = cache.row(layer, sa + i);
    k.latent_scores_q8(*qq, sp.raw, n, sp.scores, kAttnChunk);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      sp.rows[i] = cache.load(layer, sa + i, sp.rows_f + i * (r_ + dr_));
      sp.rope_rows[i] = sp.rows[i] + r_;
    }
    // Scores of every head against every row: the latent part, then the rope keys'.
    k.dot_tile(q.lat + t * r_, q.T * r_, H_, sp.rows, n, r_, sp.scores, kAttnChunk);
    k.dot_tile(q.rope + t * H_ * q.rope_stride, q.rope_stride, H_, sp.rope_rows, n, dr_, sp.rope_scores,
               kAttnChunk);
    for (int64_t h = 0; h < H_; ++h)
      for (int64_t i = 0; i < n; ++i)
        sp.scores[h * kAttnChunk + i] =
            q.scale * (sp.scores[h * kAttnChunk + i] + sp.rope_scores[h * kAttnChunk + i]);
  }
  for (int64_t h = 0; h < H_; ++h) {
    float* sc = sp.scores + h * kAttnChunk;
    out.m[h] = *std::max_element(sc, sc + n);
    out.l[h] = k.exp_shift_sum(sc, n, out.m[h]);
  }
  if (qq) {
    k.latent_wsum_q8(sp.scores, kAttnChunk, H_, sp.raw, n, r_, out.o);
  } else {
    std::fill(out.o, out.o + H_ * r_, 0.0f);
    k.weighted_sum(sp.scores, kAttnChunk, H_, sp.rows, n, r_, out.o);
  }
}

void LatentAttention::merge(bool first, const State& into, const State& from) const {
  if (first) {
    std::copy(from.o, from.o + H_ * r_, into.o);
    std::copy(from.m, from.m + H_, into.m);
    std::copy(from.l, from.l + H_, into.l);
    return;
  }
  for (int64_t h = 0; h < H_; ++h) {
    const float nm = std::max(into.m[h], from.m[h]);
    const float a = std::exp(into.m[h] - nm), b = std::exp(from.m[h] - nm);
    into.l[h] = into.l[h] * a + from.l[h] * b;
    into.m[h] = nm;
    float* o = into.o + h * r_;
    const float* f = from.o + h * r_;
    for (int64_t i = 0; i < r_; ++i) o[i] = o[i] * a + f[i] * b;
  }
}

void LatentAttention::finish(const LatentQueries& q, int64_t t, const State& s, float* out, int64_t h0,
                             int64_t h1) const {
  for (int64_t h = h0; h < h1; ++h) {
    const float inv = 1.0f / s.l[h];
    float* dst = out + (h * q.T + t) * r_;
    for (int64_t i = 0; i < r_; ++i) dst[i] = s.o[h * r_ + i] * inv;
  }
}

void LatentAttention::attend_spread(const LatentQueries& q, const simd::LatentQueryQ8& qq, const TokenSlots& slots,
                                    int64_t layer, int64_t n, float* out) {
  const auto& k = simd::kernels();
  const TypedLatentCache& cache = *slots.cache[0];
  const Space sp = space(0);  // the chunk's rows and scores, shared
#pragma omp parallel num_threads(threads_)
  {
    const int parts = omp_get_num_threads(), me = omp_get_thread_num();
    const int64_t s0 = share_begin(n, parts, me), s1 = share_begin(n, parts, me + 1);
    for (int64_t i = s0; i < s1; ++i) sp.raw[i] = cache.row(layer, i);
    if (s1 > s0) k.latent_scores_q8(qq, sp.raw + s0, s1 - s0, sp.scores + s0, kAttnChunk);
#pragma omp barrier
    const int64_t h0 = share_begin(H_, parts, me), h1 = share_begin(H_, parts, me + 1);
    for (int64_t h = h0; h < h1; ++h) {
      float* sc = sp.scores + h * kAttnChunk;
      sp.run.m[h] = *std::max_element(sc, sc + n);
      sp.run.l[h] = k.exp_shift_sum(sc, n, sp.run.m[h]);
    }
    if (h1 > h0) k.latent_wsum_q8(sp.scores + h0 * kAttnChunk, kAttnChunk, h1 - h0, sp.raw, n, r_, sp.run.o + h0 * r_);
    finish(q, 0, sp.run, out, h0, h1);
  }
}

void LatentAttention::run(const LatentQueries& q, const TokenSlots& slots, int64_t layer, float* out) {
  const int64_t T = q.T;
  int64_t longest = 0;
  for (int64_t t = 0; t < T; ++t) longest = std::max(longest, slots.pos[t] + 1);
  const bool integer =
      integer_scores_ && simd::kernels().latent_scores_native && slots.cache[0]->type() == KvType::Q8_0;
  if (T <= kFewTokens) {
    if (integer)
      for (int64_t t = 0; t < T; ++t) pack(q, t, packed_[size_t(t)].query());
    // Below this many positions a parallel region costs more than it saves.
    const bool spread = longest >= kSpreadPositions && threads_ > 1;
    if (spread && integer && T == 1 && longest <= kAttnChunk)
      return attend_spread(q, packed_[0].query(), slots, layer, longest, out);
    // Every (token, chunk) is an item; the partials merge afterwards in chunk order.
    const int64_t chunks = chunks_for(longest), items = T * chunks;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_) if (spread && items > 1)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t t = it / chunks, ch = it % chunks, sa = ch * kAttnChunk, n = slots.pos[t] + 1;
      if (sa >= n) continue;
      Space sp = space(omp_get_thread_num());
      attend_chunk(q, integer ? &packed_[size_t(t)].query() : nullptr, slots, layer, t, sa,
                   std::min(n, sa + kAttnChunk), sp, partial(t, ch, chunks));
    }
#pragma omp parallel for schedule(static) num_threads(threads_) if (T * H_ * r_ * chunks > (1 << 15))
    for (int64_t t = 0; t < T; ++t) {
      const Space sp = space(omp_get_thread_num());
      const int64_t nc = chunks_for(slots.pos[t] + 1);
      for (int64_t ch = 0; ch < nc; ++ch) merge(ch == 0, sp.run, partial(t, ch, chunks));
      finish(q, t, sp.run, out, 0, H_);
    }
    return;
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_)
  for (int64_t t = 0; t < T; ++t) {
    const int thread = omp_get_thread_num();
    Space sp = space(thread);
    simd::LatentQueryQ8* qq = nullptr;
    if (integer) {
      qq = &packed_[size_t(few_ + thread)].query();
      pack(q, t, *qq);
    }
    const int64_t n = slots.pos[t] + 1, nc = chunks_for(n);
    for (int64_t ch = 0; ch < nc; ++ch) {
      const int64_t sa = ch * kAttnChunk;
      attend_chunk(q, qq, slots, layer, t, sa, std::min(n, sa + kAttnChunk), sp, sp.chunk);
      merge(ch == 0, sp.run, sp.chunk);
    }
    finish(q, t, sp.run, out, 0, H_);
  }
}

}  // namespace dsinfer
