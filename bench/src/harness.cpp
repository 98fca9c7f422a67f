#include "harness.hpp"

#include "edgeroof/results/keys.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

namespace edgeroof::bench {

namespace counters = results::counters;

namespace {

power::EnergySensor* g_sensor = nullptr;
power::ClockSampler* g_clocks = nullptr;

void warn_all(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) warn_once(w);
}

}  // namespace

void warn_once(const std::string& message) {
  static std::mutex mutex;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> lock(mutex);
  if (said.insert(message).second) std::fprintf(stderr, "edgeroof-bench: warning: %s\n", message.c_str());
}

void set_energy_sensor(power::EnergySensor* sensor) { g_sensor = sensor; }
power::EnergySensor* energy_sensor() { return g_sensor; }
void set_clock_sampler(power::ClockSampler* sampler) { g_clocks = sampler; }

EnergyWindow::EnergyWindow(benchmark::State& state) : m_state(state) {
  // Only the first thread of a multi-threaded benchmark owns the window.
  if (state.thread_index() != 0) return;
  // The clocks first and the energy last, so the energy window is the tighter one around the loop.
  if (g_clocks != nullptr && g_clocks->available()) {
    try {
      g_clocks->start();
      m_clocks = g_clocks;
    } catch (const std::exception& e) {
      warn_once(std::string("clocks not sampled: ") + e.what());
    }
  }
  // Without a sensor there is no energy to report: the counters stay absent, never zero.
  if (g_sensor == nullptr || !g_sensor->available()) return;
  try {
    g_sensor->start();
    m_sensor = g_sensor;
  } catch (const std::exception& e) {
    warn_once(std::string("energy not measured: ") + e.what());
  }
}

EnergyWindow::~EnergyWindow() {
  // A benchmark that ended early (an exception, SkipWithError) still closes its windows.
  try {
    if (m_sensor != nullptr) (void)m_sensor->stop();
  } catch (const std::exception&) {
  }
  try {
    if (m_clocks != nullptr) (void)m_clocks->stop();
  } catch (const std::exception&) {
  }
}

void EnergyWindow::finish() {
  power::EnergySensor* sensor = std::exchange(m_sensor, nullptr);
  power::ClockSampler* clocks = std::exchange(m_clocks, nullptr);
  if (sensor != nullptr) {
    try {
      set_energy_counters(m_state, *sensor, sensor->stop());
    } catch (const std::exception& e) {
      warn_once(std::string("energy not measured: ") + e.what());
    }
  }
  if (clocks != nullptr) {
    try {
      set_clock_counters(m_state, clocks->stop());
    } catch (const std::exception& e) {
      warn_once(std::string("clocks not sampled: ") + e.what());
    }
  }
}

void set_energy_counters(benchmark::State& state, const power::EnergySensor& sensor, const power::WindowEnergy& w) {
  using benchmark::Counter;
  warn_all(w.warnings);
  if (w.duration_s <= 0.0) return;
  if (std::isfinite(w.total_J)) {
    state.counters[counters::energy_J] = Counter(w.total_J, Counter::kAvgIterations);
    state.counters[counters::power_W] = Counter(w.total_J / w.duration_s);
  }
  const auto& rails = sensor.rails();
  for (std::size_t r = 0; r < rails.size() && r < w.rail_J.size(); ++r) {
    if (std::isfinite(w.rail_J[r]))
      state.counters[counters::rail_energy(rails[r].name)] = Counter(w.rail_J[r], Counter::kAvgIterations);
  }
  if (const auto period = sensor.update_period_s(); period && *period > 0.0) {
    state.counters[counters::sensor_updates] = Counter(std::floor(w.duration_s / *period));
  }
}

void set_clock_counters(benchmark::State& state, const power::ClockWindow& w) {
  warn_all(w.warnings);
  if (w.min_ratio) state.counters[counters::clock_min_ratio] = benchmark::Counter(*w.min_ratio);
  if (const auto throttled = w.throttled())
    state.counters[counters::throttled] = benchmark::Counter(*throttled ? 1.0 : 0.0);
}

IdlePower measure_idle_power(power::EnergySensor& sensor, double duration_s, int windows) {
  IdlePower idle;
  if (windows < 1 || duration_s <= 0.0) return idle;
  const auto each = std::chrono::duration<double>(duration_s / windows);
  std::vector<double> averages;
  double total_J = 0.0;
  const std::size_t rails = sensor.rails().size();
  std::vector<double> rail_J(rails, 0.0), rail_s(rails, 0.0);
  for (int i = 0; i < windows; ++i) {
    sensor.start();
    std::this_thread::sleep_for(each);
    const auto w = sensor.stop();
    warn_all(w.warnings);
    if (w.duration_s <= 0.0 || !std::isfinite(w.total_J)) continue;
    averages.push_back(w.average_power_W());
    total_J += w.total_J;
    idle.duration_s += w.duration_s;
    for (std::size_t r = 0; r < w.rail_J.size() && r < rails; ++r) {
      if (!std::isfinite(w.rail_J[r])) continue;
      rail_J[r] += w.rail_J[r];
      rail_s[r] += w.duration_s;
    }
  }
  idle.windows = static_cast<int>(averages.size());
  if (idle.windows == 0) return idle;
  idle.mean_W = total_J / idle.duration_s;
  // A rail unknown in some window is known only over the others; unknown throughout, it has none.
  for (std::size_t r = 0; r < rails; ++r)
    idle.rail_mean_W.push_back(rail_s[r] > 0.0 ? rail_J[r] / rail_s[r] : std::numeric_limits<double>::quiet_NaN());
  if (idle.windows > 1) {
    double mean = 0.0;
    for (double a : averages) mean += a;
    mean /= idle.windows;
    double ss = 0.0;
    for (double a : averages) ss += (a - mean) * (a - mean);
    idle.stddev_W = std::sqrt(ss / (idle.windows - 1));
  }
  return idle;
}

std::optional<double> min_window_s(const power::EnergySensor& sensor, int updates) {
  const auto period = sensor.update_period_s();
  if (!period || *period <= 0.0 || updates <= 0) return std::nullopt;
  return *period * updates;
}

void set_work_counters(benchmark::State& state, const Work& w) {
  using benchmark::Counter;
  state.counters[counters::flops] = Counter(w.flops);
  state.counters[counters::bytes] = Counter(w.bytes);
  state.counters[counters::ai] = Counter(w.bytes > 0 ? w.flops / w.bytes : 0.0);
  // Rates: per-iteration work times iterations over the (real or manual) time of the run.
  state.counters[counters::flop_rate] = Counter(w.flops, Counter::kIsIterationInvariantRate);
  state.counters[counters::byte_rate] = Counter(w.bytes, Counter::kIsIterationInvariantRate, Counter::kIs1024);
}

bool check_result(benchmark::State& state, double max_relative_error, double tolerance) {
  const auto failure = result_check_failure(max_relative_error, tolerance, "");
  if (failure) state.SkipWithError(failure->c_str());
  return !failure;
}

std::optional<std::string> result_check_failure(double max_relative_error, double tolerance, const std::string& what) {
  if (std::isfinite(max_relative_error) && max_relative_error <= tolerance) return std::nullopt;
  char msg[160];
  std::snprintf(msg, sizeof(msg), "relative error %.3g exceeds %.3g", max_relative_error, tolerance);
  return "result check failed" + (what.empty() ? std::string() : " at " + what) + ": " + msg;
}

std::string memory_level(std::uint64_t ws, const std::uint64_t* capacities, int levels) {
  if (levels <= 0) return "dram";
  for (int l = 0; l < levels; ++l) {
    const std::uint64_t below = l == 0 ? 0 : capacities[l - 1];
    if (ws > below && ws <= capacities[l] / 2) return "l" + std::to_string(l + 1);
  }
  if (ws >= 4 * capacities[levels - 1]) return "dram";
  return "mixed";
}

std::uint64_t passes_for(std::uint64_t bytes_per_pass, std::uint64_t target_bytes) {
  if (bytes_per_pass == 0) return 1;
  return std::max<std::uint64_t>(1, (target_bytes + bytes_per_pass - 1) / bytes_per_pass);
}

}  // namespace edgeroof::bench
