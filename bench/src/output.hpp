// The results file: Google Benchmark writes it under a temporary name; when the run is complete,
// edgeroof adds what it learned at the end (clocks after the run), gives the benchmarks their
// stable names, and renames it into place, so a
// crashed or interrupted run never leaves a half-written file under the name asked for.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeroof::bench {

// A wrong command line (a flag's value, a results path that cannot be a file): edgeroof-bench
// says so in one line and exits with status 2 before any work.
class UsageError : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

// Google Benchmark appends "/real_time" or "/manual_time" to the name of a benchmark that uses
// that timer; the results file carries the stable names (README.md, "Contracts") without it
// ("compute/cuda/fp32/ai:16", aggregates "compute/cuda/fp32/ai:16_median").
[[nodiscard]] std::string strip_time_type(std::string name);

// Checks, before any benchmark runs, that `path` can become the results file: UsageError when it
// is empty, a directory, or in a directory that does not exist; std::runtime_error when the system
// refuses to create `path`.partial there. Leaves nothing behind.
void check_results_path(const std::string& path);

class Output {
public:
  // Checks --benchmark_out=FILE (check_results_path) and --benchmark_out_format in `args`,
  // rewrites FILE to a temporary name next to it and arranges for the temporary file to be
  // removed on SIGINT/SIGTERM.
  explicit Output(std::vector<char*>& args);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Adds `context` to the JSON's context, the label token "throttled" (results::add_label_token)
  // to every benchmark whose
  // throttled counter is set, and moves the file into place. No-op without an output.
  void finish(const std::map<std::string, std::string>& context);

private:
  std::string m_final;
  std::string m_partial;
  std::string m_arg;  // storage for the rewritten argument
  bool m_json = true;
  bool m_keep_partial = false;
};

}  // namespace edgeroof::bench
