// Device check of the NVML sensor (label `device`, EDGEROOF_ENABLE_DEVICE_TESTS=ON, run by
// .ci/device-check): a compute and a memory benchmark with --sensor=nvml must report energy_J and
// a power_W between the idle power and the GPU's power limit, with idle_power_W in the context.
// Fails where there is no NVIDIA driver (EDGEROOF_DEVICE_MISSING): a Jetson, whose rails are
// INA3221's, has no NVML either.
#include "device.hpp"
#include "edgeroof/power/sensor.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <unistd.h>

using namespace edgeroof;

namespace {

// The enforced power limit in W from nvidia-smi, or nullopt.
std::optional<double> power_limit_W() {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(
      ::popen("nvidia-smi --id=0 --query-gpu=power.limit --format=csv,noheader,nounits 2>/dev/null", "r"), ::pclose);
  if (!pipe) return std::nullopt;
  char line[128] = {};
  if (std::fgets(line, sizeof(line), pipe.get()) == nullptr) return std::nullopt;
  char* end = nullptr;
  const double w = std::strtod(line, &end);
  return end != line && w > 0.0 ? std::optional<double>(w) : std::nullopt;
}

}  // namespace

TEST(NvmlDevice, IdleWindowHasPlausiblePower) {
  auto sensor = power::make_nvml_sensor({});
  if (!sensor->available() && sensor->unavailable_reason().find("cannot load") != std::string::npos) {
    EDGEROOF_DEVICE_MISSING(sensor->unavailable_reason());
  }
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  std::printf("nvml: rail %s in %s, update period %s\n", sensor->rails()[0].name.c_str(),
              sensor->rails()[0].unit.c_str(),
              sensor->update_period_s() ? std::to_string(*sensor->update_period_s()).c_str() : "unknown");
  sensor->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto w = sensor->stop();
  std::printf("nvml: idle %.3f W over %.3f s (%zu readings)\n", w.average_power_W(), w.duration_s, w.readings);
  EXPECT_GT(w.average_power_W(), 0.0);
  if (const auto limit = power_limit_W()) {
    EXPECT_LT(w.average_power_W(), *limit);
  }
}

TEST(NvmlDevice, ComputeAndMemoryBenchmarksReportEnergy) {
  if (auto sensor = power::make_nvml_sensor({}); !sensor->available()) {
    EDGEROOF_DEVICE_MISSING("no NVML: " + sensor->unavailable_reason());
  }
  namespace fs = std::filesystem;
  const fs::path out = fs::temp_directory_path() / ("edgeroof-nvml-" + std::to_string(::getpid()) + ".json");
  const std::string command =
      std::string(EDGEROOF_BINARY_DIR) +
      "/bench/edgeroof-bench --sensor=nvml --idle-s=2 --benchmark_filter='^(compute/cuda/fp32/ai:64|"
      "memory/cuda/triad/bytes:[0-9]{9,})/' --benchmark_out=" +
      out.string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  fs::remove(out);
  const auto& ctx = doc.at("context");
  ASSERT_EQ(ctx.at("sensor.name"), "nvml");
  const double idle_W = std::stod(ctx.at("idle_power_W").get<std::string>());
  std::printf("idle_power_W %.3f (stddev %s), sensor.period_s %s\n", idle_W,
              ctx.value("idle_power_W.stddev", std::string("-")).c_str(),
              ctx.value("sensor.period_s", std::string("-")).c_str());
  const auto limit = power_limit_W();
  ASSERT_FALSE(doc.at("benchmarks").empty());
  bool compute = false, memory = false;
  for (const auto& b : doc.at("benchmarks")) {
    const std::string name = b.at("name");
    ASSERT_TRUE(b.contains("energy_J") && b.contains("power_W")) << name;
    const double power_W = b.at("power_W");
    std::printf("%s: energy_J %.6g per iteration, power_W %.2f, sensor_updates %g\n", name.c_str(),
                b.at("energy_J").get<double>(), power_W, b.value("sensor_updates", 0.0));
    EXPECT_GT(b.at("energy_J").get<double>(), 0.0) << name;
    // A loaded GPU draws more than an idle one (5% for the spread), and never above its limit.
    EXPECT_GT(power_W, idle_W * 0.95) << name;
    if (limit) {
      EXPECT_LT(power_W, *limit * 1.05) << name;
    }
    compute = compute || name.rfind("compute/", 0) == 0;
    memory = memory || name.rfind("memory/", 0) == 0;
  }
  EXPECT_TRUE(compute && memory);
}
