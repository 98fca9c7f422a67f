// Facts read off the machine for a benchmark's context: current clocks and the L4T release.
// Everything is read through a Root; what cannot be read is absent, never guessed.
#pragma once

#include "edgeroof/power/sysfs.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::power {

// The most CPUs edgeroof handles: Linux's largest NR_CPUS (x86 MAXSMP). A CPU list naming a higher
// CPU is refused before anything is allocated for it.
inline constexpr int max_cpus = 8192;

// No clock of a CPU, GPU or memory controller runs at 100 GHz: a reading or a setting above is
// refused as impossible (it would also overflow the arithmetic done on clocks).
inline constexpr std::int64_t max_clock_hz = 100'000'000'000;

// The longest sysfs or config node edgeroof reads whole (frequency tables, CPU lists): 64 KiB, 16
// pages of 4 KiB or one page of a 64 KiB-page kernel; sysfs never serves more than one page.
inline constexpr std::size_t max_node_bytes = 64 * 1024;

// One small node read whole, at most `max_bytes`, so that a corrupt or hostile file cannot exhaust
// memory. `text` has its trailing whitespace removed; when there is none, `error` is the errno that
// prevented the read (EFBIG: longer than max_bytes) and `host_path` names the file in messages.
struct NodeRead {
  std::optional<std::string> text;
  int error = 0;
  std::string host_path;
  [[nodiscard]] std::string reason() const;  // "No such file or directory", "longer than 65536 bytes"
};
[[nodiscard]] NodeRead read_node(const Root& root, std::string_view machine_path,
                                 std::size_t max_bytes = max_node_bytes);

// Current clocks where readable: "cpu_khz" (mean of the online CPUs' scaling_cur_freq), "gpu_hz"
// (the GPU devfreq node's cur_freq), "emc_hz" (bpmp debugfs, root only).
[[nodiscard]] std::map<std::string, std::int64_t> read_current_clocks(const Root& root);

// The L4T release of a Jetson from /etc/nv_tegra_release, e.g. "R35.4.1"; nullopt elsewhere.
[[nodiscard]] std::optional<std::string> read_l4t_release(const Root& root);

// Online CPUs from /sys/devices/system/cpu/online ("0-3,8-11"), as a count; nullopt when the list
// is missing or not a valid CPU list.
[[nodiscard]] std::optional<int> read_online_cpu_count(const Root& root);

// Parses a kernel CPU list such as "0-3,8,10-11" into CPU numbers, ascending and without repeats.
// Throws std::invalid_argument for anything else, and for a CPU at or above max_cpus (checked
// before a range is expanded).
[[nodiscard]] std::vector<int> parse_cpu_list(const std::string& text);

// The CPU list in a node (present, online); nullopt when the node is missing or unreadable. Throws
// ModeError naming the file when it holds something else than a CPU list of at most max_cpus.
[[nodiscard]] std::optional<std::vector<int>> read_cpu_list(const Root& root, std::string_view machine_path);

// The GPU's devfreq directory (machine path) on a Jetson, found by name under /sys/class/devfreq
// (ga10b, gv11b, gp10b, 17000000.gpu ...); nullopt where there is none.
[[nodiscard]] std::optional<std::string> find_gpu_devfreq(const Root& root);

}  // namespace edgeroof::power
