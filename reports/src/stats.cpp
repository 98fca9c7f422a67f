#include "edgeroof/reports/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace edgeroof::reports {

namespace {

void check_sample(const std::vector<double>& v, const char* which) {
  if (v.empty()) throw std::invalid_argument(std::string("Mann-Whitney U test: sample ") + which + " is empty");
  for (double d : v) {
    if (std::isnan(d))
      throw std::invalid_argument(std::string("Mann-Whitney U test: sample ") + which + " holds a NaN");
  }
}

struct Ranked {
  double rank_sum_x = 0.0;  // sum of the average ranks of x in the pooled sample
  double tie_term = 0.0;    // sum over groups of equal values of t^3 - t
  bool has_ties = false;
};

Ranked rank(const std::vector<double>& x, const std::vector<double>& y) {
  struct Item {
    double value;
    bool from_x;
  };
  std::vector<Item> pooled;
  pooled.reserve(x.size() + y.size());
  for (double v : x) pooled.push_back({v, true});
  for (double v : y) pooled.push_back({v, false});
  std::sort(pooled.begin(), pooled.end(), [](const Item& a, const Item& b) { return a.value < b.value; });
  Ranked r;
  for (std::size_t begin = 0; begin < pooled.size();) {
    std::size_t end = begin + 1;
    while (end < pooled.size() && pooled[end].value == pooled[begin].value) ++end;
    // Ranks are 1-based; a group of equal values shares the mean of the ranks it spans.
    const double t = static_cast<double>(end - begin);
    const double average_rank = 0.5 * (static_cast<double>(begin + 1) + static_cast<double>(end));
    for (std::size_t i = begin; i < end; ++i) {
      if (pooled[i].from_x) r.rank_sum_x += average_rank;
    }
    if (end - begin > 1) {
      r.has_ties = true;
      r.tie_term += t * t * t - t;
    }
    begin = end;
  }
  return r;
}

// P(U >= u) under the null hypothesis, from the exact counts.
double exact_survival(std::size_t m, std::size_t n, double u) {
  // The distribution of U is the same for sizes (m, n) and (n, m); the smaller first is cheaper.
  const std::vector<double> counts = u_statistic_counts(std::min(m, n), std::max(m, n));
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  // U is a whole number without ties; the exact method is only chosen then.
  const auto first = static_cast<std::size_t>(std::ceil(u));
  double tail = 0.0;
  for (std::size_t k = first; k < counts.size(); ++k) tail += counts[k];
  return tail / total;
}

// The standard normal survival function.
double normal_survival(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

}  // namespace

std::vector<double> u_statistic_counts(std::size_t m, std::size_t n) {
  // Walk the pooled sample in increasing order. ways[k][u] counts the orderings of the values seen
  // so far in which k belong to the first sample and they exceed u values of the second; a value
  // of the first sample placed after j values of the second adds j to U. Additions only, so the
  // counts stay exact in doubles up to 2^53 and lose no small terms beyond.
  const std::size_t max_u = m * n;
  std::vector<std::vector<double>> ways(m + 1, std::vector<double>(max_u + 1, 0.0));
  ways[0][0] = 1.0;
  for (std::size_t seen = 0; seen < m + n; ++seen) {
    const std::size_t k_max = std::min(seen, m);
    for (std::size_t k = k_max + 1; k-- > 0;) {
      const std::size_t from_y = seen - k;
      if (from_y > n || k + 1 > m) continue;
      // Place the next value in the first sample: k -> k+1, U grows by the second sample's count.
      for (std::size_t u = max_u + 1; u-- > 0;) {
        if (ways[k][u] != 0.0 && u + from_y <= max_u) ways[k + 1][u + from_y] += ways[k][u];
      }
    }
    // Entries with k values of the first sample and more than n of the second cannot occur;
    // clear them so they do not feed later steps.
    if (seen + 1 > n) {
      const std::size_t k_min = seen + 1 - n;
      for (std::size_t k = 0; k < k_min && k <= m; ++k) std::fill(ways[k].begin(), ways[k].end(), 0.0);
    }
  }
  return ways[m];
}

UTestMethod choose_u_test_method(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() > 8 && y.size() > 8) return UTestMethod::asymptotic;
  std::vector<double> pooled(x);
  pooled.insert(pooled.end(), y.begin(), y.end());
  std::sort(pooled.begin(), pooled.end());
  const bool ties = std::adjacent_find(pooled.begin(), pooled.end()) != pooled.end();
  return ties ? UTestMethod::asymptotic : UTestMethod::exact;
}

UTestResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y,
                           std::optional<UTestMethod> method) {
  check_sample(x, "x");
  check_sample(y, "y");
  const double n1 = static_cast<double>(x.size());
  const double n2 = static_cast<double>(y.size());
  const Ranked r = rank(x, y);
  UTestResult result;
  result.u1 = r.rank_sum_x - n1 * (n1 + 1.0) / 2.0;
  const double u2 = n1 * n2 - result.u1;
  // Two-sided: twice the upper tail of the larger of the two statistics.
  const double u = std::max(result.u1, u2);
  result.method = method ? *method : choose_u_test_method(x, y);
  double p = 0.0;
  if (result.method == UTestMethod::exact) {
    p = 2.0 * exact_survival(x.size(), y.size(), u);
  } else {
    const double n = n1 + n2;
    const double sigma = std::sqrt(n1 * n2 / 12.0 * ((n + 1.0) - r.tie_term / (n * (n - 1.0))));
    // Continuity: U is discrete, so half a unit of its mass at u belongs to the tail.
    const double z = (u - n1 * n2 / 2.0 - 0.5) / sigma;
    p = 2.0 * normal_survival(z);
  }
  result.pvalue = std::clamp(p, 0.0, 1.0);
  return result;
}

}  // namespace edgeroof::reports
