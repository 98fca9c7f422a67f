// What every registered benchmark shares: its name, its counters and its timed loop.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace edgeroof::bench {

// Work done by one benchmark iteration, from the kernel's own metadata.
struct Work {
  double flops = 0.0;
  double bytes = 0.0;
};

// The energy of a benchmark's timed window. Construct it immediately before the
// `for (auto _ : state)` loop and call finish() immediately after; finish() adds energy_J (per
// iteration), power_W and energy_J.<rail> when a sensor is active (edgeroof-bench --sensor), and
// nothing when the sensor is "none" (the context then says why).
class EnergyWindow {
public:
  explicit EnergyWindow(benchmark::State& state);
  EnergyWindow(const EnergyWindow&) = delete;
  EnergyWindow& operator=(const EnergyWindow&) = delete;
  void finish();

private:
  benchmark::State& m_state;
  bool m_finished = false;
};

// Sets the counters of DESIGN.md: flops and bytes per iteration, ai, FLOP/s and B/s.
void set_work_counters(benchmark::State& state, const Work& per_iteration);

// Marks the benchmark failed when a kernel's output is wrong, so no number is reported for it.
// Returns false when it failed.
bool check_result(benchmark::State& state, double max_relative_error, double tolerance);

// "0.125", "1", "256": the shortest text of a number, for stable benchmark names.
[[nodiscard]] std::string format_number(double x);

// Memory level a working set is served from, given the usable capacity of each cache level
// (already multiplied by the number of instances the threads use): "l1", "l2", "l3" ... for a set
// that fits in half of a level and exceeds the level below, "dram" from four times the last
// level on, "mixed" in between.
[[nodiscard]] std::string memory_level(std::uint64_t working_set_bytes, const std::uint64_t* capacities, int levels);

// Passes per iteration so that one iteration moves at least `target_bytes`.
[[nodiscard]] std::uint64_t passes_for(std::uint64_t bytes_per_pass, std::uint64_t target_bytes);

}  // namespace edgeroof::bench
