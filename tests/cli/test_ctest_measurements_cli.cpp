// edgeroof compare --ctest-measurements: the lines CTest keeps as named measurements for CDash,
// checked against means and ratios computed here from the values written into the files.
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace {

using edgeroof::test::run_edgeroof;
using edgeroof::test::ScratchDir;

// A name with every XML special character, and the '/' and ':' real names have.
const std::string hostile = "compute/cpu/fp32/ai:16/<a&b>\"q'";
const std::string hostile_escaped = "compute/cpu/fp32/ai:16/&lt;a&amp;b&gt;&quot;q&apos;";
const std::string triad = "memory/cpu/triad/bytes:67108864";

using Series = std::map<std::string, std::vector<double>>;  // metric -> one value per repetition

// A Google Benchmark 1.8 file: the repetitions of each benchmark, times in ms.
std::string results_file(const std::map<std::string, Series>& benchmarks) {
  nlohmann::json doc = {{"context",
                         {{"date", "2026-12-02T16:00:00+00:00"},
                          {"host_name", "ci"},
                          {"num_cpus", 2},
                          {"library_build_type", "release"}}},
                        {"benchmarks", nlohmann::json::array()}};
  int family = 0;
  for (const auto& [name, series] : benchmarks) {
    const std::size_t n = series.at("real_time").size();
    for (std::size_t r = 0; r < n; ++r) {
      nlohmann::json row = {{"name", name},
                            {"family_index", family},
                            {"per_family_instance_index", 0},
                            {"run_name", name},
                            {"run_type", "iteration"},
                            {"repetitions", n},
                            {"repetition_index", r},
                            {"threads", 1},
                            {"iterations", 10},
                            {"time_unit", "ms"},
                            {"cpu_time", series.at("real_time")[r]}};
      for (const auto& metric : series) row[metric.first] = metric.second[r];
      doc["benchmarks"].push_back(row);
    }
    ++family;
  }
  return doc.dump(1);
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

std::string line(const std::string& name, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.10g", value);
  return "<CTestMeasurement type=\"numeric/double\" name=\"" + name + "\">" + buf + "</CTestMeasurement>";
}

std::vector<std::string> measurement_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (l.find("CTestMeasurement") != std::string::npos) lines.push_back(l);
  return lines;
}

TEST(CtestMeasurementsCli, CurrentBaselineAndRatioOfEveryGatingFigure) {
  const Series old_triad = {{"real_time", {5.0, 5.1, 4.9}},
                            {"B/s", {2.0e10, 1.96e10, 2.04e10}},
                            {"energy_J", {0.25, 0.26, 0.24}},
                            {"power_W", {50, 51, 49}}};
  const Series new_triad = {{"real_time", {5.5, 5.6, 5.4}},
                            {"B/s", {1.8e10, 1.78e10, 1.82e10}},
                            {"energy_J", {0.3, 0.31, 0.29}},
                            {"power_W", {55, 56, 54}}};
  const Series old_hostile = {{"real_time", {40, 41, 39}}, {"FLOP/s", {4.0e11, 3.9e11, 4.1e11}}};
  const Series new_hostile = {{"real_time", {40, 40.5, 39.5}}, {"FLOP/s", {4.0e11, 3.95e11, 4.05e11}}};
  const ScratchDir dir("ctest_measurements");
  const auto old_path = dir.write("old.json", results_file({{triad, old_triad}, {hostile, old_hostile}})).string();
  const auto new_path = dir.write("new.json", results_file({{triad, new_triad}, {hostile, new_hostile}})).string();

  const auto run = run_edgeroof({"compare", old_path, new_path, "--ctest-measurements"});
  // Triad is 10% slower, but three repetitions a side cannot reach p < 0.05 (the exact U test's
  // least p is 0.1): the gate passes and the figures are charted all the same.
  ASSERT_EQ(run.exit_code, 0) << run.status();

  // Per figure: the unit CDash charts and the factor from the file's SI value (times are in ms).
  struct Figure {
    std::string name, metric, unit;
    double scale;
    const Series& old_series;
    const Series& new_series;
  };
  const std::vector<Figure> figures = {
      {triad, "real_time", "s", 1e-3, old_triad, new_triad},
      {triad, "B/s", "GB/s", 1e-9, old_triad, new_triad},
      {triad, "energy_J", "J", 1.0, old_triad, new_triad},
      {hostile_escaped, "real_time", "s", 1e-3, old_hostile, new_hostile},
      {hostile_escaped, "FLOP/s", "GFLOP/s", 1e-9, old_hostile, new_hostile},
  };
  std::vector<std::string> expected;
  for (const auto& f : figures) {
    const double current = mean(f.new_series.at(f.metric)), baseline = mean(f.old_series.at(f.metric));
    const std::string stem = f.name + " " + f.unit + " ";
    expected.push_back(line(stem + "current", current * f.scale));
    expected.push_back(line(stem + "baseline", baseline * f.scale));
    expected.push_back(line(stem + "ratio", current / baseline));
  }
  auto got = measurement_lines(run.out);
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected) << run.out;  // cpu_time and power_W never gate: not charted
  for (const auto& l : got) EXPECT_EQ(l.find(hostile), std::string::npos) << "unescaped: " << l;
}

TEST(CtestMeasurementsCli, RefusedWhereTheyWouldMixWithJsonOnStandardOutput) {
  const Series s = {{"real_time", {1, 1.1, 0.9}}};
  const ScratchDir dir("ctest_measurements_json");
  const auto a = dir.write("a.json", results_file({{triad, s}})).string();
  const auto json = run_edgeroof({"compare", a, a, "--format", "json", "--ctest-measurements"});
  EXPECT_EQ(json.exit_code, 2) << json.status();
  EXPECT_NE(json.err.find("--ctest-measurements goes to standard output"), std::string::npos) << json.err;
  const auto to_file = run_edgeroof(
      {"compare", a, a, "--format", "json", "-o", (dir.path() / "c.json").string(), "--ctest-measurements"});
  EXPECT_EQ(to_file.exit_code, 0) << to_file.status();
  EXPECT_EQ(measurement_lines(to_file.out).size(), 3u) << to_file.out;
}

}  // namespace
