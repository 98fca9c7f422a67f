// Rank statistics: average ranks, Spearman's rho (findings.hpp), and the two-sided Mann-Whitney U
// test, computed the way SciPy's scipy.stats.mannwhitneyu(x, y, alternative="two-sided") computes it (SciPy >= 1.7, the
// default method "auto" with the continuity correction). Google Benchmark's tools/compare.py prints that p-value, so
// `edgeroof compare` and compare.py agree on the same files.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace edgeroof::reports {

enum class UTestMethod {
  exact,       // the exact null distribution of U (no tie correction)
  asymptotic,  // the normal approximation with tie and continuity corrections
};

struct UTestResult {
  double u1 = 0.0;      // U of the first sample (ties count one half)
  double pvalue = 1.0;  // two-sided
  UTestMethod method = UTestMethod::exact;
};

// SciPy's choice for method "auto": exact when at least one sample has 8 or fewer values and no
// value occurs twice in the two samples together; the normal approximation otherwise.
[[nodiscard]] UTestMethod choose_u_test_method(const std::vector<double>& x, const std::vector<double>& y);

// Two-sided Mann-Whitney U test of x against y. Without `method` it is chosen as SciPy does.
// Throws std::invalid_argument for an empty sample or a NaN.
[[nodiscard]] UTestResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y,
                                         std::optional<UTestMethod> method = std::nullopt);

// The 1-based rank of each value in ascending order, a group of equal values sharing the mean of
// the ranks it spans (SciPy's rankdata, method "average"). NaNs are not ordered: check first.
[[nodiscard]] std::vector<double> average_ranks(const std::vector<double>& values);

// Spearman's rank correlation of paired samples: Pearson's correlation of their average ranks, as
// scipy.stats.spearmanr computes it with ties. nullopt for fewer than 2 pairs or a sample whose
// values are all equal (no ranking to correlate). Throws std::invalid_argument for samples of
// different lengths or a NaN.
[[nodiscard]] std::optional<double> spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

// counts[u] = the number of the C(m+n, m) orderings of m values of one sample and n of the other
// (no ties) in which U of the first sample is u, for u = 0 .. m*n.
[[nodiscard]] std::vector<double> u_statistic_counts(std::size_t m, std::size_t n);

}  // namespace edgeroof::reports
