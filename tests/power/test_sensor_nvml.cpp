// The NVML sensor against a stand-in library (test_sensor_nvml_fake.cpp) loaded the way the real
// one is, with dlopen: the energy counter where there is one, sampled power where not, and a
// driver that is not loaded.
#include "edgeroof/power/sensor.hpp"

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
