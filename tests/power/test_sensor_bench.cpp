// EnergyWindow inside a real Google Benchmark run: the counters it adds for a sensor whose window
// energy is known, none without a sensor, and a benchmark that still runs when the sensor fails.
#include "harness.hpp"

#include <benchmark/benchmark.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace edgeroof;

namespace {

// Every window lasts 0.5 s and spends 2 J on VDD_IN (the board total) and 1 J on VDD_SOC inside
// it, or fails in stop() like a file that vanished.
class ScriptedSensor final : public power::EnergySensor {
public:
  explicit ScriptedSensor(bool fail) : EnergySensor("scripted"), m_fail(fail) {
    set_rails({{"VDD_IN", "mV*mA", true, ""}, {"VDD_SOC", "mV*mA", false, "VDD_IN"}});
    set_period(0.01, "update_interval");
  }

private:
  void do_start() override {}
  power::WindowEnergy do_stop() override {
    if (m_fail) throw power::SensorError("cannot read /sys/fake/in1_input: No such file or directory");
    power::WindowEnergy w;
    w.duration_s = 0.5;
    w.rail_J = {2.0, 1.0};
    return w;
  }
  bool m_fail;
};

// The final run of each benchmark, as reported.
class Collect : public benchmark::BenchmarkReporter {
public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) m_runs[r.benchmark_name()] = r;
  }
  std::map<std::string, Run> m_runs;
};

void windowed(benchmark::State& state) {
  bench::EnergyWindow energy(state);
  for (auto _ : state) benchmark::DoNotOptimize(state.iterations());
  energy.finish();
}

std::map<std::string, benchmark::BenchmarkReporter::Run> run_with(power::EnergySensor* sensor, const std::string& name) {
  bench::set_energy_sensor(sensor);
  benchmark::ClearRegisteredBenchmarks();
  benchmark::RegisterBenchmark(name.c_str(), windowed)->Iterations(4);
  Collect collect;
  benchmark::RunSpecifiedBenchmarks(&collect);
  bench::set_energy_sensor(nullptr);
  return collect.m_runs;
}

}  // namespace

TEST(EnergyWindow, CountersPerIterationAndAveragePower) {
  ScriptedSensor sensor(false);
  const auto runs = run_with(&sensor, "scripted/ok");
  ASSERT_EQ(runs.size(), 1u);
  const auto& r = runs.begin()->second;
  EXPECT_FALSE(r.error_occurred);
  ASSERT_EQ(r.iterations, 4);
  // The total is VDD_IN alone (VDD_SOC is inside it): 2 J over 4 iterations, 2 J / 0.5 s.
  const auto counter = [&](const char* name) {
    const auto it = r.counters.find(name);
    EXPECT_NE(it, r.counters.end()) << name;
    if (it == r.counters.end()) return 0.0;
    // Reported counters are final: kAvgIterations has already divided by the iterations.
    return it->second.value;
  };
  EXPECT_DOUBLE_EQ(counter("energy_J"), 0.5);
  EXPECT_DOUBLE_EQ(counter("power_W"), 4.0);
  EXPECT_DOUBLE_EQ(counter("energy_J.VDD_IN"), 0.5);
  EXPECT_DOUBLE_EQ(counter("energy_J.VDD_SOC"), 0.25);
  EXPECT_DOUBLE_EQ(counter("sensor_updates"), 50.0);  // 0.5 s at 10 ms
}

TEST(EnergyWindow, NoSensorNoEnergyCounters) {
  const auto runs = run_with(nullptr, "scripted/none");
  ASSERT_EQ(runs.size(), 1u);
  const auto& r = runs.begin()->second;
  EXPECT_FALSE(r.error_occurred);
  EXPECT_EQ(r.counters.count("energy_J"), 0u);
  EXPECT_EQ(r.counters.count("power_W"), 0u);
}

TEST(EnergyWindow, FailingSensorLeavesTheBenchmarkRunningWithoutEnergy) {
  ScriptedSensor sensor(true);
  testing::internal::CaptureStderr();
  const auto runs = run_with(&sensor, "scripted/fails");
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(runs.size(), 1u);
  const auto& r = runs.begin()->second;
  EXPECT_FALSE(r.error_occurred);
  EXPECT_EQ(r.iterations, 4);
  EXPECT_EQ(r.counters.count("energy_J"), 0u);
  EXPECT_NE(err.find("energy not measured: cannot read /sys/fake/in1_input"), std::string::npos) << err;
}

TEST(IdlePower, MeanAndSpreadOfWindows) {
  ScriptedSensor sensor(false);
  const auto idle = bench::measure_idle_power(sensor, 0.02, 4);
  EXPECT_EQ(idle.windows, 4);
  EXPECT_DOUBLE_EQ(idle.duration_s, 2.0);  // four scripted windows of 0.5 s
  EXPECT_DOUBLE_EQ(idle.mean_W, 4.0);
  EXPECT_DOUBLE_EQ(idle.stddev_W, 0.0);
  ASSERT_EQ(idle.rail_mean_W.size(), 2u);
  EXPECT_DOUBLE_EQ(idle.rail_mean_W[1], 2.0);
  ASSERT_TRUE(bench::min_window_s(sensor, 20).has_value());
  EXPECT_DOUBLE_EQ(*bench::min_window_s(sensor, 20), 0.2);
}
