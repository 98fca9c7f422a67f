#include "harness.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

namespace edgeroof::bench {

namespace {

power::EnergySensor* g_sensor = nullptr;

// A failing sensor fails the same way in every benchmark: say it once.
void warn_once(const std::string& message) {
  static std::mutex mutex;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> lock(mutex);
  if (said.insert(message).second) std::fprintf(stderr, "edgeroof-bench: warning: %s\n", message.c_str());
}

}  // namespace

void set_energy_sensor(power::EnergySensor* sensor) { g_sensor = sensor; }
power::EnergySensor* energy_sensor() { return g_sensor; }

EnergyWindow::EnergyWindow(benchmark::State& state) : m_state(state) {
  // Without a sensor there is no energy to report: the counters stay absent, never zero. Only the
  // first thread of a multi-threaded benchmark owns the window.
  if (g_sensor == nullptr || !g_sensor->available() || state.thread_index() != 0) return;
  try {
    g_sensor->start();
    m_sensor = g_sensor;
  } catch (const std::exception& e) {
    warn_once(std::string("energy not measured: ") + e.what());
  }
}

EnergyWindow::~EnergyWindow() {
  // A benchmark that ended early (an exception, SkipWithError) still closes its window.
  if (m_sensor == nullptr) return;
  try {
    (void)m_sensor->stop();
  } catch (const std::exception&) {
  }
}

void EnergyWindow::finish() {
  if (m_sensor == nullptr) return;
  power::EnergySensor* sensor = m_sensor;
  m_sensor = nullptr;
  try {
    set_energy_counters(m_state, *sensor, sensor->stop());
  } catch (const std::exception& e) {
    warn_once(std::string("energy not measured: ") + e.what());
  }
}

void set_energy_counters(benchmark::State& state, const power::EnergySensor& sensor, const power::WindowEnergy& w) {
  using benchmark::Counter;
  if (w.duration_s <= 0.0) return;
  state.counters["energy_J"] = Counter(w.total_J, Counter::kAvgIterations);
  state.counters["power_W"] = Counter(w.total_J / w.duration_s);
  const auto& rails = sensor.rails();
  for (std::size_t r = 0; r < rails.size() && r < w.rail_J.size(); ++r) {
    state.counters["energy_J." + rails[r].name] = Counter(w.rail_J[r], Counter::kAvgIterations);
  }
  if (const auto period = sensor.update_period_s(); period && *period > 0.0) {
    state.counters["sensor_updates"] = Counter(std::floor(w.duration_s / *period));
  }
}

IdlePower measure_idle_power(power::EnergySensor& sensor, double duration_s, int windows) {
  IdlePower idle;
  if (windows < 1 || duration_s <= 0.0) return idle;
  const auto each = std::chrono::duration<double>(duration_s / windows);
  std::vector<double> averages;
  double total_J = 0.0;
  idle.rail_mean_W.assign(sensor.rails().size(), 0.0);
  for (int i = 0; i < windows; ++i) {
    sensor.start();
    std::this_thread::sleep_for(each);
    const auto w = sensor.stop();
    if (w.duration_s <= 0.0) continue;
    averages.push_back(w.average_power_W());
    total_J += w.total_J;
    idle.duration_s += w.duration_s;
    for (std::size_t r = 0; r < w.rail_J.size() && r < idle.rail_mean_W.size(); ++r) idle.rail_mean_W[r] += w.rail_J[r];
  }
  idle.windows = static_cast<int>(averages.size());
  if (idle.windows == 0) return idle;
  idle.mean_W = total_J / idle.duration_s;
  for (double& joules : idle.rail_mean_W) joules /= idle.duration_s;
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
  state.counters["flops"] = Counter(w.flops);
  state.counters["bytes"] = Counter(w.bytes);
  state.counters["ai"] = Counter(w.bytes > 0 ? w.flops / w.bytes : 0.0);
  // Rates: per-iteration work times iterations over the (real or manual) time of the run.
  state.counters["FLOP/s"] = Counter(w.flops, Counter::kIsIterationInvariantRate);
  state.counters["B/s"] = Counter(w.bytes, Counter::kIsIterationInvariantRate, Counter::kIs1024);
}

bool check_result(benchmark::State& state, double max_relative_error, double tolerance) {
  if (std::isfinite(max_relative_error) && max_relative_error <= tolerance) return true;
  char msg[160];
  std::snprintf(msg, sizeof(msg), "result check failed: relative error %.3g exceeds %.3g", max_relative_error,
                tolerance);
  state.SkipWithError(msg);
  return false;
}

std::string format_number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.10g", x);
  return buf;
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
