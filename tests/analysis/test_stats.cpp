// The Mann-Whitney U test against values derived by hand: exact tails by enumerating orderings,
// the normal approximation from its formula with the tie term counted by hand.
#include "edgeroof/reports/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

namespace {

using edgeroof::reports::choose_u_test_method;
using edgeroof::reports::mann_whitney_u;
using edgeroof::reports::u_statistic_counts;
using edgeroof::reports::UTestMethod;

double two_sided_normal(double z) { return std::erfc(z / std::sqrt(2.0)); }

TEST(UStatisticCounts, TwoByTwoEnumerated) {
  // Orderings of {x,x,y,y}: xxyy U=0, xyxy 1, xyyx 2, yxxy 2, yxyx 3, yyxx 4.
  const auto c = u_statistic_counts(2, 2);
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0], 1.0);
  EXPECT_EQ(c[1], 1.0);
  EXPECT_EQ(c[2], 2.0);
  EXPECT_EQ(c[3], 1.0);
  EXPECT_EQ(c[4], 1.0);
}

TEST(UStatisticCounts, ThreeByThreeArePartitionsInABox) {
  // counts[u] = partitions of u into at most 3 parts, each at most 3 (the Gaussian binomial
  // [6 choose 3]): 1 1 2 3 3 3 3 2 1 1, summing to C(6,3) = 20.
  const auto c = u_statistic_counts(3, 3);
  const std::vector<double> expected{1, 1, 2, 3, 3, 3, 3, 2, 1, 1};
  EXPECT_EQ(c, expected);
}

TEST(UStatisticCounts, UnequalSizesSumToBinomial) {
  const auto c = u_statistic_counts(4, 5);
  ASSERT_EQ(c.size(), 21u);
  EXPECT_EQ(std::accumulate(c.begin(), c.end(), 0.0), 126.0);  // C(9,4)
  // u <= 3: partitions of 0,1,2,3 into at most 4 parts: 1 + 1 + 2 + 3.
  EXPECT_EQ(c[0] + c[1] + c[2] + c[3], 7.0);
  EXPECT_EQ(c[3], c[17]);  // symmetric about m*n/2
}

TEST(UStatisticCounts, MatchBruteForceEnumeration) {
  // Every placement of m first-sample values among m + n ordered positions, U counted directly.
  for (const auto& [m, n] :
       std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}, {2, 3}, {3, 5}, {4, 4}, {5, 6}, {1, 8}}) {
    std::vector<double> expected(m * n + 1, 0.0);
    for (unsigned mask = 0; mask < (1u << (m + n)); ++mask) {
      if (static_cast<std::size_t>(__builtin_popcount(mask)) != m) continue;
      std::size_t u = 0, second_seen = 0;
      for (std::size_t pos = 0; pos < m + n; ++pos) {
        if (mask & (1u << pos))
          u += second_seen;
        else
          ++second_seen;
      }
      expected[u] += 1.0;
    }
    EXPECT_EQ(u_statistic_counts(m, n), expected) << m << " x " << n;
  }
}

TEST(MannWhitneyU, CompleteSeparationThreeByThree) {
  // Only the ordering yyyxxx reaches U = 9: p = 2 * 1/20.
  const auto r = mann_whitney_u({4, 5, 6}, {1, 2, 3});
  EXPECT_EQ(r.method, UTestMethod::exact);
  EXPECT_DOUBLE_EQ(r.u1, 9.0);
  EXPECT_DOUBLE_EQ(r.pvalue, 0.1);
  // Swapping the samples keeps the two-sided p-value; U1 becomes m*n - U1.
  const auto s = mann_whitney_u({1, 2, 3}, {4, 5, 6});
  EXPECT_DOUBLE_EQ(s.u1, 0.0);
  EXPECT_DOUBLE_EQ(s.pvalue, 0.1);
}

TEST(MannWhitneyU, TwoByTwo) {
  // U = 4 has 1 of 6 orderings: p = 2/6.
  EXPECT_DOUBLE_EQ(mann_whitney_u({1, 2}, {3, 4}).pvalue, 1.0 / 3.0);
  // Interleaved x y x y: U1 = 1, U = max(1, 3) = 3; P(U >= 3) = 2/6, p = 4/6.
  EXPECT_DOUBLE_EQ(mann_whitney_u({1, 3}, {2, 4}).pvalue, 2.0 / 3.0);
}

TEST(MannWhitneyU, FiveByFourExactAndAsymptotic) {
  // x ranks in the pooled 9 values: 16->3, 19->5, 22->7, 24->8, 29->9; R1 = 32, U1 = 32 - 15 = 17.
  // U = 17 and P(U >= 17) = P(U <= 3) = 7/126, so p = 14/126 = 1/9.
  const std::vector<double> x{19, 22, 16, 29, 24};
  const std::vector<double> y{20, 11, 17, 12};
  const auto exact = mann_whitney_u(x, y);
  EXPECT_EQ(exact.method, UTestMethod::exact);
  EXPECT_DOUBLE_EQ(exact.u1, 17.0);
  EXPECT_DOUBLE_EQ(exact.pvalue, 1.0 / 9.0);
  // Normal approximation: mu = 10, sigma^2 = 20/12 * 10, z = (17 - 10 - 0.5) / sigma.
  const auto approx = mann_whitney_u(x, y, UTestMethod::asymptotic);
  EXPECT_NEAR(approx.pvalue, two_sided_normal(6.5 / std::sqrt(200.0 / 12.0)), 1e-15);
  EXPECT_NEAR(approx.pvalue, 0.111346886533, 1e-11);
}

TEST(MannWhitneyU, TiesUseTheCorrectedNormalApproximation) {
  // Pooled: 1 | 2 2 2 | 3 3 | 4 | 5 -> ranks 1 | 3 3 3 | 5.5 5.5 | 7 | 8.
  // x = {1,2,2,3}: R1 = 1 + 3 + 3 + 5.5 = 12.5, U1 = 12.5 - 10 = 2.5, U = 16 - 2.5 = 13.5.
  // Tie term: (27 - 3) + (8 - 2) = 30. sigma^2 = 16/12 * (9 - 30/56).
  const std::vector<double> x{1, 2, 2, 3};
  const std::vector<double> y{2, 3, 4, 5};
  EXPECT_EQ(choose_u_test_method(x, y), UTestMethod::asymptotic);
  const auto r = mann_whitney_u(x, y);
  EXPECT_EQ(r.method, UTestMethod::asymptotic);
  EXPECT_DOUBLE_EQ(r.u1, 2.5);
  const double sigma = std::sqrt(16.0 / 12.0 * (9.0 - 30.0 / 56.0));
  EXPECT_NEAR(r.pvalue, two_sided_normal((13.5 - 8.0 - 0.5) / sigma), 1e-15);
  EXPECT_NEAR(r.pvalue, 0.1366582477, 1e-9);
}

TEST(MannWhitneyU, AllEqualGivesOne) {
  // sigma = 0 and U sits on its mean: no evidence at all.
  EXPECT_DOUBLE_EQ(mann_whitney_u({7, 7, 7}, {7, 7}).pvalue, 1.0);
}

TEST(MannWhitneyU, MethodFollowsSampleSizes) {
  // Exact while one sample has at most 8 values; normal approximation once both have 9.
  std::vector<double> low9, high9, high8;
  for (int i = 0; i < 9; ++i) {
    low9.push_back(i);
    high9.push_back(100 + i);
  }
  high8.assign(high9.begin(), high9.end() - 1);
  const auto exact = mann_whitney_u(low9, high8);
  EXPECT_EQ(exact.method, UTestMethod::exact);
  EXPECT_DOUBLE_EQ(exact.pvalue, 2.0 / 24310.0);  // 2 / C(17, 8)
  const auto approx = mann_whitney_u(low9, high9);
  EXPECT_EQ(approx.method, UTestMethod::asymptotic);
  // U = 81, mu = 40.5, sigma^2 = 81 * 19 / 12.
  EXPECT_NEAR(approx.pvalue, two_sided_normal(40.0 / std::sqrt(81.0 * 19.0 / 12.0)), 1e-18);
  EXPECT_NEAR(approx.pvalue, 4.122948e-4, 1e-9);
}

TEST(MannWhitneyU, ComparePyFigures) {
  // compare.py's own unit tests (tools/gbench/report.py, test3_run0 against test3_run1) print
  // SciPy's p-values for BM_Two (2 vs 2, exact) and short (2 vs 3, tied: normal approximation).
  EXPECT_NEAR(mann_whitney_u({9, 8}, {10, 7}).pvalue, 1.0, 1e-15);
  EXPECT_NEAR(mann_whitney_u({90, 86}, {89, 72}).pvalue, 0.6666666666666666, 1e-15);
  EXPECT_NEAR(mann_whitney_u({8, 8}, {7, 4.54, 800}).pvalue, 0.7670968684102772, 1e-15);
  EXPECT_NEAR(mann_whitney_u({80, 77}, {75, 66.6, 1}).pvalue, 0.2, 1e-15);
}

// C(m+n, m) in long double, for references independent of the code under test.
long double binomial(unsigned m, unsigned n) {
  long double c = 1.0L;
  for (unsigned i = 1; i <= m; ++i) c = c * (n + i) / i;
  return c;
}

TEST(UStatisticCounts, EightAgainstThirtyThousandAreTheGaussianBinomial) {
  // For u <= n the counts are the partitions of u into parts of at most m = 8: for u <= 8 all
  // partitions (1 1 2 3 5 7 11 15 22), for u = 9 all 30 but "9" itself.
  const auto c = u_statistic_counts(8, 30000);
  ASSERT_EQ(c.size(), 240001u);
  const std::vector<double> low{1, 1, 2, 3, 5, 7, 11, 15, 22, 29};
  EXPECT_EQ(std::vector<double>(c.begin(), c.begin() + 10), low);
  EXPECT_EQ(c[1], c[239999]);  // symmetric about m*n/2
  EXPECT_EQ(c[123], c[240000 - 123]);
  const long double total = std::accumulate(c.begin(), c.end(), 0.0L);
  EXPECT_NEAR(static_cast<double>(total / binomial(8, 30000)), 1.0, 1e-12);
}

TEST(MannWhitneyU, EightAgainstThirtyThousandExactTail) {
  // 8 values below all but three of 30,000 (U = 3, no ties): SciPy takes the exact distribution.
  // P(U <= 3) = (1 + 1 + 2 + 3) / C(30008, 8), two-sided twice that.
  std::vector<double> small{1, 2, 3, 4, 5, 6, 7, 103.5};
  std::vector<double> big;
  for (int i = 1; i <= 30000; ++i) big.push_back(100.0 + i);
  const auto r = mann_whitney_u(small, big);
  EXPECT_EQ(r.method, UTestMethod::exact);
  EXPECT_DOUBLE_EQ(r.u1, 3.0);
  EXPECT_NEAR(r.pvalue / static_cast<double>(14.0L / binomial(8, 30000)), 1.0, 1e-12);
  // The middle of the distribution: U1 = 120000 exactly (every small value above half of big).
  std::vector<double> middle(8, 0.0);
  for (int i = 0; i < 8; ++i) middle[i] = 15100.5 + 0.001 * i;
  const auto m = mann_whitney_u(middle, big);
  EXPECT_DOUBLE_EQ(m.u1, 120000.0);
  EXPECT_NEAR(m.pvalue, 1.0, 1e-9);
}

TEST(MannWhitneyU, RejectsEmptyAndNaN) {
  EXPECT_THROW((void)mann_whitney_u({}, {1.0}), std::invalid_argument);
  EXPECT_THROW((void)mann_whitney_u({1.0, std::nan("")}, {1.0}), std::invalid_argument);
}

}  // namespace
