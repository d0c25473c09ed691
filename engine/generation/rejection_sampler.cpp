#include "engine/generation/rejection_sampler.h"

namespace dsinfer {

RejectionSampler::RejectionSampler(int64_t vocab) : q_by_id_(size_t(vocab), 0.0) {
  residual_.ids.resize(size_t(vocab));
  residual_.w.resize(size_t(vocab));
}

bool RejectionSampler::accept(Sampler& s, const TokenDistribution& p, const TokenDistribution& q, int32_t drafted) {
  if (p.greedy) return drafted == p.ids[0];
  const double pp = p.prob(drafted), qq = q.prob(drafted);
  if (pp >= qq) return true;
  return s.uniform() * qq < pp;
}

int32_t RejectionSampler::resample(Sampler& s, const TokenDistribution& p, const TokenDistribution& q) {
  if (p.greedy) return p.ids[0];
  for (int64_t i = 0; i < q.n; ++i) q_by_id_[size_t(q.ids[size_t(i)])] = double(q.w[size_t(i)]) / q.total;
  int64_t n = 0;
  double total = 0;
  for (int64_t i = 0; i < p.n; ++i) {
    const int32_t id = p.ids[size_t(i)];
    const double r = double(p.w[size_t(i)]) / p.total - q_by_id_[size_t(id)];
    if (r > 0) {
      residual_.ids[size_t(n)] = id;
      residual_.w[size_t(n)] = float(r);
      total += float(r);
      ++n;
    }
  }
  for (int64_t i = 0; i < q.n; ++i) q_by_id_[size_t(q.ids[size_t(i)])] = 0.0;
  if (n == 0 || !(total > 1e-12)) return s.draw(p);
  residual_.n = n;
  residual_.total = total;
  residual_.greedy = false;
  return s.draw(residual_);
}

}  // namespace dsinfer
