// A writable fake sysfs tree of a Jetson AGX Orin 64 GB (L4T 35 paths) for the power-mode tests.
// Current-frequency nodes are symlinks to the max nodes, so a pinned frequency reads back at once
// (cur = min = max); the EMC rate follows the EMC cap the same way. A FakeClockKernel
// (tests/power/fake_kernel.hpp) replaces them with clocks that follow late, as a board's do.
#pragma once

#include <unistd.h>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace edgeroof::testing {

inline constexpr const char* fake_orin_gpu = "/sys/devices/17000000.ga10b/devfreq/17000000.ga10b";
inline constexpr const char* fake_orin_cpu_khz =
    "268800 422400 576000 729600 883200 1036800 1190400 1344000 1497600 1651200 1804800 1958400 2112000 2201600";
inline constexpr const char* fake_orin_gpu_hz =
    "114750000 216750000 318750000 420750000 522750000 624750000 726750000 828750000 930750000 1032750000 "
    "1134750000 1236750000 1300500000";

class FakeOrin {
public:
  explicit FakeOrin(const std::string& tag) {
    m_dir = std::filesystem::temp_directory_path() / ("edgeroof-orin-" + std::to_string(::getpid()) + "-" + tag);
    std::filesystem::remove_all(m_dir);
    for (int cpu = 0; cpu < 12; ++cpu) {
      const std::string c = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
      put(c + "/online", "1\n");
      put(c + "/cpufreq/scaling_available_frequencies", std::string(fake_orin_cpu_khz) + " \n");
      put(c + "/cpufreq/scaling_min_freq", "268800\n");
      put(c + "/cpufreq/scaling_max_freq", "2201600\n");
      link(c + "/cpufreq/scaling_cur_freq", "scaling_max_freq");
    }
    put("/sys/devices/system/cpu/present", "0-11\n");
    put("/sys/devices/system/cpu/online", "0-11\n");
    const std::string g = fake_orin_gpu;
    put(g + "/available_frequencies", std::string(fake_orin_gpu_hz) + "\n");
    put(g + "/min_freq", "114750000\n");
    put(g + "/max_freq", "1300500000\n");
    link(g + "/cur_freq", "max_freq");
    std::filesystem::create_directories(m_dir / "sys/class/devfreq");
    std::filesystem::create_directory_symlink("../../devices/17000000.ga10b/devfreq/17000000.ga10b",
                                              m_dir / "sys/class/devfreq/17000000.ga10b");
    put("/sys/devices/gpu.0/tpc_pg_mask", "0\n");
    put("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap", "3199000000\n");
    put("/sys/kernel/debug/bpmp/debug/emc/possible_rates", "204000 665600 2133000 3199000\n");
    std::filesystem::create_directories(m_dir / "sys/kernel/debug/bpmp/debug/clk/emc");
    std::filesystem::create_symlink("../../../../../nvpmodel_emc_cap/emc_iso_cap",
                                    m_dir / "sys/kernel/debug/bpmp/debug/clk/emc/rate");
    put("/sys/class/thermal/thermal_zone0/temp", "41000\n");
    put("/sys/class/thermal/thermal_zone1/temp", "39500\n");
    put("/var/lib/nvpmodel/status", "pmode:0002 fmode:quiet\n");
    std::filesystem::create_directories(m_dir / "etc");
    std::filesystem::copy_file(std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/nvpmodel_p3701_0000.conf",
                               m_dir / "etc/nvpmodel.conf");
  }
  ~FakeOrin() {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  FakeOrin(const FakeOrin&) = delete;
  FakeOrin& operator=(const FakeOrin&) = delete;

  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }
  // The state `jetson_clocks` leaves: every CPU and the GPU pinned at their highest frequency, so
  // a restore has to bring the clocks back up, not just widen the limits.
  void pin_at_max() const {
    for (int cpu = 0; cpu < 12; ++cpu)
      put("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_min_freq", "2201600\n");
    put(std::string(fake_orin_gpu) + "/min_freq", "1300500000\n");
  }
  void put(const std::string& machine_path, const std::string& content) const {
    const auto p = m_dir / machine_path.substr(1);
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  [[nodiscard]] std::string get(const std::string& machine_path) const {
    std::ifstream in(m_dir / machine_path.substr(1));
    std::string s;
    std::getline(in, s);
    return s;
  }

private:
  void link(const std::string& machine_path, const std::string& target) const {
    const auto p = m_dir / machine_path.substr(1);
    std::filesystem::create_directories(p.parent_path());
    std::filesystem::create_symlink(target, p);
  }
  std::filesystem::path m_dir;
};

}  // namespace edgeroof::testing
