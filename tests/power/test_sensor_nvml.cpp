// The NVML sensor against a stand-in library (test_sensor_nvml_fake.cpp) loaded the way the real
// one is, with dlopen: the energy counter where there is one, sampled power where not, and a
// driver that is not loaded. Then the clock sampler's NVML clocks and clock-event reasons.
#include "edgeroof/power/clock_sampler.hpp"
#include "edgeroof/power/sensor.hpp"

#include <dlfcn.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

using namespace edgeroof::power;

namespace {

std::unique_ptr<EnergySensor> fake_nvml(const char* mode) {
  ::setenv("EDGEROOF_FAKE_NVML", mode, 1);
  SensorOptions o;
  o.nvml_library = EDGEROOF_FAKE_NVML_LIBRARY;
  o.period_probe_s = 0.05;
  return make_nvml_sensor(o);
}

}  // namespace

TEST(Nvml, TotalEnergyCounterWhereTheGpuHasIt) {
  auto sensor = fake_nvml("energy");
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  ASSERT_EQ(sensor->rails().size(), 1u);
  EXPECT_EQ(sensor->rails()[0].name, "gpu");
  EXPECT_EQ(sensor->rails()[0].unit, "mJ");
  sensor->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto w = sensor->stop();
  // 50 W for 0.3 s is 15000 mJ; counter and clock are read microseconds apart.
  EXPECT_NEAR(w.average_power_W(), 50.0, 0.5);
}

TEST(Nvml, SampledPowerWithoutTheCounter) {
  auto sensor = fake_nvml("power");
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  EXPECT_EQ(sensor->rails()[0].unit, "mW");
  EXPECT_FALSE(sensor->update_period_s().has_value());  // a constant reading shows no updates
  sensor->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto w = sensor->stop();
  EXPECT_GE(w.readings, 2u);
  EXPECT_NEAR(w.average_power_W(), 42.0, 1e-9);
}

TEST(Nvml, DriverNotLoadedIsAReasonNotAnError) {
  auto sensor = fake_nvml("no-driver");
  EXPECT_FALSE(sensor->available());
  EXPECT_NE(sensor->unavailable_reason().find("nvmlInit_v2"), std::string::npos) << sensor->unavailable_reason();
  EXPECT_NE(sensor->unavailable_reason().find("Driver Not Loaded"), std::string::npos) << sensor->unavailable_reason();
}

TEST(Nvml, MissingLibraryIsAReason) {
  SensorOptions o;
  o.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  auto sensor = make_nvml_sensor(o);
  EXPECT_FALSE(sensor->available());
  EXPECT_NE(sensor->unavailable_reason().find("cannot load /nonexistent/libnvidia-ml.so.1"), std::string::npos);
}

TEST(Nvml, AutoReadsNvmlAndRaplTogetherWhereBothWork) {
  // The RAPL fixture's counters stand still (0 J); the GPU spends 50 W: the total is their sum,
  // with core left out as part of package-0.
  ::setenv("EDGEROOF_FAKE_NVML", "energy", 1);
  SensorOptions o;
  o.nvml_library = EDGEROOF_FAKE_NVML_LIBRARY;
  o.period_probe_s = 0.05;
  auto sensor = make_sensor(SensorKind::automatic, Root(std::string(EDGEROOF_TEST_DATA_DIR) + "/power/rapl"), o);
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  EXPECT_EQ(sensor->name(), "nvml+rapl");
  ASSERT_EQ(sensor->rails().size(), 4u);
  EXPECT_EQ(sensor->rails()[0].name, "gpu");
  EXPECT_EQ(sensor->rails()[2].inside, "package-0");
  EXPECT_EQ(sensor->total_description(), "gpu+package-0+dram");
  sensor->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto w = sensor->stop();
  ASSERT_EQ(w.rail_J.size(), 4u);
  EXPECT_DOUBLE_EQ(w.rail_J[1], 0.0);
  EXPECT_NEAR(w.total_J, w.rail_J[0], 1e-12);
  EXPECT_NEAR(w.average_power_W(), 50.0, 0.5);
}

namespace {

// The stand-in's SM clock and clock-event reasons, as a thermal event would change them.
void set_fake_clocks(unsigned sm_mhz, unsigned long long reasons) {
  void* lib = ::dlopen(EDGEROOF_FAKE_NVML_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr);
  auto set = reinterpret_cast<void (*)(unsigned, unsigned long long)>(::dlsym(lib, "edgeroof_fake_nvml_set_clocks"));
  ASSERT_NE(set, nullptr);
  set(sm_mhz, reasons);
  ::dlclose(lib);
}

ClockSamplerOptions fake_nvml_clocks(const char* mode) {
  ::setenv("EDGEROOF_FAKE_NVML", mode, 1);
  ClockSamplerOptions o;
  o.nvml_library = EDGEROOF_FAKE_NVML_LIBRARY;
  o.period_s = 0.005;
  return o;
}

}  // namespace

TEST(NvmlClocks, SmAndMemoryClocksBesideTheSysfsOnes) {
  set_fake_clocks(1980, 0);
  ClockSampler clocks(Root("/nonexistent"), fake_nvml_clocks("energy"));
  ASSERT_EQ(clocks.domains().size(), 2u);
  EXPECT_EQ(clocks.domains()[0].name, "nvml.sm");
  EXPECT_DOUBLE_EQ(clocks.domains()[0].start_hz, 1980e6);
  EXPECT_EQ(clocks.domains()[1].name, "nvml.mem");
  EXPECT_DOUBLE_EQ(clocks.domains()[1].start_hz, 2619e6);
  EXPECT_TRUE(clocks.has_nvml_reasons());
  clocks.start();
  std::thread thermal([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    set_fake_clocks(1188, 0);  // 60%, without a reason NVML would give
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    set_fake_clocks(1980, 0);
  });
  thermal.join();
  const ClockWindow w = clocks.stop();
  EXPECT_DOUBLE_EQ(w.min_ratio.value_or(0.0), 1188.0 / 1980.0);
  EXPECT_EQ(w.nvml_reasons, 0u);
  EXPECT_EQ(w.throttled(), true);
}

TEST(NvmlClocks, ThermalAndPowerReasonsThrottleAtFullClock) {
  set_fake_clocks(1980, 0);
  ClockSampler clocks(Root("/nonexistent"), fake_nvml_clocks("energy"));
  // SW power cap, HW slowdown, SW thermal, HW thermal, HW power brake; idle and application
  // clocks are no throttling, and HW slowdown alone is also reported at P-state changes.
  const std::pair<unsigned long long, bool> cases[] = {{0x4, true},  {0x8, false}, {0x20, true}, {0x40, true},
                                                       {0x80, true}, {0x1, false}, {0x2, false}, {0x0, false}};
  for (const auto& [reasons, throttled] : cases) {
    set_fake_clocks(1980, reasons);
    clocks.start();
    const ClockWindow w = clocks.stop();
    EXPECT_EQ(w.min_ratio, 1.0);
    EXPECT_EQ(w.nvml_reasons, reasons);
    EXPECT_EQ(w.throttled(), throttled) << std::hex << reasons;
  }
  set_fake_clocks(1980, 0);
}

TEST(NvmlClocks, GpuWithoutClocksOrReasonsHasNothingToSample) {
  ClockSampler clocks(Root("/nonexistent"), fake_nvml_clocks("no-clocks"));
  EXPECT_TRUE(clocks.domains().empty());
  EXPECT_FALSE(clocks.has_nvml_reasons());
  EXPECT_FALSE(clocks.available());
}
