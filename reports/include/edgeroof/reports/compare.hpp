// Comparing two benchmark runs by name: the relative change of time, rates and energy, a two-sided
// Mann-Whitney U test over repetitions, and a verdict a CI gate can act on.
//
// The figures agree with Google Benchmark's tools/compare.py on the same files: `change` is its
// relative change (new - old) / |old| of the mean over repetitions (its "<name>_mean" row) and
// `pvalue` is its U-test p-value ("<name>_pvalue" row: Time for real_time, CPU for cpu_time).
#pragma once

#include "edgeroof/reports/results.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

enum class Verdict { same, faster, slower, better, worse };
[[nodiscard]] const char* to_string(Verdict verdict);

struct CompareOptions {
  double threshold = 0.05;  // relative change that counts, as a fraction
  double alpha = 0.05;      // significance level of the U test
  std::string filter;       // ECMAScript regex searched in run names; empty = all
};

// Google Benchmark needs two repetitions for a test and recommends nine (compare.py's limits).
inline constexpr std::size_t min_repetitions_for_test = 2;
inline constexpr std::size_t recommended_repetitions = 9;

struct MetricComparison {
  std::string name;        // benchmark run name
  std::string metric;      // real_time, cpu_time (seconds), FLOP/s, B/s, energy_J, power_W
  double old_value = 0.0;  // mean over repetitions
  double new_value = 0.0;
  double change = 0.0;           // relative, see relative_change()
  std::optional<double> pvalue;  // none with fewer than two repetitions on a side
  std::size_t old_repetitions = 0;
  std::size_t new_repetitions = 0;
  Verdict verdict = Verdict::same;
  bool gates = true;        // power_W is shown but never fails: a faster run may draw more power
  bool regression = false;  // gates, beyond the threshold, significant, in the bad direction
};

// A benchmark that cannot be paired: present (or successful) in one file only.
struct Unpaired {
  std::string name;
  std::string side;         // "old" or "new": where it is present and ran
  std::string reason;       // "only in old", "failed in new: <message>", ...
  bool regression = false;  // it ran before and fails now
};

struct Comparison {
  std::vector<MetricComparison> rows;
  std::vector<Unpaired> unpaired;
  std::vector<std::string> warnings;  // one line each, for standard error
  int regressions = 0;
};

// compare.py's relative change: (new - old) / |old|; 0 when both are 0; against the mean of the
// two when old is 0.
[[nodiscard]] double relative_change(double old_value, double new_value);

// Pairs the benchmarks of two runs by run name. Throws InputError for a bad filter or when the
// two files have no benchmark in common.
[[nodiscard]] Comparison compare_results(const ResultsFile& old_file, const ResultsFile& new_file,
                                         const CompareOptions& options);

// {"comparisons": [{"name", "metric", "old", "new", "change", "pvalue", "repetitions": [n_old,
// n_new], "verdict", "gates"}], "unpaired": [{"name", "present_in", "reason", "regression"}],
// "regressions": N}. Times are in seconds; pvalue is null without two repetitions a side.
[[nodiscard]] nlohmann::json to_json(const Comparison& comparison);

}  // namespace edgeroof::reports
