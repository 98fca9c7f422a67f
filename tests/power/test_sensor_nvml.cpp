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
