// Facts read off the machine for a benchmark's context: current clocks and the L4T release.
// Everything is read through a Root; what cannot be read is absent, never guessed.
#pragma once

#include "edgeroof/power/sysfs.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace edgeroof::power {

// Current clocks where readable: "cpu_khz" (mean of the online CPUs' scaling_cur_freq), "gpu_hz"
// (the GPU devfreq node's cur_freq), "emc_hz" (bpmp debugfs, root only).
[[nodiscard]] std::map<std::string, std::int64_t> read_current_clocks(const Root& root);

// The L4T release of a Jetson from /etc/nv_tegra_release, e.g. "R35.4.1"; nullopt elsewhere.
[[nodiscard]] std::optional<std::string> read_l4t_release(const Root& root);

// Online CPUs from /sys/devices/system/cpu/online ("0-3,8-11"), as a count.
[[nodiscard]] std::optional<int> read_online_cpu_count(const Root& root);

// Parses a kernel CPU list such as "0-3,8,10-11" into CPU numbers; throws std::invalid_argument.
[[nodiscard]] std::vector<int> parse_cpu_list(const std::string& text);

// The GPU's devfreq directory (machine path) on a Jetson, found by name under /sys/class/devfreq
// (ga10b, gv11b, gp10b, 17000000.gpu ...); nullopt where there is none.
[[nodiscard]] std::optional<std::string> find_gpu_devfreq(const Root& root);

}  // namespace edgeroof::power
