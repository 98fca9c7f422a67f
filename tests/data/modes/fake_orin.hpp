// A writable fake sysfs tree of a Jetson AGX Orin 64 GB for the power-mode tests, in the layout of
// L4T 35 (JetPack 5, the default) or L4T 36 (JetPack 6): the GPU devfreq node is 17000000.ga10b
// under /sys/devices on 35 and 17000000.gpu under /sys/devices/platform/bus@0 on 36 (both linked
// from /sys/class/devfreq), the EMC cap is nvpmodel_emc_cap/emc_iso_cap on 35 and the newer
// kernels' nvpmodel_clk_cap/emc on 36; /etc/nv_tegra_release of each, and INA3221 hwmon rails on request.
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
inline constexpr const char* fake_orin_gpu_l4t36 = "/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu";

enum class L4t { r35, r36 };

// The GPU devfreq directory and the EMC cap node (machine paths) of a release's layout.
inline std::string fake_orin_gpu_of(L4t release) { return release == L4t::r35 ? fake_orin_gpu : fake_orin_gpu_l4t36; }
inline std::string fake_orin_emc_cap_of(L4t release) {
  return release == L4t::r35 ? "/sys/kernel/nvpmodel_emc_cap/emc_iso_cap" : "/sys/kernel/nvpmodel_clk_cap/emc";
}
inline constexpr const char* fake_orin_cpu_khz =
    "268800 422400 576000 729600 883200 1036800 1190400 1344000 1497600 1651200 1804800 1958400 2112000 2201600";
inline constexpr const char* fake_orin_gpu_hz =
    "114750000 216750000 318750000 420750000 522750000 624750000 726750000 828750000 930750000 1032750000 "
    "1134750000 1236750000 1300500000";

class FakeOrin {
public:
  explicit FakeOrin(const std::string& tag, L4t release = L4t::r35) : m_release(release) {
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
    const std::string g = gpu();
    put(g + "/available_frequencies", std::string(fake_orin_gpu_hz) + "\n");
    put(g + "/min_freq", "114750000\n");
    put(g + "/max_freq", "1300500000\n");
    link(g + "/cur_freq", "max_freq");
    const std::string gpu_name = g.substr(g.find_last_of('/') + 1);
    link("/sys/class/devfreq/" + gpu_name, "../../" + g.substr(std::string("/sys/").size()));
    put("/sys/devices/gpu.0/tpc_pg_mask", "0\n");
    put(emc_cap(), "3199000000\n");
    put("/sys/kernel/debug/bpmp/debug/emc/possible_rates", "204000 665600 2133000 3199000\n");
    // The bpmp rate follows the cap at once: rate -> ../../../../../<cap below /sys/kernel>.
    link("/sys/kernel/debug/bpmp/debug/clk/emc/rate",
         "../../../../../" + emc_cap().substr(std::string("/sys/kernel/").size()));
    put("/etc/nv_tegra_release", release == L4t::r35
                                     ? "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, "
                                       "DATE: Tue Aug  1 19:57:35 UTC 2023\n"
                                     : "# R36 (release), REVISION: 3.0, GCID: 36191598, BOARD: generic, EABI: aarch64, "
                                       "DATE: Mon May  6 17:34:21 UTC 2024\n");
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
  [[nodiscard]] L4t release() const { return m_release; }
  [[nodiscard]] std::string gpu() const { return fake_orin_gpu_of(m_release); }
  [[nodiscard]] std::string emc_cap() const { return fake_orin_emc_cap_of(m_release); }
  // The first INA3221's hwmon directory (machine path); its number differs between boots.
  [[nodiscard]] std::string ina3221() const {
    return std::string("/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/") + (m_release == L4t::r35 ? "hwmon3" : "hwmon1");
  }
  // The state `jetson_clocks` leaves: every CPU and the GPU pinned at their highest frequency, so
  // a restore has to bring the clocks back up, not just widen the limits.
  void pin_at_max() const {
    for (int cpu = 0; cpu < 12; ++cpu)
      put("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_min_freq", "2201600\n");
    put(gpu() + "/min_freq", "1300500000\n");
  }
  // Both INA3221s (only where a test asks: a tree with rails gives the bench an energy sensor) in the upstream hwmon
  // format (mV, mA) that L4T 35 and 36 share: 5 V at 1.2, 0.6 and 0.9 A on 1-0040 (6, 3 and 4.5 W), 1.8 V at 0.5 A on
  // 1-0041 beside two NC channels.
  void put_ina3221() const {
    const std::string a = ina3221();
    const char* labels[] = {"VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"};
    const char* ma[] = {"1200", "600", "900"};
    for (int ch = 1; ch <= 3; ++ch) {
      const std::string n = std::to_string(ch);
      put(a + "/in" + n + "_label", std::string(labels[ch - 1]) + "\n");
      put(a + "/in" + n + "_input", "5000\n");
      put(a + "/curr" + n + "_input", std::string(ma[ch - 1]) + "\n");
    }
    put(a + "/name", "ina3221\n");
    put(a + "/update_interval", "6\n");
    const std::string b =
        std::string("/sys/bus/i2c/drivers/ina3221/1-0041/hwmon/") + (m_release == L4t::r35 ? "hwmon4" : "hwmon2");
    put(b + "/in1_label", "VDDQ_VDD2_1V8AO\n");
    put(b + "/in1_input", "1800\n");
    put(b + "/curr1_input", "500\n");
    for (const char* nc : {"2", "3"}) {
      put(b + "/in" + std::string(nc) + "_label", "NC\n");
      put(b + "/in" + std::string(nc) + "_input", "0\n");
      put(b + "/curr" + std::string(nc) + "_input", "0\n");
    }
    put(b + "/name", "ina3221\n");
    put(b + "/update_interval", "6\n");
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
  L4t m_release;
  std::filesystem::path m_dir;
};

}  // namespace edgeroof::testing
