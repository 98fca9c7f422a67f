// The sensors on fake sysfs trees in the real layouts (tests/data/power): Orin AGX with two
// INA3221 devices and NC channels, a Xavier NX with VDD_IN, a Nano on L4T 32 (IIO driver,
// POM_5V_IN), RAPL with package, core and dram; and the clock sampler on the Orin AGX's GPU
// devfreq, cpufreq policies and EMC rate, with clocks that drop while a window is open.
#include "edgeroof/power/clock_sampler.hpp"
#include "edgeroof/power/sensor.hpp"
#include "edgeroof/power/sensor_ina3221.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

namespace fs = std::filesystem;
using namespace edgeroof::power;

namespace {

const fs::path data = fs::path(EDGEROOF_TEST_DATA_DIR) / "power";

// A clock that advances 1 ms per reading: window durations and energies are then exact.
SensorOptions test_options() {
  SensorOptions o;
  auto ticks = std::make_shared<std::atomic<long>>(0);
  o.clock = [ticks] { return static_cast<double>(++*ticks) * 1e-3; };
  o.nvml_library = "/nonexistent/libnvidia-ml.so.1";  // no real GPU may leak into these tests
  o.period_probe_s = 0.02;
  return o;
}

// A writable copy of a fixture tree (symlinks kept), removed at the end of the test.
class TreeCopy : public ::testing::Test {
protected:
  fs::path copy(const std::string& fixture) {
    m_dir = fs::temp_directory_path() / ("edgeroof-sensor-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::copy(data / fixture, m_dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    return m_dir;
  }
  void TearDown() override {
    if (!m_dir.empty()) fs::remove_all(m_dir);
  }
  fs::path m_dir;
};

std::vector<std::string> names(const EnergySensor& s) {
  std::vector<std::string> out;
  for (const auto& r : s.rails()) out.push_back(r.name);
  return out;
}

}  // namespace

TEST(Ina3221, OrinAgxFindsBothDevicesOnceAndSkipsNcChannels) {
  const Root root(data / "orin-agx");
  const auto devices = detail::find_ina3221_devices(root);
  ASSERT_EQ(devices.size(), 2u);  // by driver and by /sys/class/hwmon link: still two
  EXPECT_EQ(devices[0].device, "1-0040");
  EXPECT_EQ(devices[1].device, "1-0041");

  auto sensor = make_ina3221_sensor(root, test_options());
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  EXPECT_EQ(names(*sensor), (std::vector<std::string>{"VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0", "VDDQ_VDD2_1V8AO"}));
  EXPECT_EQ(sensor->rails()[3].inside, "VIN_SYS_5V0");
  for (int r = 0; r < 3; ++r) EXPECT_TRUE(sensor->rails()[r].inside.empty());
  EXPECT_EQ(sensor->total_description(), "VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0");
  EXPECT_EQ(sensor->rails()[0].unit, "mV*mA");
  ASSERT_TRUE(sensor->update_period_s().has_value());
  EXPECT_DOUBLE_EQ(*sensor->update_period_s(), 0.006);  // update_interval = 6 ms
  EXPECT_EQ(sensor->period_source(), "update_interval");
}

TEST(Ina3221, OrinAgxEnergyIsVoltageTimesCurrentOverTheWindow) {
  auto sensor = make_ina3221_sensor(Root(data / "orin-agx"), test_options());
  sensor->start();
  const WindowEnergy w = sensor->stop();
  ASSERT_GT(w.duration_s, 0.0);
  // 5000 mV x 1200, 600, 900, 300 mA = 6, 3, 4.5, 1.5 W; the total leaves out VDDQ (inside 5V0).
  EXPECT_NEAR(w.rail_J[0] / w.duration_s, 6.0, 1e-9);
  EXPECT_NEAR(w.rail_J[1] / w.duration_s, 3.0, 1e-9);
  EXPECT_NEAR(w.rail_J[2] / w.duration_s, 4.5, 1e-9);
  EXPECT_NEAR(w.rail_J[3] / w.duration_s, 1.5, 1e-9);
  EXPECT_NEAR(w.average_power_W(), 13.5, 1e-9);
}

TEST(Ina3221, XavierNxTotalIsVddIn) {
  auto sensor = make_ina3221_sensor(Root(data / "xavier-nx"), test_options());
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  EXPECT_EQ(names(*sensor), (std::vector<std::string>{"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"}));
  EXPECT_TRUE(sensor->rails()[0].board_total);
  EXPECT_EQ(sensor->rails()[1].inside, "VDD_IN");
  EXPECT_EQ(sensor->rails()[2].inside, "VDD_IN");
  EXPECT_EQ(sensor->total_description(), "VDD_IN");
  // No update_interval and values that never change: the period is unknown, not made up.
  EXPECT_FALSE(sensor->update_period_s().has_value());
  sensor->start();
  const WindowEnergy w = sensor->stop();
  EXPECT_NEAR(w.average_power_W(), 5.080 * 1.5, 1e-9);  // VDD_IN only, not the sum of the three
}

TEST(Ina3221, NanoOnL4t32ReadsTheIioDriverInMilliwatts) {
  const Root root(data / "nano-l4t32");
  const auto devices = detail::find_ina3221_devices(root);
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_TRUE(devices[0].iio);
  EXPECT_EQ(devices[0].device, "6-0040");
  auto sensor = make_ina3221_sensor(root, test_options());
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  EXPECT_EQ(names(*sensor), (std::vector<std::string>{"POM_5V_IN", "POM_5V_GPU", "POM_5V_CPU"}));
  EXPECT_EQ(sensor->rails()[0].unit, "mW");
  EXPECT_EQ(sensor->total_description(), "POM_5V_IN");
  EXPECT_EQ(sensor->rails()[2].inside, "POM_5V_IN");
  sensor->start();
  const WindowEnergy w = sensor->stop();
  // in_power<N>_input in mW: 3041, 40, 1525; the total is the board input alone.
  EXPECT_NEAR(w.rail_J[1] / w.duration_s, 0.040, 1e-12);
  EXPECT_NEAR(w.average_power_W(), 3.041, 1e-12);
}

TEST_F(TreeCopy, PowerInputIsUsedWhereTheKernelProvidesIt) {
  const auto dir = copy("xavier-nx");
  std::ofstream(dir / "sys/bus/i2c/drivers/ina3221/7-0040/hwmon/hwmon5/power1_input") << "7000000\n";  // uW
  auto sensor = make_ina3221_sensor(Root(dir), test_options());
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  EXPECT_EQ(sensor->rails()[0].unit, "uW");
  sensor->start();
  EXPECT_NEAR(sensor->stop().average_power_W(), 7.0, 1e-9);
}

TEST_F(TreeCopy, UnreadableFileMakesTheSensorUnavailableWithItsName) {
  // Tests run as root, whom chmod 000 does not stop: a directory in place of the file fails the
  // same way a denied read does, with the path and the reason.
  const auto dir = copy("orin-agx");
  const auto curr = dir / "sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3/curr2_input";
  fs::remove(curr);
  fs::create_directory(curr);
  auto sensor = make_ina3221_sensor(Root(dir), test_options());
  EXPECT_FALSE(sensor->available());
  EXPECT_NE(sensor->unavailable_reason().find("curr2_input"), std::string::npos) << sensor->unavailable_reason();
  EXPECT_NE(sensor->unavailable_reason().find("Is a directory"), std::string::npos) << sensor->unavailable_reason();
  EXPECT_THROW(sensor->start(), SensorError);
  // auto then falls through to none and keeps every reason.
  auto any = make_sensor(SensorKind::automatic, Root(dir), test_options());
  EXPECT_EQ(any->name(), "none");
  EXPECT_NE(any->unavailable_reason().find("curr2_input"), std::string::npos);
  EXPECT_NE(any->unavailable_reason().find("nvml:"), std::string::npos);
  EXPECT_NE(any->unavailable_reason().find("rapl:"), std::string::npos);
}

TEST_F(TreeCopy, FileThatVanishesDuringTheWindowFailsStopWithItsName) {
  const auto dir = copy("orin-agx");
  auto sensor = make_ina3221_sensor(Root(dir), test_options());
  ASSERT_TRUE(sensor->available());
  sensor->start();
  fs::remove(dir / "sys/bus/i2c/drivers/ina3221/1-0041/hwmon/hwmon4/in2_input");
  try {
    (void)sensor->stop();
    FAIL() << "stop() must fail";
  } catch (const SensorError& e) {
    EXPECT_NE(std::string(e.what()).find("in2_input"), std::string::npos) << e.what();
  } catch (const SysfsError& e) {
    EXPECT_NE(std::string(e.what()).find("in2_input"), std::string::npos) << e.what();
  }
}

TEST_F(TreeCopy, AbsurdUpdateIntervalIsDistrustedNotAMinimumTimeOfYears) {
  const auto dir = copy("orin-agx");
  const auto node = dir / "sys/bus/i2c/drivers/ina3221/1-0041/hwmon/hwmon4/update_interval";
  for (const std::string text : {"2000000000000", "0", "-6", "10001", "6 ms", "nan"}) {
    atomic_write(node, text + "\n");
    auto sensor = make_ina3221_sensor(Root(dir), test_options());
    ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
    ASSERT_EQ(sensor->warnings().size(), 1u) << text;
    EXPECT_EQ(sensor->warnings()[0], node.string() + " reads '" + text +
                                         "', not a period in milliseconds within (0, 10 s]: the update period is "
                                         "measured instead");
    // The fixture's values never change, so there is nothing to measure: unknown, not 2e9 s.
    EXPECT_FALSE(sensor->update_period_s().has_value()) << text;
  }
  atomic_write(node, "10000\n");  // 10 s is slow but possible
  auto sensor = make_ina3221_sensor(Root(dir), test_options());
  EXPECT_TRUE(sensor->warnings().empty());
  EXPECT_DOUBLE_EQ(sensor->update_period_s().value_or(0.0), 10.0);
}

TEST_F(TreeCopy, NegativeCurrentLeavesTheRailAndTheTotalUnknownAndIsSaidOnce) {
  const auto dir = copy("orin-agx");
  auto sensor = make_ina3221_sensor(Root(dir), test_options());
  ASSERT_TRUE(sensor->available());
  const auto curr = dir / "sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3/curr1_input";  // VDD_GPU_SOC
  atomic_write(curr, "-1200\n");
  sensor->start();
  WindowEnergy w = sensor->stop();
  EXPECT_TRUE(std::isnan(w.rail_J[0]));
  EXPECT_NEAR(w.rail_J[1] / w.duration_s, 3.0, 1e-9);  // the other rails are still measured
  EXPECT_TRUE(std::isnan(w.total_J));                  // VDD_GPU_SOC is part of the total
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.warnings[0], "VDD_GPU_SOC: " + curr.string() +
                               " reads -1200, a negative value: its energy is not reported for windows with such "
                               "readings");
  sensor->start();
  w = sensor->stop();
  EXPECT_TRUE(std::isnan(w.rail_J[0]));
  EXPECT_TRUE(w.warnings.empty());  // said once
  // A rail that reads sense again is measured again.
  atomic_write(curr, "1200\n");
  sensor->start();
  w = sensor->stop();
  EXPECT_NEAR(w.average_power_W(), 13.5, 1e-9);
}

TEST_F(TreeCopy, ReadingsNoInaCanMakeAreRefusedWithTheirNode) {
  const auto dir = copy("xavier-nx");
  const auto hwmon = dir / "sys/bus/i2c/drivers/ina3221/7-0040/hwmon/hwmon5";
  atomic_write(hwmon / "in2_input", "40000\n");  // 40 V: beyond the 32.76 V bus register
  atomic_write(hwmon / "curr3_input", "12 mA\n");
  std::ofstream(hwmon / "power1_input") << "20000000000\n";  // 20 kW in uW
  auto sensor = make_ina3221_sensor(Root(dir), test_options());
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  // Found while the sensor was set up: said at once.
  ASSERT_EQ(sensor->warnings().size(), 3u);
  EXPECT_EQ(sensor->warnings()[0], "VDD_IN: " + (hwmon / "power1_input").string() +
                                       " reads 20000000000, beyond any INA3221: its energy is not reported for "
                                       "windows with such readings");
  EXPECT_NE(sensor->warnings()[1].find("VDD_CPU_GPU_CV: " + (hwmon / "in2_input").string() + " reads 40000, beyond"),
            std::string::npos);
  EXPECT_NE(sensor->warnings()[2].find("VDD_SOC: " + (hwmon / "curr3_input").string() + " reads '12 mA'"),
            std::string::npos);
  sensor->start();
  const WindowEnergy w = sensor->stop();
  for (double joules : w.rail_J) EXPECT_TRUE(std::isnan(joules));
  EXPECT_TRUE(std::isnan(w.total_J));
  EXPECT_TRUE(w.warnings.empty());
}

TEST(Rapl, PackageCoreAndDramDomains) {
  auto sensor = make_rapl_sensor(Root(data / "rapl"), test_options());
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  EXPECT_EQ(names(*sensor), (std::vector<std::string>{"package-0", "core", "dram"}));
  EXPECT_EQ(sensor->rails()[1].inside, "package-0");  // core is part of the package
  EXPECT_TRUE(sensor->rails()[2].inside.empty());     // dram is metered beside it
  EXPECT_EQ(sensor->total_description(), "package-0+dram");
  EXPECT_EQ(sensor->rails()[0].unit, "uJ");
}

TEST_F(TreeCopy, RaplPackageWrapsDuringTheWindow) {
  const auto dir = copy("rapl");
  const auto zone = dir / "sys/class/powercap";
  auto sensor = make_rapl_sensor(Root(dir), test_options());
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  sensor->start();
  // Written by rename, as a reader must never see half a number.
  atomic_write(zone / "intel-rapl:0/energy_uj", "1000000\n");     // wrapped at 262143328850
  atomic_write(zone / "intel-rapl:0:0/energy_uj", "1500000\n");   // +0.5 J
  atomic_write(zone / "intel-rapl:0:1/energy_uj", "55000000\n");  // +5 J
  const WindowEnergy w = sensor->stop();
  EXPECT_NEAR(w.rail_J[0], 1.328850, 1e-9);  // (262143328850 - 262143000000 + 1000000) uJ
  EXPECT_NEAR(w.rail_J[1], 0.5, 1e-9);
  EXPECT_NEAR(w.rail_J[2], 5.0, 1e-9);
  EXPECT_NEAR(w.total_J, 6.328850, 1e-9);  // package + dram; core is inside the package
}

TEST(Factory, AutoPrefersIna3221ThenRaplAndNamesEveryReasonForNone) {
  EXPECT_EQ(make_sensor(SensorKind::automatic, Root(data / "orin-agx"), test_options())->name(), "ina3221");
  EXPECT_EQ(make_sensor(SensorKind::automatic, Root(data / "rapl"), test_options())->name(), "rapl");
  auto none = make_sensor(SensorKind::automatic, Root(data / "empty-does-not-exist"), test_options());
  EXPECT_EQ(none->name(), "none");
  EXPECT_FALSE(none->available());
  EXPECT_NE(none->unavailable_reason().find("ina3221: no INA3221"), std::string::npos) << none->unavailable_reason();
  EXPECT_NE(none->unavailable_reason().find("nvml: cannot load /nonexistent/libnvidia-ml.so.1"), std::string::npos);
  EXPECT_NE(none->unavailable_reason().find("rapl: no RAPL zone"), std::string::npos);
  EXPECT_TRUE(none->rails().empty());
}

TEST(Factory, ExplicitKindIsNotReplacedByAnother) {
  auto rapl = make_sensor(SensorKind::rapl, Root(data / "orin-agx"), test_options());
  EXPECT_EQ(rapl->name(), "rapl");
  EXPECT_FALSE(rapl->available());
  EXPECT_EQ(make_sensor(SensorKind::none, Root(data / "orin-agx"), test_options())->name(), "none");
}

TEST(Factory, ParsesKinds) {
  EXPECT_EQ(parse_sensor_kind("auto"), SensorKind::automatic);
  EXPECT_EQ(parse_sensor_kind("ina3221"), SensorKind::ina3221);
  EXPECT_EQ(parse_sensor_kind("nvml"), SensorKind::nvml);
  EXPECT_EQ(parse_sensor_kind("rapl"), SensorKind::rapl);
  EXPECT_EQ(parse_sensor_kind("none"), SensorKind::none);
  EXPECT_THROW((void)parse_sensor_kind("tegrastats"), std::invalid_argument);
}

TEST(HwmonParse, IntegersAndLabels) {
  EXPECT_EQ(parse_int64("5000\n"), 5000);
  EXPECT_EQ(parse_int64("-12"), -12);
  EXPECT_FALSE(parse_int64("").has_value());
  EXPECT_FALSE(parse_int64("12 mV").has_value());
  EXPECT_FALSE(parse_int64("99999999999999999999").has_value());
  EXPECT_EQ(detail::parse_hwmon_label("VDD_GPU_SOC\n"), "VDD_GPU_SOC");
  EXPECT_EQ(detail::parse_hwmon_label("GPU rail"), "GPU_rail");
  EXPECT_FALSE(detail::parse_hwmon_label("NC\n").has_value());
  EXPECT_FALSE(detail::parse_hwmon_label("\n").has_value());
}

namespace {

constexpr const char* orin_gpu = "sys/devices/platform/17000000.ga10b/devfreq/17000000.ga10b/cur_freq";

ClockSamplerOptions clock_options() {
  ClockSamplerOptions o;
  o.period_s = 0.005;
  o.nvml_library = "";  // no real GPU may leak into these tests
  return o;
}

}  // namespace

TEST(Clocks, OrinDomainsOncePerPolicyOnlineCpusOnly) {
  ClockSampler clocks(Root(data / "orin-agx"), clock_options());
  std::vector<std::string> found;
  for (const auto& d : clocks.domains()) found.push_back(d.name);
  // cpu0-3 and cpu4-7 share policy0 and policy4; cpu8-11 are offline (online is 0-7).
  EXPECT_EQ(found, (std::vector<std::string>{"gpu", "emc", "cpu0", "cpu4"}));
  EXPECT_DOUBLE_EQ(clocks.domains()[0].start_hz, 1300500000.0);
  EXPECT_DOUBLE_EQ(clocks.domains()[1].start_hz, 3199000000.0);
  EXPECT_DOUBLE_EQ(clocks.domains()[2].start_hz, 2201600000.0);  // kHz read as Hz
  EXPECT_EQ(clocks.domains()[0].source, (data / "orin-agx/sys/class/devfreq/17000000.ga10b/cur_freq").string());
  EXPECT_FALSE(clocks.has_nvml_reasons());
  clocks.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const ClockWindow w = clocks.stop();
  ASSERT_TRUE(w.min_ratio.has_value());
  EXPECT_EQ(*w.min_ratio, 1.0);
  EXPECT_EQ(w.throttled(), false);
  EXPECT_GE(w.samples, 3u);  // both edges and the thread in between
  EXPECT_TRUE(w.warnings.empty());
}

TEST_F(TreeCopy, GpuClockThatDropsAndRecoversInsideTheWindowIsSeen) {
  const auto dir = copy("orin-agx");
  ClockSampler clocks(Root(dir), clock_options());
  clocks.start();
  // Down to 60% and back up, both while the window is open: only the sampler's thread can see it.
  std::thread thermal([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    atomic_write(dir / orin_gpu, "780300000\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    atomic_write(dir / orin_gpu, "1300500000\n");
  });
  thermal.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ClockWindow w = clocks.stop();
  EXPECT_DOUBLE_EQ(w.min_hz[0], 780300000.0);
  EXPECT_DOUBLE_EQ(w.min_hz[2], 2201600000.0);
  EXPECT_DOUBLE_EQ(w.min_ratio.value_or(0.0), 780300000.0 / 1300500000.0);
  EXPECT_EQ(w.throttled(), true);
  // The next window starts afresh.
  clocks.start();
  w = clocks.stop();
  EXPECT_EQ(w.min_ratio, 1.0);
  EXPECT_EQ(w.throttled(), false);
}

TEST_F(TreeCopy, ThrottledMeansBelowNinetySevenPercent) {
  const auto dir = copy("orin-agx");
  ClockSampler clocks(Root(dir), clock_options());
  const auto policy4 = dir / "sys/devices/system/cpu/cpufreq/policy4/scaling_cur_freq";
  atomic_write(policy4, "2157568\n");  // 98% of 2201600 kHz
  clocks.start();
  ClockWindow w = clocks.stop();
  EXPECT_DOUBLE_EQ(w.min_ratio.value_or(0.0), 2157568.0 / 2201600.0);
  EXPECT_EQ(w.throttled(), false);
  atomic_write(policy4, "2113536\n");  // 96%
  clocks.start();
  w = clocks.stop();
  EXPECT_DOUBLE_EQ(w.min_ratio.value_or(0.0), 2113536.0 / 2201600.0);
  EXPECT_EQ(w.throttled(), true);
}

TEST_F(TreeCopy, GarbageClockIsSaidOnceAndNeverAZeroClock) {
  const auto dir = copy("orin-agx");
  ClockSampler clocks(Root(dir), clock_options());
  for (const char* garbage : {"busy\n", "0\n", "-5\n"}) {
    atomic_write(dir / orin_gpu, garbage);
    clocks.start();
    const ClockWindow w = clocks.stop();
    EXPECT_TRUE(std::isnan(w.min_hz[0])) << garbage;
    EXPECT_EQ(w.min_ratio, 1.0) << garbage;  // the other domains, not 0 / 1300500000
    EXPECT_EQ(w.throttled(), false);
    if (std::string(garbage) == "busy\n") {
      ASSERT_EQ(w.warnings.size(), 1u);
      const std::string n = std::to_string(w.samples);  // every reading of the window failed
      EXPECT_EQ(w.warnings[0], "clock gpu: " + n + " of " + n + " readings of " +
                                   (dir / "sys/class/devfreq/17000000.ga10b/cur_freq").string() +
                                   " failed or were no clock; the window's clocks are the other readings");
    } else {
      EXPECT_TRUE(w.warnings.empty()) << garbage;  // said once per run
    }
  }
}

TEST(Clocks, NothingReadableMeansUnknownNotUnthrottled) {
  ClockSampler clocks(Root(data / "empty-does-not-exist"), clock_options());
  EXPECT_TRUE(clocks.domains().empty());
  EXPECT_FALSE(clocks.available());
  clocks.start();
  const ClockWindow w = clocks.stop();
  EXPECT_FALSE(w.min_ratio.has_value());
  EXPECT_FALSE(w.throttled().has_value());
  EXPECT_THROW((void)clocks.stop(), std::logic_error);
}
