#include "engine/generation/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "simd/error.h"

namespace dsinfer {

void validate(const SamplingParams& p, const SamplingNames& n) {
  if (!(std::isfinite(p.temperature) && p.temperature >= 0.0f))
    fail(n.temperature, "must be a number from 0 (greedy) up");
  if (p.top_k < 0) fail(n.top_k, "must not be negative");
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) fail(n.top_p, "must be in (0, 1]");
  if (!(p.min_p >= 0.0f && p.min_p < 1.0f)) fail(n.min_p, "must be in [0, 1)");
  if (!(std::isfinite(p.repeat_penalty) && p.repeat_penalty > 0.0f)) fail(n.repeat_penalty, "must be positive");
  if (!std::isfinite(p.presence_penalty)) fail(n.presence_penalty, "must be a number");
  if (!std::isfinite(p.frequency_penalty)) fail(n.frequency_penalty, "must be a number");
  if (p.repeat_last_n < 0) fail(n.repeat_last_n, "must not be negative");
}

Sampler::Sampler(int64_t vocab, const SamplingParams& p)
    : V_(vocab), p_(p), rng_(p.seed), work_(size_t(vocab)), idx_(size_t(vocab)), count_(size_t(vocab), 0),
      prob_(size_t(vocab)) {
  validate(p);
}

void Sampler::set_params(const SamplingParams& p) {
  validate(p);
  if (p.seed != p_.seed) rng_.seed(p.seed);
  p_ = p;
}

double TokenDistribution::prob(int32_t id) const noexcept {
  for (int64_t i = 0; i < n; ++i)
    if (ids[size_t(i)] == id) return double(w[size_t(i)]) / total;
  return 0.0;
}

TokenDistribution Sampler::make_distribution() const {
  TokenDistribution d;
  d.ids.resize(size_t(V_));
  d.w.resize(size_t(V_));
  return d;
}

int32_t Sampler::sample(const float* logits, std::span<const int32_t> recent) {
  // One distribution kept for sample() alone, so that plain sampling allocates nothing.
  if (own_.ids.empty()) own_ = make_distribution();
  distribution(logits, recent, own_);
  return draw(own_);
}

double Sampler::uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

int32_t Sampler::draw(const TokenDistribution& d) {
  if (d.greedy) return d.ids[0];
  const double u = std::uniform_real_distribution<double>(0.0, d.total)(rng_);
  double c = 0;
  for (int64_t i = 0; i < d.n; ++i) {
    c += d.w[size_t(i)];
    if (u < c) return d.ids[size_t(i)];
  }
  return d.ids[size_t(d.n - 1)];
}

void Sampler::distribution(const float* logits, std::span<const int32_t> recent, TokenDistribution& out) {
  std::copy(logits, logits + V_, work_.begin());
  const size_t n_recent = std::min(recent.size(), size_t(p_.repeat_last_n));
  const auto window = recent.last(n_recent);
  if (p_.repeat_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f) {
    for (int32_t id : window)
      if (id >= 0 && id < V_) ++count_[size_t(id)];
    for (int32_t id : window) {
      if (id < 0 || id >= V_ || count_[size_t(id)] == 0) continue;  // each distinct id once
      float& l = work_[size_t(id)];
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
      l -= p_.presence_penalty + p_.frequency_penalty * float(count_[size_t(id)]);
      count_[size_t(id)] = 0;
    }
  }
  if (p_.temperature <= 0.0f) {
    out.ids[0] = int32_t(std::max_element(work_.begin(), work_.end()) - work_.begin());
    out.w[0] = 1.0f;
    out.n = 1;
    out.total = 1.0;
    out.greedy = true;
    return;
  }

  // Candidates in descending logit order: the top k, or all of them.
  int64_t n = V_;
  for (int64_t i = 0; i < V_; ++i) idx_[size_t(i)] = int32_t(i);
  auto by_logit = [&](int32_t a, int32_t b) {
    return work_[size_t(a)] > work_[size_t(b)] || (work_[size_t(a)] == work_[size_t(b)] && a < b);
  };
  if (p_.top_k > 0 && p_.top_k < V_) {
    n = p_.top_k;
    // Selection then a sort of the k: linear in the vocabulary, unlike a partial sort. The
    // comparator breaks ties by id, so the k and their order are fully determined.
    std::nth_element(idx_.begin(), idx_.begin() + n - 1, idx_.end(), by_logit);
    std::sort(idx_.begin(), idx_.begin() + n, by_logit);
  } else {
    std::sort(idx_.begin(), idx_.end(), by_logit);
  }
  // Untempered probabilities for the nucleus and min-p cuts.
  const float top = work_[size_t(idx_[0])];
  double z = 0;
  for (int64_t i = 0; i < n; ++i) z += prob_[size_t(i)] = std::exp(work_[size_t(idx_[size_t(i)])] - top);
  int64_t keep = n;
  if (p_.top_p < 1.0f) {
    double c = 0;
    for (int64_t i = 0; i < n; ++i) {
      c += prob_[size_t(i)] / z;
      if (c >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p_.min_p > 0.0f)
    while (keep > 1 && prob_[size_t(keep - 1)] < p_.min_p * prob_[0]) --keep;  // prob_[0] is the top
  // Temperature on the survivors.
  double zt = 0;
  for (int64_t i = 0; i < keep; ++i) {
    out.ids[size_t(i)] = idx_[size_t(i)];
    zt += out.w[size_t(i)] = std::exp((work_[size_t(idx_[size_t(i)])] - top) / p_.temperature);
  }
  out.n = keep;
  out.total = zt;
  out.greedy = false;
}

}  // namespace dsinfer
