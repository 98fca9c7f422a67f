// The results file: Google Benchmark writes it under a temporary name; when the run is complete,
// edgeroof adds what it learned at the end (clocks after the run), gives the benchmarks their
// stable names, and renames it into place, so a
// crashed or interrupted run never leaves a half-written file under the name asked for.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace edgeroof::bench {

// Google Benchmark appends "/real_time" or "/manual_time" to the name of a benchmark that uses
// that timer; the results file carries the stable names of DESIGN.md without it
// ("compute/cuda/fp32/ai:16", aggregates "compute/cuda/fp32/ai:16_median").
[[nodiscard]] std::string strip_time_type(std::string name);

class Output {
public:
  // Rewrites --benchmark_out=FILE in `args` to a temporary name next to FILE and arranges for the
  // temporary file to be removed on SIGINT/SIGTERM.
  explicit Output(std::vector<char*>& args);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Adds `context` to the JSON's context and moves the file into place. No-op without an output.
  void finish(const std::map<std::string, std::string>& context);

private:
  std::string m_final;
  std::string m_partial;
  std::string m_arg;  // storage for the rewritten argument
  bool m_json = true;
  bool m_keep_partial = false;
};

}  // namespace edgeroof::bench
