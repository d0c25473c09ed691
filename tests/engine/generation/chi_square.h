// Chi-square tests for the sampling tests: goodness of fit of counts to probabilities, and
// homogeneity of two histograms. Categories whose expected count is small are pooled, and the
// tail probability uses the Wilson-Hilferty normal approximation (good to a few percent of
// the p-value at the degrees of freedom used here).
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

namespace dsinfer::test {

struct ChiSquare {
  double stat = 0;
  int df = 0;
  double p_value = 1;
};

inline double chi_square_tail(double x, int df) {
  if (df <= 0) return 1.0;
  const double k = df, z = (std::cbrt(x / k) - (1 - 2 / (9 * k))) / std::sqrt(2 / (9 * k));
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

// counts[i] observed for probability p[i]; categories expecting fewer than 5 pooled.
inline ChiSquare goodness_of_fit(const std::vector<int64_t>& counts, const std::vector<double>& p) {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  ChiSquare r;
  double pooled_obs = 0, pooled_exp = 0;
  int cats = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double e = p[i] * double(n);
    if (e < 5) {
      pooled_obs += double(counts[i]);
      pooled_exp += e;
      continue;
    }
    r.stat += (double(counts[i]) - e) * (double(counts[i]) - e) / e;
    ++cats;
  }
  if (pooled_exp >= 5) {
    r.stat += (pooled_obs - pooled_exp) * (pooled_obs - pooled_exp) / pooled_exp;
    ++cats;
  } else if (pooled_obs > 0 && pooled_exp < 1e-12) {
    r.stat = INFINITY;  // something observed that should never happen
  }
  r.df = cats - 1;
  r.p_value = std::isinf(r.stat) ? 0.0 : chi_square_tail(r.stat, r.df);
  return r;
}

// Whether histograms a and b (token -> count) could come from one distribution: the 2 x k
// contingency table, categories with fewer than 10 in all pooled.
inline ChiSquare homogeneity(const std::map<int32_t, int64_t>& a, const std::map<int32_t, int64_t>& b) {
  std::map<int32_t, std::pair<double, double>> t;
  double na = 0, nb = 0;
  for (auto [k, c] : a) t[k].first += double(c), na += double(c);
  for (auto [k, c] : b) t[k].second += double(c), nb += double(c);
  std::vector<std::pair<double, double>> cells;
  std::pair<double, double> pool{0, 0};
  for (auto& [k, c] : t) {
    if (c.first + c.second < 10) {
      pool.first += c.first;
      pool.second += c.second;
    } else {
      cells.push_back(c);
    }
  }
  if (pool.first + pool.second > 0) cells.push_back(pool);
  ChiSquare r;
  const double n = na + nb;
  for (auto [x, y] : cells) {
    const double col = x + y, ea = col * na / n, eb = col * nb / n;
    r.stat += (x - ea) * (x - ea) / ea + (y - eb) * (y - eb) / eb;
  }
  r.df = int(cells.size()) - 1;
  r.p_value = chi_square_tail(r.stat, r.df);
  return r;
}

}  // namespace dsinfer::test
