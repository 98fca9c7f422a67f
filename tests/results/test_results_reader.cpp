// The results reader on the JSON of Google Benchmark 1.5 to 1.9 and on hostile files
// (`edgeroof compare` on the same files: tests/cli/test_compare_inputs.cpp).
#include "edgeroof/results/reader.hpp"

#include "program.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace edgeroof::results;

// The installed inputs where libbenchmark-tools is, the copies in tests/data/gbench otherwise.
fs::path gbench_inputs() {
  const fs::path installed = "/usr/share/benchmark/gbench/Inputs";
  if (fs::exists(installed / "test1_run1.json")) return installed;
  return fs::path(EDGEROOF_TEST_DATA_DIR) / "gbench";
}

std::string one_benchmark(const std::string& fields) { return R"({"benchmarks": [{)" + fields + "}]}"; }

std::string refusal(const std::string& text) {
  try {
    (void)parse_results(text, "x.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "accepted";
}

// ---- the reader ----

TEST(ResultsReader, Version15WithoutFamilyIndexOrAggregateUnit) {
  const auto f = parse_results(R"({"benchmarks": [
    {"name": "BM_x/8", "run_name": "BM_x/8", "run_type": "iteration", "repetitions": 2, "repetition_index": 1,
     "threads": 1, "iterations": 1000, "real_time": 2.5, "cpu_time": 2.25, "time_unit": "us"},
    {"name": "BM_x/8_mean", "run_name": "BM_x/8", "run_type": "aggregate", "repetitions": 2, "threads": 1,
     "aggregate_name": "mean", "iterations": 2, "real_time": 2.5, "cpu_time": 2.25, "time_unit": "us"}]})",
                               "v15.json");
  ASSERT_EQ(f.benchmarks.size(), 2u);
  const auto& run = f.benchmarks[0];
  EXPECT_EQ(run.repetition_index, 1);
  EXPECT_EQ(run.repetitions, 2);
  EXPECT_EQ(run.threads, 1);
  EXPECT_FALSE(run.family_index.has_value());
  EXPECT_EQ(run.iteration_count, 1000);
  EXPECT_DOUBLE_EQ(run.real_time_s, 2.5e-6);
  EXPECT_DOUBLE_EQ(run.cpu_time_s, 2.25e-6);
  EXPECT_TRUE(run.measured);
  EXPECT_EQ(f.benchmarks[1].aggregate_name, "mean");
  EXPECT_EQ(f.benchmarks[1].aggregate_unit, "");
  EXPECT_EQ(repetitions_by_name(f).at("BM_x/8").size(), 1u);
}

TEST(ResultsReader, Version19SkippedErrorsPercentagesAndCounters) {
  const auto f = parse_results(R"({"benchmarks": [
    {"name": "BM_a", "family_index": 0, "per_family_instance_index": 0, "run_name": "BM_a", "run_type": "iteration",
     "repetitions": 1, "repetition_index": 0, "threads": 1, "skipped": true, "skip_message": "no GPU",
     "iterations": 0, "real_time": 0, "cpu_time": 0, "time_unit": "ns"},
    {"name": "BM_b", "family_index": 1, "per_family_instance_index": 0, "run_name": "BM_b", "run_type": "iteration",
     "repetitions": 1, "repetition_index": 0, "threads": 1, "error_occurred": true, "error_message": "check failed",
     "iterations": 0, "real_time": 0, "cpu_time": 0, "time_unit": "ns"},
    {"name": "BM_c_cv", "family_index": 2, "per_family_instance_index": 0, "run_name": "BM_c", "run_type": "aggregate",
     "repetitions": 9, "threads": 1, "aggregate_name": "cv", "aggregate_unit": "percentage", "iterations": 9,
     "real_time": 0.0125, "cpu_time": 0.011, "time_unit": "ms", "FLOP/s": NaN, "bytes": 0},
    {"name": "BM_c", "family_index": 2, "per_family_instance_index": 0, "run_name": "BM_c", "run_type": "iteration",
     "repetitions": 9, "repetition_index": 0, "threads": 4, "iterations": 12, "real_time": 3, "cpu_time": 11,
     "time_unit": "ms", "items/s": 1.5e9, "allocs_per_iter": 2.5, "net_heap_growth": -4096, "throttled": 1,
     "clock_min_ratio": 0.62, "note": "a string", "nested": {"x": 1}, "label": "level:dram"}]})",
                               "v19.json");
  ASSERT_EQ(f.benchmarks.size(), 4u);
  EXPECT_TRUE(f.benchmarks[0].error);
  EXPECT_TRUE(f.benchmarks[0].skipped);
  EXPECT_EQ(f.benchmarks[0].error_message, "no GPU");
  EXPECT_TRUE(f.benchmarks[1].error);
  EXPECT_FALSE(f.benchmarks[1].skipped);
  EXPECT_EQ(f.benchmarks[1].error_message, "check failed");
  const auto& cv = f.benchmarks[2];
  EXPECT_EQ(cv.aggregate_unit, "percentage");
  EXPECT_DOUBLE_EQ(cv.real_time_s, 0.0125);        // a fraction, not 12.5 us
  EXPECT_FALSE(cv.counter("FLOP/s").has_value());  // NaN: absent
  EXPECT_EQ(cv.counter("bytes"), 0.0);
  const auto& run = f.benchmarks[3];
  EXPECT_EQ(run.threads, 4);
  EXPECT_EQ(run.family_index, 2);
  EXPECT_EQ(run.counter("items/s"), 1.5e9);
  EXPECT_EQ(run.counter("net_heap_growth"), -4096.0);  // not a contract counter: may be negative
  EXPECT_EQ(run.counters.count("note") + run.counters.count("nested") + run.counters.count("label"), 0u);
  EXPECT_TRUE(run.throttled());
  EXPECT_FALSE(cv.throttled());
  EXPECT_EQ(repetitions_by_name(f).size(), 1u);  // the skipped and failed ones are left out
}

TEST(ResultsReader, ThrottledIsTheFlagOfARunOrAnAggregateOfIt) {
  const auto f = parse_results(R"({"benchmarks": [
    {"name": "BM_x", "run_type": "iteration", "real_time": 1, "throttled": 0},
    {"name": "BM_x", "run_type": "iteration", "real_time": 1, "throttled": 1},
    {"name": "BM_x_mean", "run_name": "BM_x", "run_type": "aggregate", "aggregate_name": "mean", "real_time": 1,
     "throttled": 0.5},
    {"name": "BM_x_stddev", "run_name": "BM_x", "run_type": "aggregate", "aggregate_name": "stddev", "real_time": 0,
     "throttled": 0.7},
    {"name": "BM_x_cv", "run_name": "BM_x", "run_type": "aggregate", "aggregate_name": "cv",
     "aggregate_unit": "percentage", "real_time": 0, "throttled": 1.4},
    {"name": "BM_y", "run_type": "iteration", "real_time": 1}]})",
                               "t.json");
  std::vector<bool> flags;
  for (const auto& b : f.benchmarks) flags.push_back(b.throttled());
  EXPECT_EQ(flags, (std::vector<bool>{false, true, true, false, false, false}));
}

TEST(ResultsReader, WithoutRunTypeSuffixesMakeAggregates) {
  // Before 1.5 aggregates are told only by their names, as compare.py sees them.
  const auto old = parse_results(R"({"benchmarks": [
    {"name": "BM_x", "iterations": 10, "real_time": 5, "cpu_time": 5, "time_unit": "ns"},
    {"name": "BM_x_mean", "iterations": 10, "real_time": 5, "cpu_time": 5, "time_unit": "ns"},
    {"name": "BM_x_stddev", "iterations": 10, "real_time": 0.1, "cpu_time": 0.1, "time_unit": "ns"}]})",
                                 "old.json");
  EXPECT_EQ(old.benchmarks[0].run_type, "iteration");
  EXPECT_EQ(old.benchmarks[1].run_type, "aggregate");
  EXPECT_EQ(old.benchmarks[1].aggregate_name, "mean");
  EXPECT_EQ(old.benchmarks[2].aggregate_name, "stddev");
  EXPECT_EQ(old.benchmarks[2].run_name, "BM_x");
  // With run_type written, the name is only a name.
  const auto named =
      parse_results(one_benchmark(R"("name": "BM_y_mean", "run_type": "iteration", "real_time": 1)"), "new.json");
  EXPECT_EQ(named.benchmarks[0].run_type, "iteration");
  EXPECT_EQ(named.benchmarks[0].run_name, "BM_y_mean");
}

TEST(ResultsReader, BigORowsAndRowsWithoutTimesAreAccepted) {
  const auto t1 = load_results(gbench_inputs() / "test1_run1.json");
  ASSERT_EQ(t1.benchmarks.size(), 16u);
  const auto& big_o = t1.benchmarks[11];
  EXPECT_EQ(big_o.name, "MyComplexityTest_BigO");
  EXPECT_TRUE(big_o.complexity);
  EXPECT_FALSE(big_o.measured);
  EXPECT_EQ(big_o.counter("real_coefficient"), 6.4789275289789780);
  EXPECT_TRUE(t1.benchmarks[12].complexity);  // RMS
  EXPECT_EQ(repetitions_by_name(t1).size(), 14u);
  const auto t4 = load_results(gbench_inputs() / "test4_run.json");
  ASSERT_EQ(t4.benchmarks.size(), 12u);
  for (const auto& b : t4.benchmarks) EXPECT_FALSE(b.measured) << b.name;
  EXPECT_EQ(t4.benchmarks[2].aggregate_name, "9 aggregate");
  EXPECT_TRUE(repetitions_by_name(t4).empty());
}

TEST(ResultsReader, EmptyAndAggregateOnlyFilesAreAccepted) {
  EXPECT_TRUE(parse_results(R"({"context": {}, "benchmarks": []})", "empty.json").benchmarks.empty());
  const auto only = load_results(gbench_inputs() / "test4_run0.json");
  ASSERT_EQ(only.benchmarks.size(), 1u);
  EXPECT_TRUE(only.benchmarks[0].measured);
  EXPECT_TRUE(repetitions_by_name(only).empty());
}

TEST(ResultsReader, ImpossibleValuesAreRefusedByFileBenchmarkAndField) {
  const std::string at = "x.json: benchmarks[0] (BM_x): ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("real_time": "fast", "cpu_time": 1)", "real_time is a string, not a number"},
      {R"("real_time": -1, "cpu_time": 1)", "real_time = -1 is negative"},
      {R"("real_time": 1, "cpu_time": -0.5)", "cpu_time = -0.5 is negative"},
      {R"("real_time": null, "cpu_time": 1)", "real_time is not a finite number (NaN)"},
      {R"("cpu_time": 1, "time_unit": "ns")", "real_time is missing"},
      {R"("real_time": 1, "time_unit": "min")", "time_unit 'min' is not ns, us, ms or s"},
      {R"("real_time": 1, "time_unit": 9)", "time_unit is a number, not a string"},
      {R"("real_time": 1, "iterations": -1)", "iterations = -1 is out of range"},
      {R"("real_time": 1, "iterations": 1.5)", "iterations is not a whole number that fits"},
      {R"("real_time": 1, "iterations": 1e30)", "iterations is not a whole number that fits"},
      {R"("real_time": 1, "iterations": 18446744073709551615)", "iterations = 18446744073709551615 does not fit"},
      {R"("real_time": 1, "repetition_index": 4294967296)", "repetition_index = 4294967296 does not fit"},
      {R"("real_time": 1, "threads": 0)", "threads = 0 is out of range"},
      {R"("real_time": 1, "repetitions": "9")", "repetitions is a string, not a whole number"},
      {R"("real_time": 1, "run_type": "warmup")", "run_type 'warmup' is neither iteration nor aggregate"},
      {R"("real_time": 1, "error_occurred": "yes")", "error_occurred is a string, not true or false"},
      {R"("real_time": 1, "run_name": ["BM_x"])", "run_name is an array, not a string"},
      {R"("real_time": 1, "FLOP/s": -5e9)", "FLOP/s = -5e+09 is negative"},
      {R"("real_time": 1, "B/s": -1)", "B/s = -1 is negative"},
      {R"("real_time": 1, "energy_J.VDD_GPU_SOC": -0.25)", "energy_J.VDD_GPU_SOC = -0.25 is negative"},
      {R"("real_time": 1, "power_W": -3)", "power_W = -3 is negative"},
      {R"("real_time": 1, "flops": -1, "bytes": 8)", "flops = -1 is negative"},
      {R"("real_time": 1, "throttled": 2)", "throttled = 2 is not 0 or 1"},
      {R"("real_time": 1, "coverage": 1.5)", "coverage = 1.5 is above 1"},
      {R"("real_time": 1, "coverage": -0.5)", "coverage = -0.5 is negative"},
      {R"("real_time": 1, "layers": -3)", "layers = -3 is negative"},
  };
  for (const auto& [fields, problem] : cases) {
    EXPECT_EQ(refusal(one_benchmark(R"("name": "BM_x", )" + fields)), at + problem) << fields;
  }
  EXPECT_EQ(refusal(one_benchmark(R"("name": 5, "real_time": 1)")),
            "x.json: benchmarks[0]: name is a number, not a string");
  EXPECT_EQ(refusal(R"({"benchmarks": [7]})"), "x.json: benchmarks[0]: is a number, not an object");
  EXPECT_EQ(refusal(one_benchmark(R"("name": "BM_x", "real_time": 1e999)")).rfind("x.json: not valid JSON (", 0), 0u);
  // A 100 KB name is cut in the message.
  const std::string long_name(100000, 'n');
  EXPECT_EQ(refusal(one_benchmark(R"("name": ")" + long_name + R"(", "real_time": "x")")),
            "x.json: benchmarks[0] (" + std::string(80, 'n') +
                "... (100000 characters)): real_time is a string, not a number");
  // The mean of a 0/1 counter is a fraction, and fine.
  EXPECT_EQ(
      refusal(one_benchmark(
          R"("name": "BM_x_mean", "run_type": "aggregate", "aggregate_name": "mean", "real_time": 1, "throttled": 0.25)")),
      "accepted");
}

TEST(ResultsReader, ExcerptIsOneShortLine) {
  EXPECT_EQ(excerpt("a\nb\tc"), "a?b?c");
  EXPECT_EQ(excerpt(std::string(200, 'x'), 10), std::string(10, 'x') + "... (200 characters)");
}

}  // namespace
