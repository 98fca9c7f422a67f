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
  std::vector<double> pooled(x);
  pooled.insert(pooled.end(), y.begin(), y.end());
  const std::vector<double> ranks = average_ranks(pooled);
  Ranked r;
  for (std::size_t i = 0; i < x.size(); ++i) r.rank_sum_x += ranks[i];
  // Equal values share one average rank and distinct groups never do, so groups of equal ranks
  // are the groups of equal values.
  std::vector<double> sorted(ranks);
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t begin = 0; begin < sorted.size();) {
    std::size_t end = begin + 1;
    while (end < sorted.size() && sorted[end] == sorted[begin]) ++end;
    const double t = static_cast<double>(end - begin);
    if (end - begin > 1) {
      r.has_ties = true;
      r.tie_term += t * t * t - t;
    }
    begin = end;
  }
  return r;
}

// counts[u] for u = 0 .. last of the distribution of U for samples of m and n values, m <= n.
// They are the coefficients of the Gaussian binomial [m+n choose m](q) = prod over i = 1 .. m of
// (1 - q^(n+i)) / (1 - q^i): after step i the array holds [n+i choose i](q), whose coefficients
// are counts again, so nothing grows beyond C(m+n, m). Multiplying by 1 - q^k and dividing by
// 1 - q^i are one pass each, so this is O(m * last) -- linear in n for the m <= 8 where SciPy
// takes the exact distribution -- where a walk over the pooled sample is O(m * (m+n) * m*n).
// Below u = n+1 no subtraction happens, so the small tails a p-value sums stay exact; above, the
// rounding of the subtractions is of the order of 1e-16 of the largest count, so only the lower
// half (which the symmetry of U makes enough) is asked for.
std::vector<double> lower_counts(std::size_t m, std::size_t n, std::size_t last) {
  std::vector<double> c(last + 1, 0.0);
  c[0] = 1.0;
  for (std::size_t i = 1; i <= m; ++i) {
    const std::size_t k = n + i;
    for (std::size_t u = last + 1; u-- > k;) c[u] -= c[u - k];
    for (std::size_t u = i; u <= last; ++u) c[u] += c[u - i];
  }
  for (double& count : c) count = std::max(count, 0.0);  // rounding noise where counts are large
  return c;
}

// C(m+n, m) as a double, multiplied in the order that keeps every partial product a whole number.
double binomial(std::size_t m, std::size_t n) {
  double out = 1.0;
  for (std::size_t i = 1; i <= m; ++i) out = out * static_cast<double>(n + i) / static_cast<double>(i);
  return out;
}

// P(U >= u) under the null hypothesis, from the exact counts. U is symmetric about m*n/2, so this
// is P(U <= m*n - u), the lower tail, which needs only the counts up to m*n - u.
double exact_survival(std::size_t m, std::size_t n, double u) {
  const std::size_t small = std::min(m, n), large = std::max(m, n);
  // U is a whole number without ties; the exact method is only chosen then.
  const double mirrored = static_cast<double>(small * large) - std::ceil(u);
  if (mirrored < 0.0) return 0.0;
  const auto last = static_cast<std::size_t>(mirrored);
  const std::vector<double> counts = lower_counts(small, large, last);
  const double tail = std::accumulate(counts.begin(), counts.end(), 0.0);
  return std::min(1.0, std::max(0.0, tail) / binomial(small, large));
}

// The standard normal survival function.
double normal_survival(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t begin = 0; begin < order.size();) {
    std::size_t end = begin + 1;
    while (end < order.size() && values[order[end]] == values[order[begin]]) ++end;
    // Ranks are 1-based; a group of equal values shares the mean of the ranks it spans.
    const double average_rank = 0.5 * (static_cast<double>(begin + 1) + static_cast<double>(end));
    for (std::size_t i = begin; i < end; ++i) ranks[order[i]] = average_rank;
    begin = end;
  }
  return ranks;
}

std::optional<double> spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw std::invalid_argument("Spearman's rho: the two samples differ in length");
  for (const auto* v : {&x, &y}) {
    if (std::any_of(v->begin(), v->end(), [](double d) { return std::isnan(d); }))
      throw std::invalid_argument("Spearman's rho: a sample holds a NaN");
  }
  if (x.size() < 2) return std::nullopt;
  const auto rx = average_ranks(x), ry = average_ranks(y);
  // Both rank lists have the mean (n + 1) / 2, whatever the ties.
  const double mean = 0.5 * (static_cast<double>(x.size()) + 1.0);
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  if (sxx == 0.0 || syy == 0.0) return std::nullopt;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

std::vector<double> u_statistic_counts(std::size_t m, std::size_t n) {
  // The upper half by symmetry: there the subtractions of large counts would leave rounding noise
  // as large as 1e-16 of C(m+n, m), which swamps the small counts of the upper tail.
  const std::size_t max_u = m * n;
  std::vector<double> counts = lower_counts(std::min(m, n), std::max(m, n), max_u / 2);
  counts.resize(max_u + 1);
  for (std::size_t u = max_u / 2 + 1; u <= max_u; ++u) counts[u] = counts[max_u - u];
  return counts;
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
  const bool exact_allowed = x.size() <= 8 || y.size() <= 8;
  result.method = method ? *method : (exact_allowed && !r.has_ties ? UTestMethod::exact : UTestMethod::asymptotic);
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
