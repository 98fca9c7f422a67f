// Reading Google Benchmark JSON: the only hand-over between measuring and reporting.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeroof::reports {

// Bad input to a report command (unreadable, malformed or truncated JSON, a missing key): what()
// is one line that names the file and what is wrong with it.
class InputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct BenchmarkRecord {
  std::string name;            // "compute/cpu/fp32/ai:16"
  std::string run_name;        // name without aggregate suffixes
  std::string run_type;        // "iteration" or "aggregate"
  std::string aggregate_name;  // "mean", "median", ... for aggregates
  int repetition_index = 0;
  double iterations = 0.0;
  double real_time_s = 0.0;  // per iteration
  double cpu_time_s = 0.0;   // per iteration
  std::map<std::string, double> counters;
  std::string label;
  bool error = false;
  std::string error_message;

  [[nodiscard]] std::optional<double> counter(const std::string& key) const;
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

// Reads a JSON document with one clear error line on failure. Throws InputError.
[[nodiscard]] std::string read_text_file(const std::filesystem::path& path);

// A benchmark name split at '/': "memory/cuda/triad/bytes:1024" -> family "memory", backend
// "cuda", what "triad", parameter "bytes" = "1024". Layer names have more parts, kept in `parts`.
struct BenchmarkName {
  std::string family;
  std::string backend;
  std::string what;
  std::string param_key;
  std::string param_value;
  std::vector<std::string> parts;
};
[[nodiscard]] std::optional<BenchmarkName> parse_benchmark_name(const std::string& name);

// The plain repetitions of each benchmark (aggregates and failed runs left out), by run name,
// in the order they appear.
[[nodiscard]] std::map<std::string, std::vector<const BenchmarkRecord*>> repetitions_by_name(const ResultsFile& file);

// Median of a non-empty list.
[[nodiscard]] double median(std::vector<double> values);

}  // namespace edgeroof::reports
