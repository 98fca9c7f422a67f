// Writing nvpmodel.conf (the reader is nvpmodel.hpp): a POWER_MODEL section that sets a power
// mode, with the CPU cluster PARAMs of the board's own conf, and the command that applies it.
#pragma once

#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"

#include <string>
#include <vector>

namespace edgeroof::power {

// The most CPU cores a board is taken to have; a count beyond it is a typo, not a board.
inline constexpr int max_board_cpus = 1024;

// A CPU cluster PARAM of an nvpmodel.conf and the cores whose frequency it sets.
struct CpuCluster {
  std::string param;   // CPU_A78_0, CPU_CARMEL_1, ...
  int first_core = 0;  // it sets cores first_core .. first_core + cores - 1
  int cores = 0;
};

// The CPUs of a board as a POWER_MODEL section sets them.
struct CpuLayout {
  int cpu_count = 0;                 // CPU_ONLINE CORE_0 .. CORE_<cpu_count - 1>
  std::vector<CpuCluster> clusters;  // ascending first_core, each from the end of the one before
  std::string source;                // where the clusters come from, for messages
};

// The layout a conf declares for a board of `cpu_count` cores. The cluster PARAMs are those named
// CPU_* other than CPU_ONLINE (as the reader takes them); each sets the cores from the CPU its
// paths name (/sys/devices/system/cpu/cpu<N>/cpufreq/... or .../cpufreq/policy<N>/..., the first
// core of a cpufreq policy) up to the next cluster's first core, the last one up to cpu_count.
// Throws ModeError, one line naming conf.source, where that cannot be told: a cluster PARAM whose
// paths name no CPU or two different ones, two clusters on one CPU, a first cluster not on cpu0, or
// a cluster beyond cpu_count. A conf without cluster PARAMs gives no clusters.
[[nodiscard]] CpuLayout cpu_layout(const NvpmodelConf& conf, int cpu_count);

// Jetson AGX Orin's layout (CPU_A78_0 on cpu0-3, CPU_A78_1 on cpu4-7, ...: clusters of 4), the one
// assumed where no conf is given.
[[nodiscard]] CpuLayout orin_agx_cpu_layout(int cpu_count);

// A POWER_MODEL section named EDGEROOF_<KEY> that sets the mode: cores 0..cpu_online-1 online and
// the others off, the CPU clusters with online cores pinned at cpu_max_khz and the GPU at
// gpu_max_hz (min = max), the TPC mask, the EMC capped at emc_max_hz; what the mode leaves out is
// left out. Throws ModeError for a layout of a cpu_count outside 1..max_board_cpus, a mode with more
// cores online than that, a negative id, or a CPU frequency with no cluster to set it.
[[nodiscard]] std::string nvpmodel_stanza(const PowerMode& mode, int id, const CpuLayout& layout);

// "sudo nvpmodel -f FILE -m ID".
[[nodiscard]] std::string nvpmodel_command(const std::string& conf_file, int id);

}  // namespace edgeroof::power
