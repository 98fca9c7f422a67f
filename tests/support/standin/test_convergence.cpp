// The convergence benchmark on a small grid of the stand-in: error falls as the budget doubles,
// the intervals cover the truth near their stated rate, and the tuner keeps its bound.
#include "convergence.hpp"

#include <gtest/gtest.h>

namespace {

using namespace edgeroof;

standin::ConvergenceOptions small_grid() {
  standin::ConvergenceOptions o;
  o.grid = power::parse_grid_spec(
      "cores=4,12;cpu=576000,1190400,1804800,2201600;gpu=114750000,318750000,624750000,828750000,1032750000,"
      "1300500000;emc=665600000,2133000000,3199000000");
  o.budgets = {11, 22, 44};
  o.noise.aggregates = false;
  return o;
}

TEST(Convergence, ErrorFallsWithTheBudgetOnASmallGrid) {
  const auto r = standin::run_convergence(small_grid());
  ASSERT_EQ(r.modes, 144u);
  ASSERT_EQ(r.budgets.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(r.budgets[i].measured, small_grid().budgets[i]);
  for (std::size_t w = 0; w < 2; ++w) {
    const auto& at11 = r.budgets[0].workloads[w];
    const auto& at44 = r.budgets[2].workloads[w];
    SCOPED_TRACE(at11.model);
    EXPECT_LT(at44.latency_mape, at11.latency_mape);
    EXPECT_LT(at44.energy_mape, at11.energy_mape);
    EXPECT_LT(at44.latency_mape, 0.03);
    EXPECT_LT(at44.energy_mape, 0.03);
    EXPECT_LT(at44.latency_mape, at44.baseline_latency_mape);
    EXPECT_LE(at44.true_slowdown, 0.06);
  }
  const auto& last = r.budgets.back();
  ASSERT_GT(last.intervals, 500u);
  EXPECT_GT(last.coverage(), 0.80);
  EXPECT_LE(last.coverage(), 1.0);
}

TEST(Convergence, BudgetsMustAscendWithinTheGrid) {
  auto o = small_grid();
  o.budgets = {22, 11};
  EXPECT_THROW((void)standin::run_convergence(o), std::invalid_argument);
  o.budgets = {145};
  EXPECT_THROW((void)standin::run_convergence(o), std::invalid_argument);
}

}  // namespace
