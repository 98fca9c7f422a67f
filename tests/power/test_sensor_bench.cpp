// EnergyWindow inside a real Google Benchmark run: the counters it adds for a sensor whose window
// energy is known, none without a sensor, and a benchmark that still runs when the sensor fails.
// Then edgeroof-bench and `edgeroof tegrastats` as commands, on the fixture tree and log.
#include "harness.hpp"

#include <benchmark/benchmark.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <unistd.h>

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

std::map<std::string, benchmark::BenchmarkReporter::Run> run_with(power::EnergySensor* sensor,
                                                                  const std::string& name) {
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

// edgeroof-bench itself against the Orin AGX fixture: the sensor context, idle power and the
// counters in the JSON, and a minimum time raised to 100 updates of 6 ms.
TEST(BenchCommand, OrinFixtureGivesEnergyCountersAndSensorContext) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("edgeroof-sensor-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path out = dir / "orin.json";
  const fs::path err = dir / "stderr.txt";
  const std::string command =
      std::string(EDGEROOF_BINARY_DIR) + "/bench/edgeroof-bench --root=" + EDGEROOF_TEST_DATA_DIR +
      "/power/orin-agx --idle-s=1.2 --min-sensor-updates=100 --benchmark_filter='^memory/cpu/read/bytes:16384/'" +
      " --benchmark_min_time=0.01 --benchmark_out=" + out.string() + " >/dev/null 2>" + err.string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  std::ifstream err_in(err);
  const std::string messages((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
  fs::remove_all(dir);

  const auto& ctx = doc.at("context");
  EXPECT_EQ(ctx.at("sensor.name"), "ina3221");
  EXPECT_EQ(ctx.at("sensor.period_s"), "0.006");
  EXPECT_EQ(ctx.at("sensor.period_source"), "update_interval");
  EXPECT_EQ(ctx.at("sensor.rails"), "VDD_GPU_SOC,VDD_CPU_CV,VIN_SYS_5V0,VDDQ_VDD2_1V8AO");
  EXPECT_EQ(ctx.at("sensor.total"), "VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0");
  EXPECT_EQ(ctx.at("sensor.rail.VDDQ_VDD2_1V8AO.inside"), "VIN_SYS_5V0");
  EXPECT_FALSE(ctx.contains("sensor.unavailable"));
  // A constant 13.5 W in every idle window: mean 13.5, spread 0; 1.2 s holds two windows of at
  // least 100 updates (0.6 s).
  EXPECT_EQ(ctx.at("idle_power_W.windows"), "2");
  EXPECT_DOUBLE_EQ(std::stod(ctx.at("idle_power_W").get<std::string>()), 13.5);
  EXPECT_DOUBLE_EQ(std::stod(ctx.at("idle_power_W.stddev").get<std::string>()), 0.0);
  EXPECT_DOUBLE_EQ(std::stod(ctx.at("idle_power_W.VDD_GPU_SOC").get<std::string>()), 6.0);
  // 100 updates of 6 ms = 0.6 s > the 0.01 s asked for.
  EXPECT_NE(messages.find("--benchmark_min_time raised from 0.01 to 0.6 s"), std::string::npos) << messages;

  ASSERT_EQ(doc.at("benchmarks").size(), 1u);
  const auto& b = doc.at("benchmarks")[0];
  EXPECT_NEAR(b.at("power_W").get<double>(), 13.5, 1e-9);
  EXPECT_GE(b.at("sensor_updates").get<double>(), 100.0);
  const double iterations = b.at("iterations").get<double>();
  const double seconds_per_iteration = b.at("real_time").get<double>() * 1e-6;  // kMicrosecond
  ASSERT_EQ(b.at("time_unit"), "us");
  EXPECT_GE(seconds_per_iteration * iterations, 0.6);
  // Per iteration: 13.5 W over one iteration's share of the window, which is the timed loop. The
  // window opens just before the loop and closes just after it, so it is never shorter (0.1% for
  // rounding); a preemption at an edge (a loaded CI machine) may stretch it by a time slice.
  const double loop_J = 13.5 * seconds_per_iteration;
  EXPECT_GE(b.at("energy_J").get<double>(), loop_J * 0.999);
  EXPECT_LE(b.at("energy_J").get<double>(), loop_J * 1.03);
  EXPECT_NEAR(b.at("energy_J.VDD_GPU_SOC").get<double>() / b.at("energy_J").get<double>(), 6.0 / 13.5, 1e-9);
  EXPECT_NEAR(b.at("energy_J.VDDQ_VDD2_1V8AO").get<double>() / b.at("energy_J").get<double>(), 1.5 / 13.5, 1e-9);
}

// `edgeroof tegrastats` on the Orin AGX log (lines 1 s apart), against the hand derivation in
// test_sensor_tegrastats.cpp: over [0.5, 2.5] s VDD_GPU_SOC is 7.375 J, VDD_CPU_CV 2.3 J,
// VIN_SYS_5V0 (3550+3600)/2 x 0.5 + 3600 + (3600+3550)/2 x 0.5 mJ = 7.175 J; the total leaves
// out VDDQ_VDD2_1V8AO, which is inside VIN_SYS_5V0.
TEST(TegrastatsCommand, WindowEnergyAndTotalAsJson) {
  namespace fs = std::filesystem;
  const fs::path out = fs::temp_directory_path() / ("edgeroof-tegrastats-" + std::to_string(::getpid()) + ".json");
  const std::string edgeroof = std::string(EDGEROOF_BINARY_DIR) + "/reports/edgeroof tegrastats ";
  const std::string log = std::string(EDGEROOF_TEST_DATA_DIR) + "/power/tegrastats/orin-agx.log";
  ASSERT_EQ(
      std::system(
          (edgeroof + log + " --interval-ms 1000 --window busy=0.5:2.5 --format json -o " + out.string()).c_str()),
      0);
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  fs::remove(out);
  EXPECT_EQ(doc.at("total"), "VDD_CPU_CV+VDD_GPU_SOC+VIN_SYS_5V0");
  const auto& w = doc.at("windows").at(0);
  EXPECT_EQ(w.at("name"), "busy");
  EXPECT_NEAR(w.at("energy_J").at("VDD_GPU_SOC").get<double>(), 7.375, 1e-12);
  EXPECT_NEAR(w.at("energy_J").at("VDD_CPU_CV").get<double>(), 2.3, 1e-12);
  EXPECT_NEAR(w.at("energy_J").at("VIN_SYS_5V0").get<double>(), 7.175, 1e-12);
  EXPECT_NEAR(w.at("total_energy_J").get<double>(), 16.85, 1e-12);
  EXPECT_NEAR(w.at("total_power_W").get<double>(), 16.85 / 2.0, 1e-12);
  // A window that ends before it begins is a usage error (exit 2), and nothing is written.
  const int rc =
      std::system((edgeroof + log + " --interval-ms 1000 --window 3:2 -o " + out.string() + " 2>/dev/null").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  EXPECT_FALSE(fs::exists(out));
}
