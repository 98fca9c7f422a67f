// /etc/nvpmodel.conf in its real format (L4T): PARAM sections that name the sysfs nodes,
// POWER_MODEL sections that set them, and PM_CONFIG that names the default mode.
#pragma once

#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::power {

// `< PARAM TYPE=CLOCK NAME=GPU >` and the `ARG_NAME PATH` lines under it.
struct NvpmodelParam {
  std::string type;                          // FILE or CLOCK
  std::string name;                          // GPU, EMC, CPU_ONLINE, TPC_POWER_GATING, CPU_A78_0 ...
  std::map<std::string, std::string> paths;  // MAX_FREQ -> /sys/..., MAX_FREQ_KNEXT -> ...
};

// One `PARAM ARG VALUE` line of a POWER_MODEL section.
struct NvpmodelSetting {
  std::string param;
  std::string arg;
  std::string value;
};

// `< POWER_MODEL ID=n NAME=name >`.
struct NvpmodelMode {
  int id = 0;
  std::string name;
  std::vector<NvpmodelSetting> settings;

  // The value of PARAM ARG as an integer; nullopt when the mode does not set it.
  [[nodiscard]] std::optional<std::int64_t> value(const std::string& param, const std::string& arg) const;
};

struct NvpmodelConf {
  std::string source = "nvpmodel.conf";  // the file it was read from, for messages
  std::vector<NvpmodelParam> params;
  std::vector<NvpmodelMode> modes;
  std::optional<int> default_id;  // `< PM_CONFIG DEFAULT=n >`

  [[nodiscard]] const NvpmodelMode* find_mode(int id) const;
  [[nodiscard]] const NvpmodelParam* find_param(const std::string& name) const;
  // The node of PARAM ARG: ARG_KNEXT where it exists under root (newer kernels), else ARG.
  [[nodiscard]] std::optional<std::string> node(const Root& root, const std::string& param,
                                                const std::string& arg) const;
};

// Parses the text of an nvpmodel.conf. Unknown section kinds are skipped, as nvpmodel does; a
// malformed header or value throws ModeError naming the line. The numbers edgeroof uses are
// checked here: ids 0 to INT_MAX; MIN_FREQ/MAX_FREQ -1 (no limit), 0, or up to max_clock_hz;
// CPU_ONLINE 0 or 1; TPC_PG_MASK 0 to 2^32-1. A number that does not fit is an error too.
[[nodiscard]] NvpmodelConf parse_nvpmodel_conf(std::string_view text);

// The longest nvpmodel.conf edgeroof reads; L4T's are 10 to 40 KB.
inline constexpr std::size_t max_nvpmodel_conf_bytes = 1024 * 1024;

// Reads and parses a file on the host (not under a root: --nvpmodel-conf names a host file).
// Errors name the file.
[[nodiscard]] NvpmodelConf load_nvpmodel_conf(const std::string& host_path);

// The nvpmodel.conf to use: `host_path` when given (it must parse), else ROOT/etc/nvpmodel.conf
// when it exists; nullopt otherwise (not a Jetson).
[[nodiscard]] std::optional<NvpmodelConf> find_nvpmodel_conf(const Root& root,
                                                             const std::optional<std::string>& host_path);

// The power mode an nvpmodel mode sets, with its caps resolved against the tables: MAX_FREQ -1 or
// 0 is the table maximum, MIN_FREQ 0 the minimum and -1 the maximum, any other cap the table
// entry the driver picks under it. CPU frequencies are the highest over the CPU_* clusters the
// mode sets. Unknown (no table) stays absent.
[[nodiscard]] PowerMode to_power_mode(const NvpmodelMode& mode, const FrequencyTables& tables);

}  // namespace edgeroof::power
