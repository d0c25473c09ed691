#include "engine/generation/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "simd/error.h"
#include "simd/kernels.h"

namespace dsinfer {

namespace {

// cut_candidates' bins of (top - logit): 16 a nat over 64 nats, the last holding what lies beyond.
constexpr int64_t kPerNat = 16, kBins = 64 * kPerNat;

// The largest value, in 16 running maxima the compiler keeps in vector registers:
// std::max_element's branch per element took ~100 us over 129k logits.
float max_value(const std::vector<float>& x) {
  constexpr size_t kLanes = 16;
  float m[kLanes];
  std::fill(m, m + kLanes, -INFINITY);
  size_t i = 0;
  for (; i + kLanes <= x.size(); i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) m[j] = m[j] < x[i + j] ? x[i + j] : m[j];
  for (; i < x.size(); ++i) m[0] = m[0] < x[i] ? x[i] : m[0];
  return *std::max_element(m, m + kLanes);
}

}  // namespace

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
      prob_(size_t(vocab)), bin_mass_(size_t(kBins)) {
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
  const float top = max_value(work_);
  if (p_.temperature <= 0.0f) {  // the first id holding the top (std::max_element's answer)
    out.ids[0] = int32_t(std::find(work_.begin(), work_.end(), top) - work_.begin());
    out.w[0] = 1.0f;
    out.n = 1;
    out.total = 1.0;
    out.greedy = true;
    return;
  }

  // Candidates in descending logit order (ties by id), and the mass the nucleus is a share of:
  // the top k and theirs; else every token's, the candidates being those the cuts can keep.
  auto by_logit = [&](int32_t a, int32_t b) {
    return work_[size_t(a)] > work_[size_t(b)] || (work_[size_t(a)] == work_[size_t(b)] && a < b);
  };
  const bool top_k = p_.top_k > 0 && p_.top_k < V_;
  const bool whole_mass = !top_k && (p_.top_p < 1.0f || p_.min_p > 0.0f);  // z from cut_candidates
  int64_t n = V_;
  double z = 0;
  if (top_k) {
    n = p_.top_k;
    // A heap of the best k so far with its worst on top; blocks of ids whose largest logit is
    // below that worst are passed over whole (an nth_element over the vocabulary took 1.2 ms a
    // token at 129k ids). The order is total, so the k and their order are fully determined.
    for (int64_t i = 0; i < n; ++i) idx_[size_t(i)] = int32_t(i);
    std::make_heap(idx_.begin(), idx_.begin() + n, by_logit);
    constexpr int64_t kBlock = 16;
    for (int64_t b = n; b < V_; b += kBlock) {
      const int64_t e = std::min(V_, b + kBlock);
      float m = work_[size_t(b)];
      for (int64_t i = b + 1; i < e; ++i) m = m < work_[size_t(i)] ? work_[size_t(i)] : m;
      if (m < work_[size_t(idx_[0])]) continue;
      for (int64_t i = b; i < e; ++i)
        if (by_logit(int32_t(i), idx_[0])) {
          std::pop_heap(idx_.begin(), idx_.begin() + n, by_logit);
          idx_[size_t(n - 1)] = int32_t(i);
          std::push_heap(idx_.begin(), idx_.begin() + n, by_logit);
        }
    }
  } else if (whole_mass) {
    n = cut_candidates(top, z);
  } else {
    for (int64_t i = 0; i < V_; ++i) idx_[size_t(i)] = int32_t(i);
  }
  std::sort(idx_.begin(), idx_.begin() + n, by_logit);
  for (int64_t i = 0; i < n; ++i) prob_[size_t(i)] = std::exp(work_[size_t(idx_[size_t(i)])] - top);
  if (!whole_mass)
    for (int64_t i = 0; i < n; ++i) z += prob_[size_t(i)];
  // The nucleus and min-p cuts on the untempered probabilities prob_ (the top's is 1).
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

int64_t Sampler::cut_candidates(float top, double& z) {
  // Every token's untempered weight, binned by (top - logit) in steps of 1/kPerNat: the bins
  // from the top whose mass reaches top_p of the whole (and those within min-p's ratio) hold
  // every token the cuts can keep, and are a prefix of the sorted order; one bin more covers
  // rounding between these sums and the exact ones over the sorted candidates.
  auto bin = [&](float logit) {
    const float d = (top - logit) * float(kPerNat);
    return d < float(kBins - 1) ? int64_t(d) : kBins - 1;  // -inf and far tails in the last
  };
  // Logits more than 80 below the top (-inf ones too) count as 80 below: e^-80 of a weight.
  for (int64_t i = 0; i < V_; ++i) prob_[size_t(i)] = std::max(work_[size_t(i)], top - 80.0f);
  simd::kernels().exp_shift_sum(prob_.data(), V_, top);
  std::fill(bin_mass_.begin(), bin_mass_.end(), 0.0);
  z = 0;
  for (int64_t i = 0; i < V_; ++i) {
    bin_mass_[size_t(bin(work_[size_t(i)]))] += prob_[size_t(i)];
    z += prob_[size_t(i)];
  }
  int64_t last = kBins - 1;
  if (p_.top_p < 1.0f) {
    double c = 0;
    for (int64_t b = 0; b < kBins; ++b)
      if ((c += bin_mass_[size_t(b)]) >= double(p_.top_p) * z) {
        last = b;
        break;
      }
  }
  if (p_.min_p > 0.0f) last = std::min(last, int64_t(-std::log(p_.min_p) * float(kPerNat)));
  last = std::min(kBins - 1, last + 1);
  int64_t n = 0;
  for (int64_t i = 0; i < V_; ++i)
    if (bin(work_[size_t(i)]) <= last) idx_[size_t(n++)] = int32_t(i);
  return n;
}

}  // namespace dsinfer
