#include "engine/reference/ffn_ref.h"

#include <algorithm>
#include <vector>

#include "engine/model/moe_router.h"
#include "engine/reference/matmul_ref.h"
#include "engine/reference/ops_ref.h"
#include "simd/scalar_ops.h"

namespace dsinfer {

void ffn_ref(const FfnWeights& w, const float* x, int64_t T, float* out) {
  const int64_t I = w.gate.rows;
  std::vector<float> g(size_t(T * I)), u(size_t(T * I));
  matmul_ref(w.gate, x, T, g.data());
  matmul_ref(w.up, x, T, u.data());
  for (size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
  matmul_ref(w.down, g.data(), T, out);
}

void moe_ref(const ModelConfig& c, const MoeWeights& w, const float* x, int64_t T, float* out, RouterRecord* rec) {
  const int64_t D = c.hidden_size, E = c.n_routed_experts, K = c.num_experts_per_tok;
  std::vector<float> logits(size_t(T * E)), scratch(size_t(2 * E));
  matmul_ref(w.router, x, T, logits.data());
  std::vector<int32_t> ids(size_t(T * K));
  std::vector<float> wts(size_t(T * K));
  for (int64_t t = 0; t < T; ++t)
    route_token(c, logits.data() + t * E, w.bias.empty() ? nullptr : w.bias.data(), ids.data() + t * K,
                wts.data() + t * K, scratch.data());
  if (rec) {
    rec->ids.insert(rec->ids.end(), ids.begin(), ids.end());
    rec->weights.insert(rec->weights.end(), wts.begin(), wts.end());
  }
  // Experts in ascending id order, so each token sums its experts in a fixed order.
  std::fill(out, out + T * D, 0.0f);
  std::vector<float> xe, ye;
  std::vector<int64_t> tok;
  std::vector<float> tw;
  for (int64_t e = 0; e < E; ++e) {
    tok.clear();
    tw.clear();
    for (int64_t t = 0; t < T; ++t)
      for (int64_t k = 0; k < K; ++k)
        if (ids[size_t(t * K + k)] == e) {
          tok.push_back(t);
          tw.push_back(wts[size_t(t * K + k)]);
        }
    if (tok.empty()) continue;
    const int64_t n = int64_t(tok.size());
    xe.resize(size_t(n * D));
    ye.resize(size_t(n * D));
    for (int64_t i = 0; i < n; ++i) std::copy(x + tok[size_t(i)] * D, x + (tok[size_t(i)] + 1) * D, xe.data() + i * D);
    ffn_ref(w.experts[size_t(e)], xe.data(), n, ye.data());
    for (int64_t i = 0; i < n; ++i) simd::axpy_f32(tw[size_t(i)], ye.data() + i * D, out + tok[size_t(i)] * D, size_t(D));
  }
  if (!w.shared.empty()) {
    std::vector<float> sh(size_t(T * D));
    ffn_ref(w.shared, x, T, sh.data());
    for (int64_t i = 0; i < T * D; ++i) out[i] += sh[size_t(i)];
  }
}

}  // namespace dsinfer
