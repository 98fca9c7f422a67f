// `compare` on Google Benchmark JSON: synthetic runs with 9 repetitions and a fixed seed (same
// distribution, an injected 10% slowdown, an injected 10% energy increase), hand-checked changes and
// p-values, files without repetitions and unpaired benchmarks (the command: tests/cli/test_compare_cli.cpp).
#include "edgeroof/reports/compare.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "compare_runs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

namespace {

using namespace edgeroof::reports;
using namespace edgeroof::testing;

const MetricComparison& row(const Comparison& c, const std::string& name, const std::string& metric) {
  for (const auto& r : c.rows) {
    if (r.name == name && r.metric == metric) return r;
  }
  throw std::runtime_error("no row " + name + " " + metric);
}

// With +-2% noise and a 10% shift the two samples of 9 do not overlap: U = 81, and SciPy's
// normal approximation gives p = erfc(z / sqrt 2) with z = (81 - 40.5 - 0.5) / sqrt(81 * 19 / 12).
const double separated_9_vs_9 = std::erfc(40.0 / std::sqrt(81.0 * 19.0 / 12.0) / std::sqrt(2.0));

TEST(Compare, RelativeChangeAsComparePy) {
  EXPECT_DOUBLE_EQ(relative_change(10.0, 11.0), 0.1);
  EXPECT_DOUBLE_EQ(relative_change(-10.0, -11.0), -0.1);
  EXPECT_DOUBLE_EQ(relative_change(0.0, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(relative_change(0.0, 2.0), 2.0);  // against the mean of old and new
}

TEST(Compare, SameDistributionPasses) {
  const auto c = compare_results(results(spec(1), "a.json"), results(spec(2), "b.json"), {});
  EXPECT_EQ(c.regressions, 0);
  EXPECT_TRUE(c.unpaired.empty());
  EXPECT_TRUE(c.warnings.empty());
  // Six metrics for each of the two benchmarks.
  ASSERT_EQ(c.rows.size(), 12u);
  for (const auto& r : c.rows) {
    EXPECT_EQ(r.verdict, Verdict::same) << r.name << " " << r.metric;
    ASSERT_TRUE(r.pvalue.has_value());
    EXPECT_EQ(r.old_repetitions, 9u);
    EXPECT_EQ(r.new_repetitions, 9u);
    EXPECT_LT(std::fabs(r.change), 0.03);
  }
}

TEST(Compare, InjectedSlowdownFails) {
  RunSpec slow = spec(2);
  slow.slowdown = 1.10;
  slow.changed = triad;
  const auto c = compare_results(results(spec(1), "a.json"), results(slow, "b.json"), {});
  const auto& t = row(c, triad, "real_time");
  EXPECT_NEAR(t.change, 0.10, 0.02);
  EXPECT_NEAR(*t.pvalue, separated_9_vs_9, 1e-15);
  EXPECT_EQ(t.verdict, Verdict::slower);
  EXPECT_TRUE(t.regression);
  EXPECT_EQ(row(c, triad, "B/s").verdict, Verdict::slower);
  EXPECT_EQ(row(c, triad, "FLOP/s").verdict, Verdict::slower);
  EXPECT_NEAR(row(c, triad, "B/s").change, 1.0 / 1.1 - 1.0, 0.02);
  // cpu_time is slower too but does not gate; power_W fell, energy_J did not move.
  EXPECT_EQ(row(c, triad, "cpu_time").verdict, Verdict::slower);
  EXPECT_FALSE(row(c, triad, "cpu_time").regression);
  EXPECT_EQ(row(c, triad, "energy_J").verdict, Verdict::same);
  EXPECT_EQ(row(c, triad, "power_W").verdict, Verdict::better);
  EXPECT_EQ(row(c, fp32, "real_time").verdict, Verdict::same);
  EXPECT_EQ(c.regressions, 3);  // real_time, FLOP/s, B/s of the triad
  // A threshold above the change lets it pass.
  CompareOptions loose;
  loose.threshold = 0.15;
  EXPECT_EQ(compare_results(results(spec(1), "a.json"), results(slow, "b.json"), loose).regressions, 0);
}

TEST(Compare, InjectedEnergyIncreaseFails) {
  RunSpec hungry = spec(2);
  hungry.energy_factor = 1.10;
  hungry.changed = fp32;
  const auto c = compare_results(results(spec(1), "a.json"), results(hungry, "b.json"), {});
  const auto& e = row(c, fp32, "energy_J");
  EXPECT_NEAR(e.change, 0.10, 0.02);
  EXPECT_NEAR(*e.pvalue, separated_9_vs_9, 1e-15);
  EXPECT_EQ(e.verdict, Verdict::worse);
  EXPECT_TRUE(e.regression);
  EXPECT_EQ(row(c, fp32, "power_W").verdict, Verdict::worse);
  EXPECT_FALSE(row(c, fp32, "power_W").regression);
  EXPECT_EQ(row(c, fp32, "real_time").verdict, Verdict::same);
  EXPECT_EQ(c.regressions, 1);
  // Less energy is better, never a regression.
  const auto back = compare_results(results(hungry, "b.json"), results(spec(1), "a.json"), {});
  EXPECT_EQ(row(back, fp32, "energy_J").verdict, Verdict::better);
  EXPECT_EQ(back.regressions, 0);
}

// Three repetitions a side, written out: the change is on the means, the p-value exact.
std::string three_reps(const std::string& name, double a, double b, double c) {
  std::string out = R"({"benchmarks": [)";
  const double v[] = {a, b, c};
  for (int i = 0; i < 3; ++i) {
    out += std::string(i ? "," : "") + R"({"name": ")" + name + R"(", "run_name": ")" + name +
           R"(", "run_type": "iteration", "repetitions": 3, "repetition_index": )" + std::to_string(i) +
           R"(, "iterations": 100, "real_time": )" + number(v[i]) + R"(, "cpu_time": )" + number(v[i]) +
           R"(, "time_unit": "ns"})";
  }
  return out + "]}";
}

TEST(Compare, ChangeOfMeansAndExactPValue) {
  // Means 12 and 16: change 4/12. No overlap of 3 vs 3: U = 9, exact p = 2/20 = 0.1, not
  // significant at 0.05, so a 33% slowdown is "same" -- and a warning says 3 is too few.
  const auto old_file = parse_results(three_reps("BM_x", 10, 12, 14), "old.json");
  const auto new_file = parse_results(three_reps("BM_x", 17, 15, 16), "new.json");
  const auto c = compare_results(old_file, new_file, {});
  const auto& t = row(c, "BM_x", "real_time");
  EXPECT_DOUBLE_EQ(t.old_value, 12e-9);
  EXPECT_DOUBLE_EQ(t.new_value, 16e-9);
  EXPECT_NEAR(t.change, 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(*t.pvalue, 0.1, 1e-15);
  EXPECT_EQ(t.verdict, Verdict::same);
  EXPECT_EQ(c.regressions, 0);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("fewer than 9 repetitions"), std::string::npos);
  // At alpha 0.2 the same data is a significant slowdown.
  CompareOptions lax;
  lax.alpha = 0.2;
  EXPECT_EQ(compare_results(old_file, new_file, lax).regressions, 1);
}

TEST(Compare, WithoutRepetitionsNoPValueAndNoFailure) {
  RunSpec one = spec(1);
  one.repetitions = 1;
  RunSpec slow = one;
  slow.seed = 2;
  slow.slowdown = 1.5;
  slow.changed = fp32;
  const auto c = compare_results(results(one, "a.json"), results(slow, "b.json"), {});
  const auto& t = row(c, fp32, "real_time");
  EXPECT_FALSE(t.pvalue.has_value());
  EXPECT_EQ(t.old_repetitions, 1u);
  EXPECT_EQ(t.verdict, Verdict::slower);  // the direction is shown ...
  EXPECT_FALSE(t.regression);             // ... but nothing untested fails
  EXPECT_EQ(c.regressions, 0);
  ASSERT_FALSE(c.warnings.empty());
  EXPECT_NE(c.warnings[0].find("no U test"), std::string::npos);
  const auto j = to_json(c);
  EXPECT_TRUE(j["comparisons"][0]["pvalue"].is_null());
  EXPECT_EQ(j["comparisons"][0]["repetitions"], nlohmann::json::array({1, 1}));
}

TEST(Compare, AggregatesOnlyFilesCompareTheirMeans) {
  // --benchmark_report_aggregates_only: no repetitions in the file, only mean/median/stddev.
  RunSpec a = spec(1);
  a.aggregates_only = true;
  RunSpec b = a;
  b.seed = 2;
  const auto full_a = results(spec(1), "a.json");
  const auto c = compare_results(results(a, "a.json"), results(b, "b.json"), {});
  const auto& t = row(c, fp32, "real_time");
  EXPECT_FALSE(t.pvalue.has_value());
  // The mean aggregate is the mean of the repetitions the full file holds.
  EXPECT_NEAR(t.old_value, row(compare_results(full_a, full_a, {}), fp32, "real_time").old_value, 1e-15);
}

TEST(Compare, UnpairedBenchmarksAreReported) {
  auto a = results(spec(1), "a.json");
  auto b = results(spec(2), "b.json");
  // Rename the triad in b: it is then only in a, and the new name only in b.
  for (auto& r : b.benchmarks) {
    if (r.run_name == triad) r.run_name = "memory/cpu/triad/bytes:134217728";
  }
  const auto c = compare_results(a, b, {});
  ASSERT_EQ(c.unpaired.size(), 2u);
  EXPECT_EQ(c.unpaired[0].name, triad);
  EXPECT_EQ(c.unpaired[0].reason, "only in old");
  EXPECT_EQ(c.unpaired[1].name, "memory/cpu/triad/bytes:134217728");
  EXPECT_EQ(c.unpaired[1].reason, "only in new");
  EXPECT_EQ(c.regressions, 0);
  const auto j = to_json(c);
  EXPECT_EQ(j["unpaired"].size(), 2u);
  EXPECT_EQ(j["unpaired"][0]["present_in"], "old");
}

TEST(Compare, FailingNowIsARegression) {
  auto b = results(spec(2), "b.json");
  for (auto& r : b.benchmarks) {
    if (r.run_name == fp32) {
      r.error = true;
      r.error_message = "result check failed";
    }
  }
  const auto c = compare_results(results(spec(1), "a.json"), b, {});
  ASSERT_EQ(c.unpaired.size(), 1u);
  EXPECT_EQ(c.unpaired[0].reason, "failed in new: result check failed");
  EXPECT_EQ(c.regressions, 1);
}

TEST(Compare, FilterAndNothingInCommon) {
  CompareOptions only_triad;
  only_triad.filter = "triad";
  const auto c = compare_results(results(spec(1), "a.json"), results(spec(2), "b.json"), only_triad);
  ASSERT_EQ(c.rows.size(), 6u);
  EXPECT_EQ(c.rows[0].name, triad);
  CompareOptions none;
  none.filter = "^layer/";
  EXPECT_THROW((void)compare_results(results(spec(1), "a.json"), results(spec(2), "b.json"), none), InputError);
  CompareOptions bad;
  bad.filter = "(";
  EXPECT_THROW((void)compare_results(results(spec(1), "a.json"), results(spec(2), "b.json"), bad), InputError);
}

// ---- throttled runs ----

TEST(Compare, ThrottledRunsAreMarkedAndStillGate) {
  RunSpec slow = spec(2);
  slow.slowdown = 1.10;
  slow.changed = triad;
  const auto old_file = parse_results(gb_json(spec(1)), "a.json");
  const auto new_file = parse_results(with_throttled(gb_json(slow), triad, 1), "b.json");
  const auto c = compare_results(old_file, new_file, {});
  const auto& t = row(c, triad, "real_time");
  EXPECT_TRUE(t.new_throttled);
  EXPECT_FALSE(t.old_throttled);
  EXPECT_TRUE(t.regression);  // still a regression ...
  EXPECT_EQ(c.regressions, 3);
  EXPECT_EQ(c.throttled_regressions, 3);  // ... and said to be on a throttled run
  EXPECT_FALSE(row(c, fp32, "real_time").throttled());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].rfind("1 benchmark(s) ran throttled", 0), 0u) << c.warnings[0];
  const auto j = to_json(c);
  EXPECT_EQ(j["throttled_regressions"], 3);
  for (const auto& r : j["comparisons"]) {
    EXPECT_EQ(r["throttled"], r["name"] == triad) << r["name"];
    EXPECT_EQ(r["throttled_in"], r["name"] == triad ? nlohmann::json::array({"new"}) : nlohmann::json::array());
  }
}

TEST(Compare, FilterIsAPosixExtendedRegex) {
  CompareOptions either;
  either.filter = "(triad|fp32)/";
  EXPECT_EQ(compare_results(results(spec(1), "a.json"), results(spec(2), "b.json"), either).rows.size(), 12u);
  EXPECT_TRUE(NameFilter("^memory/cpu/[a-z]+/bytes:[0-9]+$").matches(triad));
  EXPECT_FALSE(NameFilter("^memory/cpu/[a-z]+/bytes:[0-9]+$").matches(fp32));
  EXPECT_FALSE(NameFilter("TRIAD").matches(triad));  // case counts
  for (const std::string& bad :
       std::vector<std::string>{"(", "a{2,1}", "(a)\\1", "((a{255}){255}){255}", std::string(1025, 'a')}) {
    EXPECT_THROW((void)NameFilter(bad), InputError) << bad.substr(0, 40);
  }
  EXPECT_NO_THROW((void)NameFilter(std::string(1024, 'a')));
  EXPECT_NO_THROW((void)NameFilter(std::string(500, '(') + "a" + std::string(500, ')')));  // nested, but short
}

}  // namespace
