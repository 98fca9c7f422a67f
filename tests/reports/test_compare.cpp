// `compare` on Google Benchmark JSON: synthetic runs with 9 repetitions and a fixed seed (same
// distribution, an injected 10% slowdown, an injected 10% energy increase), hand-checked changes and
// p-values, files without repetitions, unpaired benchmarks, and the command's exit status.
#include "edgeroof/reports/compare.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "program.hpp"

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

struct Bench {
  std::string name;
  double time_ms;
  double flops;
  double bytes;
  double energy_J;  // < 0: no sensor, no energy counters
};

// The benchmarks of a run and how a run differs from the baseline.
struct RunSpec {
  unsigned seed = 1;
  int repetitions = 9;
  double slowdown = 1.0;       // time factor for `changed`
  double energy_factor = 1.0;  // energy factor for `changed`
  std::string changed;         // benchmark the factors apply to
  bool aggregates_only = false;
};

const std::vector<Bench> suite = {
    {"compute/cpu/fp32/ai:16", 40.0, 1.6e10, 1.0e9, 2.0},
    {"memory/cpu/triad/bytes:67108864", 5.0, 8.4e6, 1.0e8, 0.25},
};

// Uniform in [-1, 1] from the raw 32-bit outputs of mt19937, which the standard fixes exactly
// (its distributions it does not), so the files are the same with every library.
struct Noise {
  std::mt19937 rng;
  explicit Noise(unsigned seed) : rng(seed) {}
  double next() { return static_cast<double>(rng()) / 4294967295.0 * 2.0 - 1.0; }
};

std::string number(double v) {
  std::ostringstream ss;
  ss.precision(17);
  ss << v;
  return ss.str();
}

// One result file as Google Benchmark 1.7 writes it with --benchmark_repetitions: the repetitions
// of each benchmark, then its mean, median and stddev aggregates. Noise is +-2%.
std::string gb_json(const RunSpec& run) {
  Noise noise(run.seed);
  std::string out =
      R"({"context": {"date": "2026-11-27T07:00:00+00:00", "host_name": "ci", "executable": "edgeroof-bench",
  "num_cpus": 2, "mhz_per_cpu": 2000, "cpu_scaling_enabled": false, "library_build_type": "release",
  "device.name": "Test CPU", "json_schema_version": 1},
  "benchmarks": [)";
  bool first = true;
  int family = 0;
  for (const auto& b : suite) {
    const double tf = b.name == run.changed ? run.slowdown : 1.0;
    const double ef = b.name == run.changed ? run.energy_factor : 1.0;
    std::map<std::string, std::vector<double>> series;
    for (int r = 0; r < run.repetitions; ++r) {
      const double t_ms = b.time_ms * tf * (1.0 + 0.02 * noise.next());
      series["real_time"].push_back(t_ms);
      series["cpu_time"].push_back(t_ms * 0.999);
      series["FLOP/s"].push_back(b.flops / (t_ms * 1e-3));
      series["B/s"].push_back(b.bytes / (t_ms * 1e-3));
      if (b.energy_J >= 0) {
        const double e = b.energy_J * ef * (1.0 + 0.02 * noise.next());
        series["energy_J"].push_back(e);
        series["power_W"].push_back(e / (t_ms * 1e-3));
      }
    }
    auto entry = [&](const std::string& name, const std::string& type, const std::string& aggregate, int index,
                     const std::function<double(const std::vector<double>&)>& pick) {
      out += first ? "\n" : ",\n";
      first = false;
      out += R"(  {"name": ")" + name + R"(", "family_index": )" + std::to_string(family) +
             R"(, "per_family_instance_index": 0, "run_name": ")" + b.name + R"(", "run_type": ")" + type +
             R"(", "repetitions": )" + std::to_string(run.repetitions) + R"(, "threads": 1)";
      if (type == "iteration")
        out += R"(, "repetition_index": )" + std::to_string(index) + R"(, "iterations": 10)";
      else
        out += R"(, "aggregate_name": ")" + aggregate + R"(", "aggregate_unit": "time", "iterations": )" +
               std::to_string(run.repetitions);
      out += R"(, "real_time": )" + number(pick(series["real_time"])) + R"(, "cpu_time": )" +
             number(pick(series["cpu_time"])) + R"(, "time_unit": "ms", "flops": )" + number(b.flops) +
             R"(, "bytes": )" + number(b.bytes);
      for (const char* c : {"FLOP/s", "B/s", "energy_J", "power_W"}) {
        if (series.count(c)) out += std::string(R"(, ")") + c + R"(": )" + number(pick(series[c]));
      }
      out += "}";
    };
    if (!run.aggregates_only) {
      for (int r = 0; r < run.repetitions; ++r)
        entry(b.name, "iteration", "", r, [r](const std::vector<double>& v) { return v[r]; });
    }
    if (run.repetitions > 1) {
      auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); };
      entry(b.name + "_mean", "aggregate", "mean", 0, mean);
      entry(b.name + "_median", "aggregate", "median", 0, [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
      });
      entry(b.name + "_stddev", "aggregate", "stddev", 0, [mean](const std::vector<double>& v) {
        const double m = mean(v);
        double s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return std::sqrt(s / (v.size() - 1));
      });
    }
    ++family;
  }
  return out + "\n]}\n";
}

ResultsFile results(const RunSpec& run, const std::string& origin) { return parse_results(gb_json(run), origin); }

RunSpec spec(unsigned seed) {
  RunSpec s;
  s.seed = seed;
  return s;
}

const MetricComparison& row(const Comparison& c, const std::string& name, const std::string& metric) {
  for (const auto& r : c.rows) {
    if (r.name == name && r.metric == metric) return r;
  }
  throw std::runtime_error("no row " + name + " " + metric);
}

const std::string fp32 = "compute/cpu/fp32/ai:16";
const std::string triad = "memory/cpu/triad/bytes:67108864";

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

// The counter throttled (0/1) on every repetition of `name`, 1 on the first `throttled` of them.
std::string with_throttled(std::string text, const std::string& name, int throttled) {
  auto doc = nlohmann::json::parse(text);
  int seen = 0;
  for (auto& b : doc["benchmarks"]) {
    if (b["run_name"] != name) continue;
    const bool plain = b["run_type"] == "iteration";
    b["throttled"] = plain ? (seen++ < throttled ? 1 : 0) : (throttled > 0 ? 1.0 / 9.0 : 0.0);
    b["clock_min_ratio"] = plain && seen <= throttled ? 0.71 : 1.0;
  }
  return doc.dump();
}

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

// ---- the command: exit status and one-line errors ----

using edgeroof::test::fails_with;
using edgeroof::test::run_edgeroof;
using edgeroof::test::ScratchDir;
using edgeroof::test::succeeded;

edgeroof::test::ProgramRun compare_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "compare");
  return run_edgeroof(args);
}

TEST(CompareCli, ExitStatusIsTheGate) {
  const ScratchDir dir("compare_gate");
  const auto a = dir.write("a.json", gb_json(spec(1))).string();
  const auto same = dir.write("same.json", gb_json(spec(2))).string();
  RunSpec slow = spec(2);
  slow.slowdown = 1.10;
  slow.changed = fp32;
  const auto slower = dir.write("slow.json", gb_json(slow)).string();

  const auto pass = compare_cli({a, same});
  EXPECT_TRUE(succeeded(pass));
  EXPECT_NE(pass.out.find("no regression"), std::string::npos);

  const auto fail = compare_cli({a, slower, "--threshold", "5%"});
  EXPECT_EQ(fail.exit_code, 1) << fail.status();
  EXPECT_NE(fail.out.find("FAIL"), std::string::npos);
  EXPECT_TRUE(succeeded(compare_cli({a, slower, "--threshold=12%"})));

  const auto json = compare_cli({a, slower, "--format", "json"});
  EXPECT_EQ(json.exit_code, 1) << json.status();
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["regressions"], 3);
  const auto& first = doc["comparisons"][0];
  for (const char* key : {"name", "metric", "old", "new", "change", "pvalue", "repetitions", "verdict", "statistic",
                          "from", "unit", "throttled", "throttled_in"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
  EXPECT_EQ(first["name"], fp32);
  EXPECT_EQ(first["metric"], "real_time");
  EXPECT_EQ(first["verdict"], "slower");
  EXPECT_EQ(first["from"], nlohmann::json::array({"repetitions", "repetitions"}));

  const auto csv = compare_cli({a, same, "--format", "csv", "--filter", "triad"});
  EXPECT_TRUE(succeeded(csv));
  EXPECT_EQ(
      csv.out.rfind("name,metric,old,new,change,pvalue,n_old,n_new,verdict,gates,regression,statistic,throttled\n", 0),
      0u);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 7);  // header + 6 metrics
}

TEST(CompareCli, ThrottledRegressionSaysSo) {
  const ScratchDir dir("compare_throttled");
  RunSpec slow = spec(2);
  slow.slowdown = 1.10;
  slow.changed = triad;
  const auto a = dir.write("a.json", gb_json(spec(1))).string();
  const auto b = dir.write("b.json", with_throttled(gb_json(slow), triad, 2)).string();
  const auto table = compare_cli({a, b});
  EXPECT_EQ(table.exit_code, 1) << table.status();
  std::size_t marked = 0;
  for (std::size_t at = table.out.find("FAIL (throttled)"); at != std::string::npos;
       at = table.out.find("FAIL (throttled)", at + 1))
    ++marked;
  EXPECT_EQ(marked, 3u) << table.out;
  EXPECT_NE(table.out.find("3 of them on throttled runs"), std::string::npos) << table.out;
  const auto csv = compare_cli({a, b, "--format", "csv"});
  std::size_t throttled_rows = 0;
  std::istringstream lines(csv.out);
  for (std::string line; std::getline(lines, line);)
    throttled_rows += line.size() > 5 && line.substr(line.size() - 5) == ",true";
  EXPECT_EQ(throttled_rows, 6u);  // the triad's six metrics
}

TEST(CompareCli, BadInputIsOneLine) {
  const ScratchDir dir("compare_bad");
  const auto a = dir.write("a.json", gb_json(spec(1))).string();
  const std::string full = gb_json(spec(2));
  const auto cut = dir.write("cut.json", full.substr(0, full.size() / 2)).string();
  const auto not_gb = dir.write("other.json", R"({"results": []})").string();
  const auto missing = (dir.path() / "missing.json").string();

  EXPECT_TRUE(
      fails_with(compare_cli({a, not_gb}), 1,
                 "edgeroof compare: error: " + not_gb + ": not Google Benchmark results (no \"benchmarks\" array)"));
  EXPECT_TRUE(
      fails_with(compare_cli({a, missing}), 1,
                 "edgeroof compare: error: " + missing + ": cannot open for reading (No such file or directory)"));
  EXPECT_TRUE(edgeroof::test::fails_with_line_containing(compare_cli({a, cut}), 1,
                                                         "edgeroof compare: error: " + cut + ": not valid JSON ("));
  EXPECT_TRUE(
      fails_with(compare_cli({a}), 2,
                 "edgeroof compare: name two results files: OLD.json NEW.json (see 'edgeroof compare --help')"));
  EXPECT_TRUE(
      fails_with(compare_cli({a, a, "--alpha", "2"}), 2,
                 "edgeroof compare: --alpha takes a level in (0, 1], such as 0.05 (see 'edgeroof compare --help')"));
  EXPECT_EQ(compare_cli({a, a, "--threshold", "five"}).exit_code, 2);
}

TEST(CompareCli, FilterIsCheckedAndNeverEchoedWhole) {
  const ScratchDir dir("compare_filter");
  const auto a = dir.write("a.json", gb_json(spec(1))).string();
  // 100 KB of '(' made the C library's regcomp (and std::regex) overflow the stack.
  const std::string huge(100 * 1024, '(');
  EXPECT_TRUE(fails_with(compare_cli({a, a, "--filter", huge}), 2,
                         "edgeroof compare: --filter takes a pattern of at most 1024 characters, not 102400 ('" +
                             std::string(40, '(') + "... (102400 characters)') (see 'edgeroof compare --help')"));
  EXPECT_TRUE(fails_with(compare_cli({a, a, "--filter", "(["}), 2,
                         "edgeroof compare: --filter '([' is not a POSIX extended regular expression (Invalid regular "
                         "expression) (see 'edgeroof compare --help')"));
  EXPECT_TRUE(fails_with(compare_cli({a, a, "--filter", "^layer/"}), 1,
                         "edgeroof compare: error: nothing to compare between " + a + " and " + a +
                             ": no benchmark matches --filter '^layer/'"));
}

}  // namespace
