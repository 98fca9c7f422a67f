// EnergyWindow inside a real Google Benchmark run: the counters it adds for a sensor whose window
// energy is known, none without a sensor, and a benchmark that still runs when the sensor fails;
// the clock counters of a run whose GPU clock drops while it runs. Then edgeroof-bench and
// `edgeroof tegrastats` as commands, on the fixture trees and logs.
#include "edgeroof/power/clock_sampler.hpp"
#include "harness.hpp"
#include "program.hpp"

#include <benchmark/benchmark.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>

using namespace edgeroof;

namespace {

// Every window lasts 0.5 s and spends 2 J on VDD_IN (the board total) and 1 J on VDD_SOC inside
// it, or fails in stop() like a file that vanished, or has VDD_IN read garbage like a rail whose
// readings the INA3221 sensor refused.
class ScriptedSensor final : public power::EnergySensor {
public:
  enum class Script { ok, fail, garbage_total };
  explicit ScriptedSensor(Script script) : EnergySensor("scripted"), m_script(script) {
    set_rails({{"VDD_IN", "mV*mA", true, ""}, {"VDD_SOC", "mV*mA", false, "VDD_IN"}});
    set_period(0.01, "update_interval");
  }
  explicit ScriptedSensor(bool fail) : ScriptedSensor(fail ? Script::fail : Script::ok) {}

private:
  void do_start() override {}
  power::WindowEnergy do_stop() override {
    if (m_script == Script::fail)
      throw power::SensorError("cannot read /sys/fake/in1_input: No such file or directory");
    power::WindowEnergy w;
    w.duration_s = 0.5;
    w.rail_J = {2.0, 1.0};
    if (m_script == Script::garbage_total) {
      w.rail_J[0] = std::numeric_limits<double>::quiet_NaN();
      w.warnings = {"VDD_IN: /sys/fake/curr1_input reads -3, a negative value"};
    }
    return w;
  }
  Script m_script;
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

// 1 ms per iteration, so a window of N iterations lasts N ms.
void sleepy(benchmark::State& state) {
  bench::EnergyWindow energy(state);
  for (auto _ : state) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  energy.finish();
}

std::map<std::string, benchmark::BenchmarkReporter::Run> run_with(power::EnergySensor* sensor, const std::string& name,
                                                                  void (*body)(benchmark::State&) = windowed,
                                                                  int iterations = 4) {
  bench::set_energy_sensor(sensor);
  benchmark::ClearRegisteredBenchmarks();
  benchmark::RegisterBenchmark(name.c_str(), body)->Iterations(iterations);
  Collect collect;
  benchmark::RunSpecifiedBenchmarks(&collect);
  bench::set_energy_sensor(nullptr);
  return collect.m_runs;
}

std::optional<double> counter(const benchmark::BenchmarkReporter::Run& r, const char* name) {
  const auto it = r.counters.find(name);
  if (it == r.counters.end()) return std::nullopt;
  return it->second.value;
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

TEST(EnergyWindow, UnknownTotalLeavesEnergyAndPowerOutAndSaysWhyOnce) {
  ScriptedSensor sensor(ScriptedSensor::Script::garbage_total);
  testing::internal::CaptureStderr();
  const auto runs = run_with(&sensor, "scripted/garbage");
  const auto again = run_with(&sensor, "scripted/garbage-again");
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(runs.size(), 1u);
  const auto& r = runs.begin()->second;
  EXPECT_FALSE(counter(r, "energy_J").has_value());  // unknown, never 0
  EXPECT_FALSE(counter(r, "power_W").has_value());
  EXPECT_FALSE(counter(r, "energy_J.VDD_IN").has_value());
  EXPECT_DOUBLE_EQ(counter(r, "energy_J.VDD_SOC").value_or(0.0), 0.25);
  EXPECT_EQ(err, "edgeroof-bench: warning: VDD_IN: /sys/fake/curr1_input reads -3, a negative value\n");
  // Idle power leaves such windows out rather than averaging NaN.
  const auto idle = bench::measure_idle_power(sensor, 0.01, 2);
  EXPECT_EQ(idle.windows, 0);
}

namespace {

// The Orin AGX fixture (INA3221 rails and the mode's clocks), copied so that a test can change it.
class OrinCopy : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir = std::make_unique<test::ScratchDir>("orin");
    std::filesystem::copy(std::string(EDGEROOF_TEST_DATA_DIR) + "/power/orin-agx", root(),
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  }
  [[nodiscard]] std::filesystem::path root() const { return m_dir->path() / "root"; }
  // The GPU's devfreq clock, as the governor lowers it when the board is too hot.
  void set_gpu_hz(const std::string& hz) const {
    power::atomic_write(root() / "sys/devices/platform/17000000.ga10b/devfreq/17000000.ga10b/cur_freq", hz + "\n");
  }
  std::unique_ptr<test::ScratchDir> m_dir;
};

power::ClockSamplerOptions test_clock_options() {
  power::ClockSamplerOptions o;
  o.period_s = 0.005;
  o.nvml_library = "";
  return o;
}

}  // namespace

TEST_F(OrinCopy, GpuClockDroppingWhileTheBenchmarkRunsGivesThrottled) {
  power::ClockSampler clocks(power::Root(root()), test_clock_options());
  bench::set_clock_sampler(&clocks);
  // 300 iterations of 1 ms: the clock drops to 60% 100 ms into the timed loop.
  std::thread thermal([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    set_gpu_hz("780300000");
  });
  const auto runs = run_with(nullptr, "clocks/throttled", sleepy, 300);
  thermal.join();
  set_gpu_hz("1300500000");
  const auto steady = run_with(nullptr, "clocks/steady", sleepy, 50);
  bench::set_clock_sampler(nullptr);

  ASSERT_EQ(runs.size(), 1u);
  const auto& r = runs.begin()->second;
  EXPECT_EQ(counter(r, "throttled"), 1.0);
  EXPECT_DOUBLE_EQ(counter(r, "clock_min_ratio").value_or(0.0), 780300000.0 / 1300500000.0);
  EXPECT_FALSE(counter(r, "energy_J").has_value());  // clocks are sampled without a sensor too
  ASSERT_EQ(steady.size(), 1u);
  EXPECT_EQ(counter(steady.begin()->second, "throttled"), 0.0);
  EXPECT_EQ(counter(steady.begin()->second, "clock_min_ratio"), 1.0);
}

TEST(ClockCounters, NoReadableClockMeansNoClockCounters) {
  power::ClockSampler clocks(power::Root("/nonexistent"), test_clock_options());
  bench::set_clock_sampler(&clocks);
  const auto runs = run_with(nullptr, "clocks/none");
  bench::set_clock_sampler(nullptr);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_FALSE(counter(runs.begin()->second, "clock_min_ratio").has_value());
  EXPECT_FALSE(counter(runs.begin()->second, "throttled").has_value());
}

// edgeroof-bench itself against the Orin AGX fixture: the sensor context, idle power and the
// counters in the JSON, and a minimum time raised to 100 updates of 6 ms.
TEST(BenchCommand, OrinFixtureGivesEnergyCountersAndSensorContext) {
  const test::ScratchDir dir("sensor_bench");
  const auto out = dir.path() / "orin.json";
  const auto run = test::run_program(
      test::bench_exe(), {"--root=" + std::string(EDGEROOF_TEST_DATA_DIR) + "/power/orin-agx", "--idle-s=1.2",
                          "--min-sensor-updates=100", "--benchmark_filter=^memory/cpu/read/bytes:16384/",
                          "--benchmark_min_time=0.01", "--benchmark_out=" + out.string()});
  ASSERT_TRUE(test::succeeded(run));
  const auto doc = nlohmann::json::parse(test::read_file(out));

  const auto& ctx = doc.at("context");
  EXPECT_EQ(ctx.at("sensor.name"), "ina3221");
  EXPECT_EQ(ctx.at("sensor.period_s"), "0.006");
  EXPECT_EQ(ctx.at("sensor.period_source"), "update_interval");
  EXPECT_EQ(ctx.at("sensor.rails"), "VDD_GPU_SOC,VDD_CPU_CV,VIN_SYS_5V0,VDDQ_VDD2_1V8AO");
  EXPECT_EQ(ctx.at("sensor.total"), "VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0");
  EXPECT_EQ(ctx.at("sensor.rail.VDDQ_VDD2_1V8AO.inside"), "VIN_SYS_5V0");
  EXPECT_FALSE(ctx.contains("sensor.unavailable"));
  EXPECT_EQ(ctx.at("clocks.sampled"), "gpu,emc,cpu0,cpu4");
  EXPECT_EQ(ctx.at("clocks.period_s"), "0.02");
  // A constant 13.5 W in every idle window: mean 13.5, spread 0; 1.2 s holds two windows of at
  // least 100 updates (0.6 s).
  EXPECT_EQ(ctx.at("idle_power_W.windows"), "2");
  EXPECT_DOUBLE_EQ(std::stod(ctx.at("idle_power_W").get<std::string>()), 13.5);
  EXPECT_DOUBLE_EQ(std::stod(ctx.at("idle_power_W.stddev").get<std::string>()), 0.0);
  EXPECT_DOUBLE_EQ(std::stod(ctx.at("idle_power_W.VDD_GPU_SOC").get<std::string>()), 6.0);
  // 100 updates of 6 ms = 0.6 s > the 0.01 s asked for.
  EXPECT_NE(run.err.find("--benchmark_min_time raised from 0.01 to 0.6 s"), std::string::npos) << run.err;

  ASSERT_EQ(doc.at("benchmarks").size(), 1u);
  const auto& b = doc.at("benchmarks")[0];
  EXPECT_NEAR(b.at("power_W").get<double>(), 13.5, 1e-9);
  EXPECT_GE(b.at("sensor_updates").get<double>(), 100.0);
  EXPECT_EQ(b.at("clock_min_ratio").get<double>(), 1.0);  // the fixture's clocks stand still
  EXPECT_EQ(b.at("throttled").get<double>(), 0.0);
  EXPECT_EQ(b.at("label").get<std::string>().find("throttled"), std::string::npos);
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

// The run's start clocks are read as edgeroof-bench starts; the GPU clock drops 1 s later, during
// the 2 s of idle power, so every benchmark window after it runs at 60%.
TEST_F(OrinCopy, BenchCommandSaysThrottledInCountersAndLabel) {
  const auto out = m_dir->path() / "throttled.json";
  std::thread thermal([this] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    set_gpu_hz("780300000");
  });
  const auto run =
      test::run_program(test::bench_exe(), {"--root=" + root().string(), "--idle-s=2", "--min-sensor-updates=0",
                                            "--benchmark_filter=^memory/cpu/read/bytes:16384/",
                                            "--benchmark_min_time=0.01", "--benchmark_out=" + out.string()});
  thermal.join();
  ASSERT_TRUE(test::succeeded(run));
  const auto doc = nlohmann::json::parse(test::read_file(out));
  EXPECT_EQ(doc.at("context").at("clocks.start.gpu_hz"), "1300500000");
  ASSERT_EQ(doc.at("benchmarks").size(), 1u);
  const auto& b = doc.at("benchmarks")[0];
  EXPECT_EQ(b.at("throttled").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(b.at("clock_min_ratio").get<double>(), 780300000.0 / 1300500000.0);
  const std::string label = b.at("label");
  EXPECT_EQ(label.rfind("level:", 0), 0u) << label;  // the memory level first, as the fit reads it
  EXPECT_EQ(label.substr(label.size() - 10), " throttled") << label;
}

// `edgeroof tegrastats` on the Orin AGX log (lines 1 s apart), against the hand derivation in
// test_sensor_tegrastats.cpp: over [0.5, 2.5] s VDD_GPU_SOC is 7.375 J, VDD_CPU_CV 2.3 J,
// VIN_SYS_5V0 (3550+3600)/2 x 0.5 + 3600 + (3600+3550)/2 x 0.5 mJ = 7.175 J; the total leaves
// out VDDQ_VDD2_1V8AO, which is inside VIN_SYS_5V0.
TEST(TegrastatsCommand, WindowEnergyAndTotalAsJson) {
  const test::ScratchDir dir("tegrastats");
  const auto out = dir.path() / "energy.json";
  const std::string log = std::string(EDGEROOF_TEST_DATA_DIR) + "/power/tegrastats/orin-agx.log";
  ASSERT_TRUE(test::succeeded(test::run_edgeroof({"tegrastats", log, "--interval-ms", "1000", "--window",
                                                  "busy=0.5:2.5", "--format", "json", "-o", out.string()})));
  const auto doc = nlohmann::json::parse(test::read_file(out));
  EXPECT_EQ(doc.at("total"), "VDD_CPU_CV+VDD_GPU_SOC+VIN_SYS_5V0");
  EXPECT_TRUE(doc.at("skipped_lines").empty());
  const auto& w = doc.at("windows").at(0);
  EXPECT_EQ(w.at("name"), "busy");
  EXPECT_NEAR(w.at("energy_J").at("VDD_GPU_SOC").get<double>(), 7.375, 1e-12);
  EXPECT_NEAR(w.at("energy_J").at("VDD_CPU_CV").get<double>(), 2.3, 1e-12);
  EXPECT_NEAR(w.at("energy_J").at("VIN_SYS_5V0").get<double>(), 7.175, 1e-12);
  EXPECT_NEAR(w.at("total_energy_J").get<double>(), 16.85, 1e-12);
  EXPECT_NEAR(w.at("total_power_W").get<double>(), 16.85 / 2.0, 1e-12);
  EXPECT_EQ(w.at("gap_s").get<double>(), 0.0);
}

TEST(TegrastatsCommand, BadWindowsAndIntervalsAreUsageErrorsAndWriteNothing) {
  const test::ScratchDir dir("tegrastats_bad");
  const auto out = dir.path() / "energy.json";
  const std::string log = std::string(EDGEROOF_TEST_DATA_DIR) + "/power/tegrastats/orin-agx.log";
  EXPECT_TRUE(test::fails_with(
      test::run_edgeroof({"tegrastats", log, "--interval-ms", "1000", "--window", "3:2", "-o", out.string()}), 2,
      "edgeroof tegrastats: --window takes NAME=BEGIN:END in seconds with END > BEGIN, not '3:2' (see 'edgeroof "
      "tegrastats --help')"));
  for (const char* interval : {"0", "-5", "4e9"}) {
    EXPECT_TRUE(test::fails_with(test::run_edgeroof({"tegrastats", log, "--interval-ms", interval, "-o", out.string()}),
                                 2,
                                 std::string("edgeroof tegrastats: --interval-ms takes milliseconds in (0, 3600000], "
                                             "not ") +
                                     interval + " (see 'edgeroof tegrastats --help')"));
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

// A damaged log (tests/data/power/tegrastats/orin-agx-damaged.log, the Orin log with CRLF line
// ends, a garbage line 3 and a cut last line): the lines are skipped with their numbers, the
// others keep their time slots, and the energy over the gap is integrated between the good ones.
TEST(TegrastatsCommand, DamagedLinesAreSkippedWithTheirNumbersNotIntegratedAsZero) {
  const test::ScratchDir dir("tegrastats_damaged");
  const auto out = dir.path() / "energy.json";
  const std::string log = std::string(EDGEROOF_TEST_DATA_DIR) + "/power/tegrastats/orin-agx-damaged.log";
  const auto run = test::run_edgeroof(
      {"tegrastats", log, "--interval-ms", "1000", "--window", "all=0:4", "--format", "json", "-o", out.string()});
  ASSERT_TRUE(test::succeeded(run));
  EXPECT_EQ(run.err, "edgeroof tegrastats: warning: " + log +
                         ":3: skipped: VDD_GPU_SOC: '4O00mW/3333mW' is not a power reading in mW\n"
                         "edgeroof tegrastats: warning: " +
                         log +
                         ":6: skipped: rails differ from the log's other lines (missing VDDQ_VDD2_1V8AO, "
                         "VIN_SYS_5V0): cut short or garbled\n");
  const auto doc = nlohmann::json::parse(test::read_file(out));
  ASSERT_EQ(doc.at("skipped_lines").size(), 2u);
  EXPECT_EQ(doc.at("skipped_lines")[0].at("line"), 3);
  EXPECT_EQ(doc.at("samples"), 4);
  const auto& w = doc.at("windows").at(0);
  // Good lines at 0, 1, 3, 4 s; VDD_GPU_SOC 2000, 4000, 1000, 1500 mW: (2000+4000)/2 + (4000+1000)/2
  // x 2 + (1000+1500)/2 mJ = 9.25 J, with 2 s bridged between lines 2 and 4.
  EXPECT_DOUBLE_EQ(w.at("end_s").get<double>(), 4.0);
  EXPECT_NEAR(w.at("energy_J").at("VDD_GPU_SOC").get<double>(), 9.25, 1e-12);
  EXPECT_DOUBLE_EQ(w.at("gap_s").get<double>(), 2.0);
}
