#include "engine/fast/grouped_ffn.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "engine/decoder.h"
#include "engine/experts/expert_store.h"
#include "engine/model/moe_router.h"
#include "engine/fast/row_ops.h"
#include "simd/kernels.h"

namespace dsinfer {

namespace {

constexpr int64_t kParallelElems = 1 << 16;

int64_t blocks(int64_t n) { return n / kBlockWeights; }

// Every task's SwiGLU over its slots; out[slot_tok[i]] += slot_w[i] * FFN(x[slot_tok[i]]),
// tasks added in order (out zeroed first unless `accumulate`).
void run_tasks(const Acts& x, int64_t D, int64_t T, float* out, FfnScratch& s, bool accumulate = false) {
  int64_t slots = 0;
  bool need_q = false, need_f = false;
  for (const auto& t : s.tasks) {
    slots = std::max(slots, t.slot0 + t.n);
    (uses_q8_acts(t.w->gate) ? need_q : need_f) = true;
  }
  const int64_t nb = blocks(D);
#pragma omp parallel for schedule(static) num_threads(s.threads) if (slots * D >= kParallelElems)
  for (int64_t i = 0; i < slots; ++i) {
    const int64_t tok = s.slot_tok[size_t(i)];
    if (need_q) std::memcpy(s.xq.data() + i * nb, x.q + tok * nb, size_t(nb) * sizeof(BlockQ8_0));
    if (need_f) std::memcpy(s.xf.data() + i * D, x.f + tok * D, size_t(D) * 4);
  }

  s.jobs.clear();
  for (const auto& t : s.tasks) {
    const Acts a{need_f ? s.xf.data() + t.slot0 * D : nullptr, need_q ? s.xq.data() + t.slot0 * nb : nullptr, t.n};
    s.jobs.push_back({&t.w->gate, a, s.g.data() + t.goff});
    s.jobs.push_back({&t.w->up, a, s.u.data() + t.goff});
  }
  run_linear(s.jobs);

  // SwiGLU over every task's rows at once: a prefill's experts with few tokens each would each
  // have been too small to split.
  const auto& vk = simd::kernels();
  s.rows.clear();
  int64_t elems = 0;
  for (size_t ti = 0; ti < s.tasks.size(); ++ti) {
    for (int64_t i = 0; i < s.tasks[ti].n; ++i) s.rows.push_back({int32_t(ti), int32_t(i)});
    elems += s.tasks[ti].n * s.tasks[ti].w->gate.rows;
  }
  const auto rows = int64_t(s.rows.size());
#pragma omp parallel for schedule(static) num_threads(s.threads) if (elems >= kParallelElems)
  for (int64_t k = 0; k < rows; ++k) {
    const auto& t = s.tasks[size_t(s.rows[size_t(k)].first)];
    const int64_t i = s.rows[size_t(k)].second, I = t.w->gate.rows;
    float* g = s.g.data() + t.goff + i * I;
    vk.silu_mul(g, s.u.data() + t.goff + i * I, I);
    if (uses_q8_acts(t.w->down)) quantize_rows(g, 1, I, s.gq.data() + t.gqoff + i * blocks(I));
  }

  if (!accumulate) std::fill(out, out + T * D, 0.0f);
  int64_t work = 0;
  for (const auto& t : s.tasks) work += t.n * t.w->down.rows * t.w->down.cols;
  const int nt = work < (1 << 15) ? 1 : s.threads;
#pragma omp parallel num_threads(nt)
  {
    const int64_t parts = omp_get_num_threads(), me = omp_get_thread_num();
    // Split on row groups where any down product is repacked (D is then a multiple of 16).
    int64_t unit = 1;
    for (const auto& t : s.tasks) unit = std::max(unit, t.w->down.row_unit());
    const int64_t d0 = share_begin(D / unit, parts, me) * unit, d1 = share_begin(D / unit, parts, me + 1) * unit;
    const int64_t nd = d1 - d0;
    float* yt = s.ytmp.data() + T * d0;  // this thread's [tokens][nd] (T * D floats in all)
    if (nd > 0)
      for (const auto& t : s.tasks) {
        const Matrix down = t.w->down.row_slice(d0, nd);
        const LinearJob j{&down, Acts{s.g.data() + t.goff, uses_q8_acts(down) ? s.gq.data() + t.gqoff : nullptr, t.n}, yt};
        linear_rows(j, 0, nd);
        for (int64_t i = 0; i < t.n; ++i) {
          const int64_t slot = t.slot0 + i;
          vk.axpy(s.slot_w[size_t(slot)], yt + i * nd, out + s.slot_tok[size_t(slot)] * D + d0, nd);
        }
      }
  }
}

// The routed experts of a layer served by an expert store: fetched in waves the store can hold,
// each wave's missing experts read side by side; computed in ascending order (as without a
// store, so sums are the same bits), each run of experts already there before waiting for the
// next one to land. The shared expert goes last.
void run_stored_experts(const MoeWeights& w, const Acts& x, int64_t D, int64_t T, float* out, FfnScratch& s);

// With an expert store: the next MoE layer's router applied to this layer's input predicts its
// experts, which the store starts reading now (a hint: never evicting what is in use). Scored
// when that layer routes.
void predict_next(const ModelConfig& c, const Acts& x, const MoeContext& ctx, FfnScratch& s) {
  const MoeWeights* next = ctx.next;
  if (!next || !next->store || !next->store->predicting()) return;
  const int64_t T = x.T, E = c.n_routed_experts, K = c.num_experts_per_tok;
  s.jobs.assign(1, LinearJob{&next->router, x, s.logits.data()});
  run_linear(s.jobs);
  const float* bias = next->bias.empty() ? nullptr : next->bias.data();
  std::fill(s.mark.begin(), s.mark.end(), 0);
  for (int64_t t = 0; t < T; ++t) {
    route_token(c, s.logits.data() + t * E, bias, s.ids.data() + t * K, s.wts.data() + t * K, s.route_tmp.data());
    for (int64_t k = 0; k < K; ++k) s.mark[size_t(s.ids[size_t(t * K + k)])] = 1;
  }
  s.predicted.clear();
  for (int64_t e = 0; e < E; ++e)
    if (s.mark[size_t(e)]) s.predicted.push_back(int32_t(e));
  s.predicted_layer = next->store_layer;
  next->store->hint(next->store_layer, s.predicted);
}

void add_task(FfnScratch& s, const FfnWeights* w, int64_t slot0, int64_t n) {
  int64_t goff = 0, gqoff = 0;
  if (!s.tasks.empty()) {
    const auto& p = s.tasks.back();
    goff = p.goff + p.n * p.w->gate.rows;
    gqoff = p.gqoff + p.n * blocks(p.w->gate.rows);
  }
  s.tasks.push_back({w, slot0, n, goff, gqoff});
}

void run_stored_experts(const MoeWeights& w, const Acts& x, int64_t D, int64_t T, float* out, FfnScratch& s) {
  ExpertStore& st = *w.store;
  const int64_t L = w.store_layer;
  const auto& used = s.used;
  const size_t wave = size_t(std::max<int64_t>(1, st.slots()));
  bool first = true;
  for (size_t w0 = 0; w0 < used.size(); w0 += wave) {
    const size_t w1 = std::min(used.size(), w0 + wave);
    st.fetch(L, std::span(used).subspan(w0, w1 - w0), s.count);
    for (size_t i = w0; i < w1;) {
      s.tasks.clear();
      do {  // this expert (waiting for it if it is still being read), then those already there
        const int32_t e = used[i++];
        add_task(s, &st.get(L, e), s.first_slot[size_t(e)], s.count[size_t(e)]);
      } while (i < w1 && st.ready(L, used[i]));
      if (i == used.size() && !w.shared.empty()) add_task(s, &w.shared, s.shared_slot, T);
      run_tasks(x, D, T, out, s, !first);
      first = false;
    }
    st.release();
  }
  if (first) {  // no routed expert (T == 0)
    s.tasks.clear();
    if (!w.shared.empty()) add_task(s, &w.shared, s.shared_slot, T);
    run_tasks(x, D, T, out, s);
  }
}

}  // namespace

void FfnScratch::reserve(const ModelConfig& c, const ModelWeights& w, int64_t T, int nthreads) {
  threads = std::max(1, nthreads);
  const int64_t D = c.hidden_size, E = std::max<int64_t>(1, c.n_routed_experts), K = c.num_experts_per_tok;
  int64_t slots = T, gsize = 0;
  bool any_float = false;
  auto see = [&](const LayerWeights& l) {
    if (!l.is_moe) {
      gsize = std::max(gsize, T * l.dense.gate.rows);
      any_float |= !uses_q8_acts(l.dense.gate);
      return;
    }
    const int64_t I = l.moe.experts.empty() ? 0 : l.moe.experts[0].gate.rows;
    const int64_t Is = l.moe.shared.empty() ? 0 : l.moe.shared.gate.rows;
    slots = std::max(slots, T * K + (Is > 0 ? T : 0));
    gsize = std::max(gsize, T * K * I + T * Is);
    for (const auto& e : l.moe.experts) any_float |= !uses_q8_acts(e.gate);
    if (Is > 0) any_float |= !uses_q8_acts(l.moe.shared.gate);
  };
  for (const auto& l : w.layers) see(l);
  if (w.mtp) see(w.mtp->layer);
  logits.resize(size_t(T * E));
  route_tmp.resize(size_t(2 * E));
  ids.resize(size_t(T * K));
  wts.resize(size_t(T * K));
  count.resize(size_t(E));
  mark.resize(size_t(E));
  first_slot.resize(size_t(E));
  used.reserve(size_t(E));
  predicted.reserve(size_t(E));
  slot_tok.resize(size_t(slots));
  slot_w.resize(size_t(slots));
  xq.resize(size_t(slots * blocks(D)));
  xf.resize(any_float ? size_t(slots * D) : 0);
  g.resize(size_t(gsize));
  u.resize(size_t(gsize));
  gq.resize(size_t(gsize / kBlockWeights + 1));
  ytmp.resize(size_t(T * D));
  jobs.reserve(size_t(2 * (E + 1)));
  rows.reserve(size_t(slots));
  tasks.reserve(size_t(E + 1));
}

void ffn_fast(const FfnWeights& w, const Acts& x, float* out, FfnScratch& s) {
  const int64_t T = x.T, D = w.down.rows;
  s.tasks.clear();
  for (int64_t t = 0; t < T; ++t) {
    s.slot_tok[size_t(t)] = int32_t(t);
    s.slot_w[size_t(t)] = 1.0f;
  }
  add_task(s, &w, 0, T);
  run_tasks(x, D, T, out, s);
}

void moe_fast(const ModelConfig& c, const MoeWeights& w, const Acts& x, float* out, FfnScratch& s,
              RouterRecord* rec, MoeContext rb) {
  const int64_t T = x.T, D = c.hidden_size, E = c.n_routed_experts, K = c.num_experts_per_tok;
  // The router is kept in float32 (as the checkpoint ships it): routing is sensitive to it.
  s.jobs.assign(1, LinearJob{&w.router, x, s.logits.data()});
  run_linear(s.jobs);
  const float* bias = w.bias.empty() ? nullptr : w.bias.data();
  if (rb.hook) bias = rb.hook->bias(rb.layer, s.logits.data(), T, bias);
  for (int64_t t = 0; t < T; ++t)
    route_token(c, s.logits.data() + t * E, bias, s.ids.data() + t * K,
                s.wts.data() + t * K, s.route_tmp.data());
  if (rec) {
    rec->ids.insert(rec->ids.end(), s.ids.begin(), s.ids.begin() + T * K);
    rec->weights.insert(rec->weights.end(), s.wts.begin(), s.wts.begin() + T * K);
  }

  // Slots grouped by expert (ascending id), tokens ascending within an expert.
  std::fill(s.count.begin(), s.count.end(), 0);
  for (int64_t i = 0; i < T * K; ++i) ++s.count[size_t(s.ids[size_t(i)])];
  s.used.clear();
  int64_t slot = 0;
  for (int64_t e = 0; e < E; ++e) {
    const int64_t n = s.count[size_t(e)];
    if (n == 0) continue;
    s.first_slot[size_t(e)] = slot;
    s.used.push_back(int32_t(e));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t k = 0; k < K; ++k)
        if (s.ids[size_t(t * K + k)] == e) {
          s.slot_tok[size_t(slot)] = int32_t(t);
          s.slot_w[size_t(slot++)] = s.wts[size_t(t * K + k)];
        }
  }
  s.shared_slot = slot;
  if (!w.shared.empty())
    for (int64_t t = 0; t < T; ++t) {
      s.slot_tok[size_t(slot + t)] = int32_t(t);
      s.slot_w[size_t(slot + t)] = 1.0f;
    }
  if (w.store) {
    if (int64_t(rb.tokens.size()) == T) w.store->remember(w.store_layer, rb.tokens, std::span(s.ids).first(size_t(T * K)));
    if (s.predicted_layer == w.store_layer) w.store->score_prediction(w.store_layer, s.predicted, s.used);
    s.predicted_layer = -1;
    predict_next(c, x, rb, s);  // reuses logits and ids; this layer's routing is in the slots now
    return run_stored_experts(w, x, D, T, out, s);
  }
  s.tasks.clear();
  for (int32_t e : s.used) add_task(s, &w.experts[size_t(e)], s.first_slot[size_t(e)], s.count[size_t(e)]);
  if (!w.shared.empty()) add_task(s, &w.shared, s.shared_slot, T);
  run_tasks(x, D, T, out, s);
}

}  // namespace dsinfer
