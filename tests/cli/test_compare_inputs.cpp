// `edgeroof compare` on every pair of the files compare.py tests itself with, checked against the
// figures of compare.py's own unit tests (tools/gbench/report.py), and on hostile files (the reader
// itself on them: tests/results/test_results_reader.cpp).
#include "edgeroof/reports/compare.hpp"
#include "edgeroof/reports/results.hpp"

#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace edgeroof::reports;
using edgeroof::test::fails_with;
using edgeroof::test::fails_with_line_containing;
using edgeroof::test::run_edgeroof;
using edgeroof::test::ScratchDir;
using edgeroof::test::succeeded;

// The installed inputs where libbenchmark-tools is, the copies in tests/data/gbench otherwise.
fs::path gbench_inputs() {
  const fs::path installed = "/usr/share/benchmark/gbench/Inputs";
  if (fs::exists(installed / "test1_run1.json")) return installed;
  return fs::path(EDGEROOF_TEST_DATA_DIR) / "gbench";
}

const std::vector<std::string> gbench_files = {"test1_run1.json", "test1_run2.json", "test2_run.json",
                                               "test3_run0.json", "test3_run1.json", "test4_run.json",
                                               "test4_run0.json", "test4_run1.json"};

std::string one_benchmark(const std::string& fields) { return R"({"benchmarks": [{)" + fields + "}]}"; }

// ---- compare on compare.py's inputs ----

edgeroof::test::ProgramRun compare(const fs::path& old_file, const fs::path& new_file,
                                   std::vector<std::string> more = {}) {
  std::vector<std::string> args{"compare", old_file.string(), new_file.string()};
  args.insert(args.end(), more.begin(), more.end());
  return run_edgeroof(args);
}

TEST(CompareGbenchInputs, EveryPairExitsZeroOrOneWithAnAnswer) {
  // The pairs that share benchmarks with times; every other pair has no name in common, or (test4_run
  // against itself) only rows without times, and says so in one line.
  const std::set<std::pair<std::string, std::string>> comparable = {
      {"test1_run1.json", "test1_run1.json"}, {"test1_run1.json", "test1_run2.json"},
      {"test1_run2.json", "test1_run1.json"}, {"test1_run2.json", "test1_run2.json"},
      {"test2_run.json", "test2_run.json"},   {"test2_run.json", "test3_run1.json"},
      {"test3_run1.json", "test2_run.json"},  {"test3_run0.json", "test3_run0.json"},
      {"test3_run0.json", "test3_run1.json"}, {"test3_run1.json", "test3_run0.json"},
      {"test3_run1.json", "test3_run1.json"}, {"test4_run0.json", "test4_run0.json"},
      {"test4_run0.json", "test4_run1.json"}, {"test4_run1.json", "test4_run0.json"},
      {"test4_run1.json", "test4_run1.json"}};
  const fs::path dir = gbench_inputs();
  int exit0 = 0, exit1 = 0;
  for (const auto& a : gbench_files) {
    for (const auto& b : gbench_files) {
      const auto r = compare(dir / a, dir / b, {"--format", "json"});
      ASSERT_TRUE(r.exited()) << a << " " << b << ": " << r.status();
      if (comparable.count({a, b}) != 0) {
        EXPECT_TRUE(succeeded(r)) << a << " " << b;
        const auto doc = nlohmann::json::parse(r.out);
        EXPECT_FALSE(doc["comparisons"].empty()) << a << " " << b;
        EXPECT_EQ(doc["regressions"], 0) << a << " " << b;
        if (a == b) {
          for (const auto& row : doc["comparisons"]) EXPECT_EQ(row["change"], 0.0) << a << " " << row["name"];
        }
      } else {
        EXPECT_TRUE(fails_with_line_containing(r, 1,
                                               "edgeroof compare: error: nothing to compare between " +
                                                   (dir / a).string() + " and " + (dir / b).string() + ": "))
            << a << " " << b;
      }
      (r.exit_code == 0 ? exit0 : exit1) += 1;
    }
  }
  EXPECT_EQ(exit0, 15);
  EXPECT_EQ(exit1, 49);
}

const nlohmann::json& find_row(const nlohmann::json& doc, const std::string& name, const std::string& metric) {
  for (const auto& r : doc["comparisons"]) {
    if (r["name"] == name && r["metric"] == metric) return r;
  }
  static const nlohmann::json none;
  ADD_FAILURE() << "no row " << name << " " << metric;
  return none;
}

TEST(CompareGbenchInputs, ChangesAsComparePyReportsThem) {
  // report.py's TestReportDifference: test1_run1 against test1_run2, 'time' and 'cpu' per benchmark,
  // asserted there to 4 places.
  const std::vector<std::tuple<std::string, double, double>> expected = {{"BM_SameTimes", 0.0, 0.0},
                                                                         {"BM_2xFaster", -0.5, -0.5},
                                                                         {"BM_2xSlower", 1.0, 1.0},
                                                                         {"BM_1PercentFaster", -0.01, -0.01},
                                                                         {"BM_1PercentSlower", 0.01, 0.01},
                                                                         {"BM_10PercentFaster", -0.1, -0.1},
                                                                         {"BM_10PercentSlower", 0.1, 0.1},
                                                                         {"BM_100xSlower", 99.0, 99.0},
                                                                         {"BM_100xFaster", -0.99, -0.99},
                                                                         {"BM_10PercentCPUToTime", 0.1, -0.1},
                                                                         {"BM_ThirdFaster", -0.3333, -0.3334},
                                                                         {"BM_NotBadTimeUnit", -0.9, 0.2},
                                                                         {"BM_hasLabel", 0.0, 0.0}};
  const fs::path dir = gbench_inputs();
  const auto r = compare(dir / "test1_run1.json", dir / "test1_run2.json", {"--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto doc = nlohmann::json::parse(r.out);
  for (const auto& [name, time, cpu] : expected) {
    EXPECT_NEAR(find_row(doc, name, "real_time")["change"].get<double>(), time, 1e-4) << name;
    EXPECT_NEAR(find_row(doc, name, "cpu_time")["change"].get<double>(), cpu, 1e-4) << name;
  }
  // compare.py drops BM_DifferentTimeUnit (1 s against 1 ns); edgeroof reads both in seconds.
  EXPECT_NEAR(find_row(doc, "BM_DifferentTimeUnit", "real_time")["change"].get<double>(), 1e-9 - 1.0, 1e-12);
  EXPECT_EQ(doc["comparisons"].size(), 28u);  // 14 benchmarks x (real_time, cpu_time); no BigO/RMS
  EXPECT_NE(r.err.find("warning: 4 BigO/RMS row(s) not compared"), std::string::npos) << r.err;
}

TEST(CompareGbenchInputs, PercentageAggregatesAsComparePyReportsThem) {
  // report.py's TestReportDifferenceForPercentageAggregates: whocares -0.5 (time), +0.5 (cpu).
  const fs::path dir = gbench_inputs();
  const auto r = compare(dir / "test4_run0.json", dir / "test4_run1.json", {"--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["comparisons"].size(), 2u);
  const auto& time = find_row(doc, "whocares", "real_time");
  EXPECT_NEAR(time["change"].get<double>(), -0.5, 1e-12);
  EXPECT_NEAR(find_row(doc, "whocares", "cpu_time")["change"].get<double>(), 0.5, 1e-12);
  EXPECT_EQ(time["statistic"], "zz");
  EXPECT_EQ(time["unit"], "fraction");
  EXPECT_EQ(time["old"], 0.01);
  EXPECT_EQ(time["from"], nlohmann::json::array({"aggregate", "aggregate"}));
  EXPECT_TRUE(time["pvalue"].is_null());
  EXPECT_EQ(time["verdict"], "same");  // a spread, not a speed
  EXPECT_EQ(time["gates"], false);
}

TEST(CompareGbenchInputs, MixedRunsAndUnnamedAggregates) {
  // test3: the U test takes the plain repetitions only (compare.py mixes in the rows marked
  // aggregate); a side with only an unnamed aggregate has nothing to set against repetitions.
  const fs::path dir = gbench_inputs();
  const auto r = compare(dir / "test3_run0.json", dir / "test3_run1.json", {"--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto doc = nlohmann::json::parse(r.out);
  const auto& medium = find_row(doc, "medium", "real_time");
  EXPECT_NEAR(medium["change"].get<double>(), (5.0 - 8.5) / 8.5, 1e-12);
  EXPECT_EQ(medium["repetitions"], nlohmann::json::array({2, 1}));
  EXPECT_TRUE(medium["pvalue"].is_null());
  EXPECT_NEAR(find_row(doc, "BM_Two", "real_time")["change"].get<double>(), (7.0 - 8.5) / 8.5, 1e-12);
  ASSERT_EQ(doc["unpaired"].size(), 2u);
  EXPECT_EQ(doc["unpaired"][0]["name"], "BM_One");
  EXPECT_EQ(doc["unpaired"][0]["reason"], "no statistic in common (old: aggregates (unnamed); new: 1 repetition(s))");
  EXPECT_EQ(doc["unpaired"][1]["name"], "short");
}

// ---- compare on hostile files ----

TEST(CompareHostile, ATypeErrorNamesFileBenchmarkAndField) {
  const ScratchDir dir("reader_type");
  const auto good = dir.write("good.json", one_benchmark(R"("name": "BM_x", "real_time": 1, "time_unit": "ns")"));
  const auto bad = dir.write("bad.json", R"({"benchmarks": [{"name": "BM_ok", "real_time": 1},
      {"name": "BM_x", "real_time": "fast", "time_unit": "ns"}]})");
  const auto out = dir.path() / "out.json";
  EXPECT_TRUE(fails_with(
      compare(good, bad, {"-o", out.string()}), 1,
      "edgeroof compare: error: " + bad.string() + ": benchmarks[1] (BM_x): real_time is a string, not a number"));
  EXPECT_FALSE(fs::exists(out));  // nothing half-written
}

TEST(CompareHostile, ADirectoryOrAHugeNameIsSaidSo) {
  const ScratchDir dir("reader_dir");
  const auto good = dir.write("good.json", one_benchmark(R"("name": "BM_x", "real_time": 1)"));
  EXPECT_TRUE(fails_with(compare(good, dir.path()), 1,
                         "edgeroof compare: error: " + dir.path().string() + ": is a directory, not a file"));
  const std::string huge(5000, 'a');
  EXPECT_TRUE(fails_with(compare(good, huge), 1,
                         "edgeroof compare: error: " + std::string(120, 'a') +
                             "... (5000 characters): cannot open for reading (File name too long)"));
}

TEST(CompareHostile, EmptyAndNoTimesSayWhatCannotBeDone) {
  const ScratchDir dir("reader_empty");
  const auto empty = dir.write("empty.json", R"({"context": {}, "benchmarks": []})");
  const auto good = dir.write("good.json", one_benchmark(R"("name": "BM_x", "real_time": 1)"));
  EXPECT_TRUE(fails_with(compare(empty, good), 1,
                         "edgeroof compare: error: nothing to compare between " + empty.string() + " and " +
                             good.string() + ": " + empty.string() + " holds no benchmarks"));
  const auto big_o = dir.write("bigo.json", R"({"benchmarks": [
      {"name": "BM_x_BigO", "run_name": "BM_x", "run_type": "aggregate", "aggregate_name": "BigO",
       "cpu_coefficient": 4.2, "real_coefficient": 6.4, "big_o": "N", "time_unit": "ns"},
      {"name": "BM_x_RMS", "run_name": "BM_x", "run_type": "aggregate", "aggregate_name": "RMS", "rms": 0.0045}]})");
  EXPECT_TRUE(fails_with(compare(big_o, big_o), 1,
                         "edgeroof compare: error: nothing to compare between " + big_o.string() + " and " +
                             big_o.string() + ": " + big_o.string() +
                             " holds only BigO/RMS rows, which have no times to compare"));
}

// Google Benchmark 1.9 with --benchmark_repetitions=3 and only the aggregates it was asked for.
std::string aggregates(const std::string& name, const std::vector<std::pair<std::string, double>>& stats) {
  std::string out = R"({"benchmarks": [)";
  for (std::size_t i = 0; i < stats.size(); ++i) {
    out += std::string(i ? "," : "") + R"({"name": ")" + name + "_" + stats[i].first + R"(", "run_name": ")" + name +
           R"(", "run_type": "aggregate", "repetitions": 3, "threads": 1, "aggregate_name": ")" + stats[i].first +
           R"(", "aggregate_unit": "time", "iterations": 3, "real_time": )" + std::to_string(stats[i].second) +
           R"(, "cpu_time": )" + std::to_string(stats[i].second) + R"(, "time_unit": "ns"})";
  }
  return out + "]}";
}

TEST(CompareHostile, AMedianOnlyAggregateIsComparedByItsMedian) {
  const ScratchDir dir("reader_median");
  const auto old_file = dir.write("old.json", aggregates("BM_x", {{"median", 100}}));
  const auto new_file = dir.write("new.json", aggregates("BM_x", {{"median", 150}, {"stddev", 3}}));
  const auto r = compare(old_file, new_file, {"--format", "json"});
  ASSERT_TRUE(succeeded(r));  // +50%, but no p-value: cannot fail
  const auto doc = nlohmann::json::parse(r.out);
  const auto& t = find_row(doc, "BM_x", "real_time");
  EXPECT_EQ(t["statistic"], "median");
  EXPECT_NEAR(t["change"].get<double>(), 0.5, 1e-12);
  EXPECT_EQ(t["repetitions"], nlohmann::json::array({3, 3}));
  EXPECT_EQ(t["verdict"], "slower");
  // Against repetitions, the median of the repetitions.
  const auto runs = dir.write("runs.json", R"({"benchmarks": [
      {"name": "BM_x", "run_type": "iteration", "real_time": 90, "time_unit": "ns"},
      {"name": "BM_x", "run_type": "iteration", "real_time": 200, "time_unit": "ns"},
      {"name": "BM_x", "run_type": "iteration", "real_time": 110, "time_unit": "ns"}]})");
  const auto mixed = nlohmann::json::parse(compare(old_file, runs, {"--format", "json"}).out);
  EXPECT_NEAR(find_row(mixed, "BM_x", "real_time")["change"].get<double>(), 0.1, 1e-12);
  EXPECT_EQ(find_row(mixed, "BM_x", "real_time")["from"], nlohmann::json::array({"aggregate", "repetitions"}));
}

TEST(CompareHostile, NaNCountersAreAbsent) {
  const ScratchDir dir("reader_nan");
  const auto a = dir.write("a.json", one_benchmark(R"("name": "BM_x", "real_time": 1, "FLOP/s": NaN, "B/s": 5)"));
  const auto b = dir.write("b.json", one_benchmark(R"("name": "BM_x", "real_time": 1, "FLOP/s": 7, "B/s": -nan)"));
  const auto r = compare(a, b, {"--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["comparisons"].size(), 1u);  // real_time; FLOP/s and B/s are each on one side only
  EXPECT_NE(r.err.find("FLOP/s only in new, not compared: BM_x"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("B/s only in old, not compared: BM_x"), std::string::npos) << r.err;
}

TEST(CompareHostile, ThirtyThousandRepetitionsAgainstEight) {
  // The exact U test on 8 against 30,000 was O(n^2) in time and memory; it is linear in n now. The
  // 8 are below all but three of the 30,000: U = 3, p = 2 * 7 / C(30008, 8).
  const ScratchDir dir("reader_big");
  auto file = [](const std::vector<double>& times_ns) {
    nlohmann::json doc = {{"benchmarks", nlohmann::json::array()}};
    for (std::size_t i = 0; i < times_ns.size(); ++i) {
      doc["benchmarks"].push_back({{"name", "BM_x"},
                                   {"run_name", "BM_x"},
                                   {"run_type", "iteration"},
                                   {"repetition_index", i},
                                   {"iterations", 10},
                                   {"real_time", times_ns[i]},
                                   {"cpu_time", times_ns[i]},
                                   {"time_unit", "ns"}});
    }
    return doc.dump();
  };
  std::vector<double> big;
  for (int i = 1; i <= 30000; ++i) big.push_back(100.0 + i);
  const auto old_file = dir.write("big.json", file(big));
  const auto new_file = dir.write("small.json", file({1, 2, 3, 4, 5, 6, 7, 103.5}));
  const auto r = compare(old_file, new_file, {"--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto doc = nlohmann::json::parse(r.out);
  const auto& t = find_row(doc, "BM_x", "real_time");
  long double total = 1.0L;
  for (int i = 1; i <= 8; ++i) total = total * (30000 + i) / i;
  EXPECT_NEAR(t["pvalue"].get<double>() / static_cast<double>(14.0L / total), 1.0, 1e-12);
  EXPECT_EQ(t["repetitions"], nlohmann::json::array({30000, 8}));
}

}  // namespace
