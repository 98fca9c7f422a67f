// Comparing two benchmark runs by name: the relative change of time, rates and energy, a two-sided
// Mann-Whitney U test over repetitions, and a verdict a CI gate can act on.
//
// The figures agree with Google Benchmark's tools/compare.py on the same files: `change` is its
// relative change (new - old) / |old| of the mean over repetitions (its "<name>_mean" row) and
// `pvalue` is its U-test p-value ("<name>_pvalue" row: Time for real_time, CPU for cpu_time).
//
// What is paired, as compare.py pairs it: benchmarks by run name (its name without aggregate
// suffixes). The U test takes the plain repetitions that succeeded, and only when both sides have
// at least two. A side with no repetitions (--benchmark_report_aggregates_only, or an older file)
// is compared by an aggregate both sides have: the mean, else the median (of the repetitions where
// the other side has them), else any other aggregate of the same name in both (stddev, cv, ...),
// shown for information only. Aggregates give a change but no p-value, so they never fail.
// BigO/RMS rows and rows without times are never paired (compare.py skips them too); a benchmark
// that failed or was skipped is listed, and a regression when it ran in OLD and fails in NEW.
//
// Throttled runs (the counter throttled = 1 in a repetition, or above 0 in a mean or median, on
// either side) are marked. A significant slowdown on a throttled run still fails the gate -- the
// gate cannot tell whose fault it was -- but it is reported as throttled, so the user knows to
// measure again before blaming the code.
#pragma once

#include "edgeroof/reports/results.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

enum class Verdict { same, faster, slower, better, worse };
[[nodiscard]] const char* to_string(Verdict verdict);

struct CompareOptions {
  double threshold = 0.05;  // relative change that counts, as a fraction
  double alpha = 0.05;      // significance level of the U test
  std::string filter;       // POSIX extended regex searched in run names; empty = all
};

// The longest --filter accepted: the C library's regcomp recurses once per nested group, so a
// pattern of 100 KB could overflow the stack.
inline constexpr std::size_t max_filter_chars = 1024;

// A POSIX extended regular expression (regcomp/regexec, whose matching does not recurse) searched
// in run names. Refuses, with InputError, a pattern longer than max_filter_chars, one whose
// counted repetitions ({m,n}) would build an automaton of more than 100,000 states, one with
// back-references (\1, exponential to match), and one regcomp refuses. The pattern is named in
// the message only as an excerpt.
class NameFilter {
public:
  explicit NameFilter(const std::string& pattern);
  [[nodiscard]] bool matches(const std::string& name) const;

private:
  std::shared_ptr<void> m_regex;  // a regex_t, freed with regfree
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
  // The repetitions behind each figure: the plain runs, or the count an aggregate says it
  // summarizes (1 where it does not say).
  std::size_t old_repetitions = 0;
  std::size_t new_repetitions = 0;
  Verdict verdict = Verdict::same;
  bool gates = true;        // power_W is shown but never fails: a faster run may draw more power
  bool regression = false;  // gates, beyond the threshold, significant, in the bad direction
  // What old and new are: "mean" (of the repetitions, or the mean aggregate), "median", or the
  // name of another aggregate both sides have (then the row is information: same, no gate).
  std::string statistic = "mean";
  bool old_from_aggregate = false;  // the figure is an aggregate row's, not the repetitions'
  bool new_from_aggregate = false;
  bool percentage = false;  // a percentage aggregate (cv): old and new are fractions, not seconds
  bool old_throttled = false;
  bool new_throttled = false;

  [[nodiscard]] bool throttled() const { return old_throttled || new_throttled; }
};

// A benchmark that cannot be paired: present (or successful) in one file only.
struct Unpaired {
  std::string name;
  std::string side;         // "old" or "new": where it is present and ran
  std::string reason;       // "only in old", "failed in new: <message>", "no statistic in common ...", ...
  bool regression = false;  // it ran before and fails now
};

struct Comparison {
  std::vector<MetricComparison> rows;
  std::vector<Unpaired> unpaired;
  std::vector<std::string> warnings;  // one line each, for standard error
  int regressions = 0;
  int throttled_regressions = 0;  // of those, rows where a side ran throttled
};

// compare.py's relative change: (new - old) / |old|; 0 when both are 0; against the mean of the
// two when old is 0.
[[nodiscard]] double relative_change(double old_value, double new_value);

// Pairs the benchmarks of two runs by run name. Throws InputError for a bad filter, or when there is
// nothing to compare (a file without benchmarks, no name in both, nothing in both with times): the
// message says which.
[[nodiscard]] Comparison compare_results(const ResultsFile& old_file, const ResultsFile& new_file,
                                         const CompareOptions& options);

// {"comparisons": [{"name", "metric", "old", "new", "change", "pvalue", "repetitions": [n_old,
// n_new], "verdict", "gates", "regression", "statistic", "from": [old, new] ("repetitions" or
// "aggregate"), "unit" ("s", "fraction" or the counter's), "throttled", "throttled_in": [sides]}],
// "unpaired": [{"name", "present_in", "reason", "regression"}], "regressions": N,
// "throttled_regressions": N}. Times are in seconds; pvalue is null without two repetitions a side.
[[nodiscard]] nlohmann::json to_json(const Comparison& comparison);

}  // namespace edgeroof::reports
