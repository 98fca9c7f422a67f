#include "edgeroof/power/nvpmodel_writer.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

namespace edgeroof::power {
namespace {

// The CPU a cpufreq path names: N of /sys/devices/system/cpu/cpuN/... or .../cpufreq/policyN/...
std::optional<int> cpu_of_path(const std::string& path) {
  for (const std::string prefix : {"/sys/devices/system/cpu/cpu", "/sys/devices/system/cpu/cpufreq/policy"}) {
    if (path.rfind(prefix, 0) != 0) continue;
    const auto end = path.find('/', prefix.size());
    if (end == std::string::npos || end == prefix.size()) continue;
    const std::string digits = path.substr(prefix.size(), end - prefix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 5) continue;
    return std::stoi(digits);
  }
  return std::nullopt;
}

// The first core of a cluster PARAM: the one CPU its paths name.
int first_core_of(const NvpmodelConf& conf, const NvpmodelParam& param) {
  std::optional<int> cpu;
  for (const auto& [arg, path] : param.paths) {
    const auto named = cpu_of_path(path);
    if (!named) continue;
    if (cpu && *cpu != *named) {
      throw ModeError(conf.source + ": PARAM " + param.name + " names both cpu" + std::to_string(*cpu) + " and cpu" +
                      std::to_string(*named) + ": cannot tell which cores it sets");
    }
    cpu = named;
  }
  if (!cpu) {
    throw ModeError(conf.source + ": PARAM " + param.name +
                    " names no CPU in its paths (/sys/devices/system/cpu/cpu<N>/cpufreq/... or "
                    ".../cpufreq/policy<N>/...): cannot tell which cores it sets");
  }
  return *cpu;
}

void check_board(const CpuLayout& layout, const PowerMode& mode, int id) {
  if (layout.cpu_count < 1 || layout.cpu_count > max_board_cpus) {
    throw ModeError("a board of " + std::to_string(layout.cpu_count) + " CPU cores is not plausible (1 to " +
                    std::to_string(max_board_cpus) + ")");
  }
  if (mode.cpu_online && *mode.cpu_online > layout.cpu_count) {
    throw ModeError("mode " + mode.key + " had " + std::to_string(*mode.cpu_online) +
                    " CPUs online, more than the board's " + std::to_string(layout.cpu_count) + " cores");
  }
  if (id < 0) throw ModeError("an nvpmodel id cannot be negative (" + std::to_string(id) + ")");
  if (mode.cpu_max_khz && layout.clusters.empty()) {
    throw ModeError(layout.source +
                    " has no CPU cluster PARAM (CPU_* with a cpufreq path) to set the CPU frequency of " + "mode " +
                    mode.key + " with");
  }
}

}  // namespace

CpuLayout cpu_layout(const NvpmodelConf& conf, int cpu_count) {
  CpuLayout layout;
  layout.cpu_count = cpu_count;
  layout.source = conf.source;
  for (const auto& p : conf.params) {
    if (p.name.rfind("CPU_", 0) != 0 || p.name == "CPU_ONLINE") continue;
    layout.clusters.push_back({p.name, first_core_of(conf, p), 0});
  }
  std::stable_sort(layout.clusters.begin(), layout.clusters.end(),
                   [](const CpuCluster& a, const CpuCluster& b) { return a.first_core < b.first_core; });
  for (std::size_t i = 0; i < layout.clusters.size(); ++i) {
    auto& c = layout.clusters[i];
    const bool last = i + 1 == layout.clusters.size();
    const int end = last ? cpu_count : layout.clusters[i + 1].first_core;
    if (i == 0 && c.first_core != 0) {
      throw ModeError(conf.source + ": the first CPU cluster PARAM, " + c.param + ", is on cpu" +
                      std::to_string(c.first_core) + ": no PARAM sets cpu0");
    }
    if (!last && end == c.first_core) {
      throw ModeError(conf.source + ": PARAMs " + c.param + " and " + layout.clusters[i + 1].param +
                      " are both on cpu" + std::to_string(end) + ": cannot tell which cores each sets");
    }
    if (c.first_core >= cpu_count) {
      throw ModeError(conf.source + ": PARAM " + c.param + " is on cpu" + std::to_string(c.first_core) +
                      ", beyond the board's " + std::to_string(cpu_count) + " cores");
    }
    c.cores = end - c.first_core;
  }
  return layout;
}

CpuLayout orin_agx_cpu_layout(int cpu_count) {
  CpuLayout layout;
  layout.cpu_count = cpu_count;
  layout.source = "the Jetson AGX Orin layout (CPU_A78_<n>, clusters of 4)";
  if (cpu_count < 1 || cpu_count > max_board_cpus) return layout;  // nvpmodel_stanza refuses it
  for (int first = 0; first < cpu_count; first += 4)
    layout.clusters.push_back({"CPU_A78_" + std::to_string(first / 4), first, std::min(4, cpu_count - first)});
  return layout;
}

std::string nvpmodel_stanza(const PowerMode& mode, int id, const CpuLayout& layout) {
  check_board(layout, mode, id);
  std::string name = "EDGEROOF_";
  for (char c : mode.key)
    name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  std::ostringstream s;
  s << "< POWER_MODEL ID=" << id << " NAME=" << name << " >\n";
  const int online = mode.cpu_online.value_or(layout.cpu_count);
  if (mode.cpu_online) {
    for (int core = 0; core < layout.cpu_count; ++core)
      s << "CPU_ONLINE CORE_" << core << ' ' << (core < online ? 1 : 0) << "\n";
  }
  if (mode.cpu_max_khz) {
    // Only the clusters with a core online; the cores of the others are switched off.
    for (const auto& cluster : layout.clusters) {
      if (cluster.first_core >= online) continue;
      s << cluster.param << " MIN_FREQ " << *mode.cpu_max_khz << "\n";
      s << cluster.param << " MAX_FREQ " << *mode.cpu_max_khz << "\n";
    }
  }
  if (mode.gpu_max_hz) s << "GPU MIN_FREQ " << *mode.gpu_max_hz << "\nGPU MAX_FREQ " << *mode.gpu_max_hz << "\n";
  if (mode.tpc_pg_mask) s << "TPC_POWER_GATING TPC_PG_MASK " << *mode.tpc_pg_mask << "\n";
  if (mode.emc_max_hz) s << "EMC MAX_FREQ " << *mode.emc_max_hz << "\n";
  return s.str();
}

std::string nvpmodel_command(const std::string& conf_file, int id) {
  return "sudo nvpmodel -f " + conf_file + " -m " + std::to_string(id);
}

}  // namespace edgeroof::power
