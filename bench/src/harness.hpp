// What every registered benchmark shares: its name, its counters and its timed loop.
#pragma once

#include "edgeroof/power/clock_sampler.hpp"
#include "edgeroof/power/sensor.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::bench {

// Work done by one benchmark iteration, from the kernel's own metadata.
struct Work {
  double flops = 0.0;
  double bytes = 0.0;
};

// The sensor every EnergyWindow reads (edgeroof-bench --sensor), or none. Not owned; it must
// outlive the benchmarks. A sensor that is not available() counts as none.
void set_energy_sensor(power::EnergySensor* sensor);
[[nodiscard]] power::EnergySensor* energy_sensor();

// The clocks every EnergyWindow also samples (edgeroof-bench does unless --clock-period-s=0), or
// none. Not owned; it must outlive the benchmarks.
void set_clock_sampler(power::ClockSampler* sampler);

// The energy and the clocks of a benchmark's timed window. Construct it immediately before the
// `for (auto _ : state)` loop and call finish() immediately after; finish() adds energy_J (per
// iteration), power_W (average over the window), energy_J.<rail> (per iteration) and
// sensor_updates (how many sensor updates the window spanned) when a sensor is active, and nothing
// when there is none (the context then says why) or when a reading failed (a warning says why;
// the benchmark itself still runs and reports its times). With a clock sampler it adds
// clock_min_ratio and throttled (set_clock_counters).
class EnergyWindow {
public:
  explicit EnergyWindow(benchmark::State& state);
  ~EnergyWindow();
  EnergyWindow(const EnergyWindow&) = delete;
  EnergyWindow& operator=(const EnergyWindow&) = delete;
  void finish();

private:
  benchmark::State& m_state;
  power::EnergySensor* m_sensor = nullptr;  // null when no window is open
  power::ClockSampler* m_clocks = nullptr;  // null when no window is open
};

// "edgeroof-bench: warning: MESSAGE" on stderr, once per run however often it recurs: a failing
// sensor fails the same way in every benchmark.
void warn_once(const std::string& message);

// Adds a window's counters to `state` (as EnergyWindow::finish does). A rail whose energy is
// unknown (NaN) gets no energy_J.<rail>, and an unknown total no energy_J and power_W.
void set_energy_counters(benchmark::State& state, const power::EnergySensor& sensor, const power::WindowEnergy& window);

// clock_min_ratio: the lowest clock of the window over its clock at the start of the run, the
// lowest over the domains (absent when no clock could be read); throttled: 1 when that is below
// 0.97 or NVML reported a thermal or power limit, else 0 (absent when neither could be read).
void set_clock_counters(benchmark::State& state, const power::ClockWindow& window);

// Idle power: `windows` consecutive windows over `duration_s` with nothing running; the mean power
// over the whole time and the standard deviation of the windows' averages. Windows whose total is
// unknown are left out; a rail unknown in a window has no mean (NaN).
struct IdlePower {
  double mean_W = 0.0;
  double stddev_W = 0.0;
  int windows = 0;
  double duration_s = 0.0;
  std::vector<double> rail_mean_W;
};
[[nodiscard]] IdlePower measure_idle_power(power::EnergySensor& sensor, double duration_s, int windows = 10);

// The time a window must last to span `updates` updates of the sensor; nullopt when its period is
// unknown.
[[nodiscard]] std::optional<double> min_window_s(const power::EnergySensor& sensor, int updates);

// Sets the work counters of the contract (README.md, "Contracts"): flops and bytes per iteration,
// ai, FLOP/s and B/s.
void set_work_counters(benchmark::State& state, const Work& per_iteration);

// Marks the benchmark failed when a kernel's output is wrong, so no number is reported for it.
// Returns false when it failed.
bool check_result(benchmark::State& state, double max_relative_error, double tolerance);
// The message a failed check gives ("result check failed: relative error 0.5 exceeds 0.0001", with
// " at WHAT" after "failed" when `what` is not empty, as a model names its layer), or nullopt when
// the error is finite and within the tolerance.
[[nodiscard]] std::optional<std::string> result_check_failure(double max_relative_error, double tolerance,
                                                              const std::string& what);

// Memory level a working set is served from, given the usable capacity of each cache level
// (already multiplied by the number of instances the threads use): "l1", "l2", "l3" ... for a set
// that fits in half of a level and exceeds the level below, "dram" from four times the last
// level on, "mixed" in between.
[[nodiscard]] std::string memory_level(std::uint64_t working_set_bytes, const std::uint64_t* capacities, int levels);

// Passes per iteration so that one iteration moves at least `target_bytes`.
[[nodiscard]] std::uint64_t passes_for(std::uint64_t bytes_per_pass, std::uint64_t target_bytes);

}  // namespace edgeroof::bench
