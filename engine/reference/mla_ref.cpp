#include "engine/reference/mla_ref.h"

#include <vector>

#include "engine/reference/matmul_ref.h"
#include "engine/reference/ops_ref.h"
#include "simd/scalar_ops.h"

namespace dsinfer {

namespace {

// k [S][nope] = W_UK_h . lat[s] for S latents.
void latent_to_key(const AttentionWeights& w, int64_t h, const float* lat, int64_t S, float* k) {
  const Matrix& m = w.w_uk[size_t(h)];
  if (!w.w_uk_transposed) return matmul_ref(m, lat, S, k);
  for (int64_t s = 0; s < S; ++s) matvec_t_ref(m, lat + s * m.rows, k + s * m.cols);
}

// q_lat [kv_lora_rank] = W_UK_h^T . q_nope.
void query_to_latent(const AttentionWeights& w, int64_t h, const float* q_nope, float* q_lat) {
  const Matrix& m = w.w_uk[size_t(h)];
  if (w.w_uk_transposed) return matmul_ref(m, q_nope, 1, q_lat);
  matvec_t_ref(m, q_nope, q_lat);
}

}  // namespace

void mla_attention_ref(const ModelConfig& c, const AttentionWeights& w, const Rope& rope, AttnMode mode,
                       F32LatentCache& cache, int64_t layer, int64_t pos0, const float* h, int64_t T, float* out) {
  const int64_t H = c.num_attention_heads, dn = c.qk_nope_head_dim, dr = c.qk_rope_head_dim, dv = c.v_head_dim;
  const int64_t r = c.kv_lora_rank, qk = dn + dr, L = r + dr, S = pos0 + T;
  const float scale = rope.softmax_scale();

  std::vector<float> q(size_t(T * H * qk));
  if (c.q_lora_rank > 0) {
    std::vector<float> qa(size_t(T * c.q_lora_rank));
    matmul_ref(w.q_a, h, T, qa.data());
    for (int64_t t = 0; t < T; ++t)
      rmsnorm(qa.data() + t * c.q_lora_rank, w.q_a_norm.data(), c.q_lora_rank, c.rms_norm_eps,
              qa.data() + t * c.q_lora_rank);
    matmul_ref(w.q_b, qa.data(), T, q.data());
  } else {
    matmul_ref(w.q, h, T, q.data());
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t hd = 0; hd < H; ++hd) rope.apply(q.data() + (t * H + hd) * qk + dn, pos0 + t);

  std::vector<float> kva(size_t(T * L));
  matmul_ref(w.kv_a, h, T, kva.data());
  for (int64_t t = 0; t < T; ++t) {
    float* row = cache.row(layer, pos0 + t);
    rmsnorm(kva.data() + t * L, w.kv_a_norm.data(), r, c.rms_norm_eps, row);
    for (int64_t i = 0; i < dr; ++i) row[r + i] = kva[size_t(t * L + r + i)];
    rope.apply(row + r, pos0 + t);
  }

  std::vector<float> o(size_t(T * H * dv));
  if (mode == AttnMode::Naive) {
    // Decompress every cached latent into per-head keys and values.
    std::vector<float> lat(size_t(S * r)), k(size_t(H * S * dn)), v(size_t(H * S * dv));
    for (int64_t s = 0; s < S; ++s)
      for (int64_t i = 0; i < r; ++i) lat[size_t(s * r + i)] = cache.row(layer, s)[i];
    for (int64_t hd = 0; hd < H; ++hd) {
      latent_to_key(w, hd, lat.data(), S, k.data() + hd * S * dn);
      matmul_ref(w.w_uv[size_t(hd)], lat.data(), S, v.data() + hd * S * dv);
    }
#pragma omp parallel for collapse(2) schedule(static) if (T * H * S * r > (1 << 16))
    for (int64_t t = 0; t < T; ++t)
      for (int64_t hd = 0; hd < H; ++hd) {
        const int64_t n = pos0 + t + 1;
        const float* qh = q.data() + (t * H + hd) * qk;
        std::vector<float> p(static_cast<size_t>(n));
        for (int64_t s = 0; s < n; ++s)
          p[size_t(s)] = scale * (simd::dot_f32(qh, k.data() + (hd * S + s) * dn, size_t(dn)) +
                                  simd::dot_f32(qh + dn, cache.row(layer, s) + r, size_t(dr)));
        softmax_inplace(p.data(), n);
        float* oh = o.data() + (t * H + hd) * dv;
        for (int64_t i = 0; i < dv; ++i) oh[i] = 0.0f;
        for (int64_t s = 0; s < n; ++s) simd::axpy_f32(p[size_t(s)], v.data() + (hd * S + s) * dv, oh, size_t(dv));
      }
  } else {
    // Absorbed: fold W_UK into the query and W_UV after the weighted sum of latents.
    std::vector<float> qlat(size_t(T * H * r)), olat(size_t(H * T * r));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t hd = 0; hd < H; ++hd)
        query_to_latent(w, hd, q.data() + (t * H + hd) * qk, qlat.data() + (t * H + hd) * r);
#pragma omp parallel for collapse(2) schedule(static) if (T * H * S * r > (1 << 16))
    for (int64_t t = 0; t < T; ++t)
      for (int64_t hd = 0; hd < H; ++hd) {
        const int64_t n = pos0 + t + 1;
        const float* ql = qlat.data() + (t * H + hd) * r;
        const float* qr = q.data() + (t * H + hd) * qk + dn;
        std::vector<float> p(static_cast<size_t>(n));
        for (int64_t s = 0; s < n; ++s) {
          const float* row = cache.row(layer, s);
          p[size_t(s)] = scale * (simd::dot_f32(ql, row, size_t(r)) + simd::dot_f32(qr, row + r, size_t(dr)));
        }
        softmax_inplace(p.data(), n);
        float* ol = olat.data() + (hd * T + t) * r;
        for (int64_t i = 0; i < r; ++i) ol[i] = 0.0f;
        for (int64_t s = 0; s < n; ++s) simd::axpy_f32(p[size_t(s)], cache.row(layer, s), ol, size_t(r));
      }
    std::vector<float> oh(size_t(T * dv));
    for (int64_t hd = 0; hd < H; ++hd) {
      matmul_ref(w.w_uv[size_t(hd)], olat.data() + hd * T * r, T, oh.data());
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < dv; ++i) o[size_t((t * H + hd) * dv + i)] = oh[size_t(t * dv + i)];
    }
  }
  matmul_ref(w.o, o.data(), T, out);
}

}  // namespace dsinfer
