// Reading Google Benchmark JSON: the only hand-over between measuring and reporting. The names,
// counters and context keys it carries are those of names.hpp and keys.hpp (README.md, "Contracts").
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeroof::results {

// Bad input to a report command (unreadable, malformed or truncated JSON, a missing key): what()
// is one line that names the file and what is wrong with it.
class InputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// One element of "benchmarks", as any Google Benchmark from 1.5 to 1.9 writes it. Fields a version
// does not write are absent (nullopt, empty), never made up. Every number is checked as it is
// read (see parse_results).
struct BenchmarkRecord {
  std::string name;            // "compute/cpu/fp32/ai:16"
  std::string run_name;        // name without aggregate suffixes
  std::string run_type;        // "iteration" or "aggregate"
  std::string aggregate_name;  // "mean", "median", "stddev", "cv", "BigO", "RMS", ... for aggregates
  // "time", or "percentage" (cv): then real_time_s and cpu_time_s hold fractions, not seconds.
  // Empty for iterations and before Google Benchmark 1.6.
  std::string aggregate_unit;
  int repetition_index = 0;
  std::optional<int> repetitions;  // how many repetitions the run had (an aggregate: summarizes)
  std::optional<int> threads;
  std::optional<int> family_index;
  std::optional<int> per_family_instance_index;
  double iterations = 0.0;           // iteration_count as a double
  std::int64_t iteration_count = 0;  // 0 where the file does not say
  double real_time_s = 0.0;          // per iteration
  double cpu_time_s = 0.0;           // per iteration
  // real_time_s is a figure: false for BigO/RMS rows, rows with no times at all (compare.py cannot
  // compare them either) and aggregates whose statistic is undefined (written as NaN).
  bool measured = true;
  bool has_cpu_time = true;
  bool complexity = false;                 // a BigO or RMS row of Google Benchmark's complexity fit
  std::map<std::string, double> counters;  // numeric user counters; NaN (null) ones are absent
  std::string label;
  bool error = false;    // error_occurred, or skipped (1.8+)
  bool skipped = false;  // skipped with a message rather than failed
  std::string error_message;

  [[nodiscard]] std::optional<double> counter(const std::string& key) const;
  [[nodiscard]] bool is_aggregate() const { return run_type == "aggregate"; }
  // The clocks fell below what the power mode sets during the timed window: the counter
  // "throttled" is 1 (a repetition), or above 0 in an aggregate other than stddev and cv (some
  // repetition was), as edgeroof-bench marks its label.
  [[nodiscard]] bool throttled() const;
};

struct ResultsFile {
  std::string path;
  std::map<std::string, std::string> context;  // scalar context values as text
  std::vector<BenchmarkRecord> benchmarks;

  [[nodiscard]] std::optional<std::string> context_value(const std::string& key) const;
};

// Parses one results file. Throws InputError.
[[nodiscard]] ResultsFile load_results(const std::filesystem::path& path);
// Parses results already in memory; `origin` names them in errors.
//
// What is refused, with one line naming the file, the benchmark (index and name) and the field:
// a field of the wrong type (a string where a number belongs, ...); a time (real_time, cpu_time)
// that is negative or, in a repetition, not finite; iterations, repetitions, repetition_index,
// threads, family_index or per_family_instance_index that are negative, fractional or do not fit;
// an unknown time_unit or run_type; a repetition with times but no real_time; and a negative
// contract counter (flops, bytes, ai, FLOP/s, B/s, energy_J, energy_J.<rail>, power_W,
// clock_min_ratio, throttled) or a throttled of a repetition that is not 0 or 1. Those are
// impossible, so the file is wrong, and no figure is made from it.
// What is accepted: every optional field missing (run_name, run_type, repetitions, ..., a missing
// time_unit is Google Benchmark's default ns); files of aggregates only, or no benchmarks at all;
// BigO/RMS rows (kept with complexity = true, never measured); rows without any time field; user
// counters of any name; NaN counters and statistics (Google Benchmark's bare NaN/inf, read as null),
// which are absent; fields that are not numbers where no number is expected (strings, objects).
// Where run_type is absent (before 1.5), names ending in _mean, _median, _stddev or _cv are
// aggregates of the run name before the suffix.
[[nodiscard]] ResultsFile parse_results(const std::string& text, const std::string& origin);

// Many results files, parsed concurrently (one thread per core): a sweep leaves thousands. The
// results keep the given order; when files are bad, the error of the first of them is thrown.
[[nodiscard]] std::vector<ResultsFile> load_results(const std::vector<std::filesystem::path>& paths);
// The same for texts already in memory, named by `origins` (same length).
[[nodiscard]] std::vector<ResultsFile> parse_results(const std::vector<std::string>& texts,
                                                     const std::vector<std::string>& origins);

// Google Benchmark writes non-finite statistics (the cv of a zero counter, ...) as bare NaN, -nan,
// inf or Infinity, which JSON does not allow. Returns the text with those values as null;
// strings are left alone.
[[nodiscard]] std::string non_finite_to_null(const std::string& json_text);

// Reads a JSON document with one clear error line on failure (a directory, a missing or unreadable
// file). Throws InputError.
[[nodiscard]] std::string read_text_file(const std::filesystem::path& path);

// Text from a file or a command line made fit for a one-line message: control characters shown
// as '?', and anything beyond max_chars cut with its length said, so a 100 KB name or argument is
// never echoed whole.
[[nodiscard]] std::string excerpt(const std::string& text, std::size_t max_chars = 120);

// The plain repetitions of each benchmark (aggregates, failed and unmeasured runs left out), by run
// name, in the order they appear.
[[nodiscard]] std::map<std::string, std::vector<const BenchmarkRecord*>> repetitions_by_name(const ResultsFile& file);

// Median of a non-empty list.
[[nodiscard]] double median(std::vector<double> values);

}  // namespace edgeroof::results
