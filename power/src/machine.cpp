#include "edgeroof/power/machine.hpp"

#include <regex>
#include <sstream>
#include <stdexcept>

namespace edgeroof::power {

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    const auto dash = part.find('-');
    try {
      std::size_t used = 0;
      if (dash == std::string::npos) {
        const int c = std::stoi(part, &used);
        if (used != part.size() || c < 0) throw std::invalid_argument(part);
        cpus.push_back(c);
      } else {
        const int lo = std::stoi(part.substr(0, dash));
        const int hi = std::stoi(part.substr(dash + 1));
        if (lo < 0 || hi < lo) throw std::invalid_argument(part);
        for (int c = lo; c <= hi; ++c) cpus.push_back(c);
      }
    } catch (const std::exception&) {
      throw std::invalid_argument("not a CPU list: '" + text + "'");
    }
  }
  return cpus;
}

std::optional<int> read_online_cpu_count(const Root& root) {
  const auto text = root.try_read("/sys/devices/system/cpu/online");
  if (!text) return std::nullopt;
  try {
    return static_cast<int>(parse_cpu_list(*text).size());
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

std::optional<std::string> find_gpu_devfreq(const Root& root) {
  static const std::regex gpu_name(R"((ga10b|gv11b|gp10b|gb10b|\.gpu)$)");
  for (const auto& name : root.list("/sys/class/devfreq")) {
    if (std::regex_search(name, gpu_name)) return "/sys/class/devfreq/" + name;
  }
  return std::nullopt;
}

std::map<std::string, std::int64_t> read_current_clocks(const Root& root) {
  std::map<std::string, std::int64_t> clocks;
  if (const auto online = root.try_read("/sys/devices/system/cpu/online")) {
    try {
      std::int64_t sum = 0;
      int n = 0;
      for (int cpu : parse_cpu_list(*online)) {
        const auto khz =
            root.try_read_int("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_cur_freq");
        if (khz) {
          sum += *khz;
          ++n;
        }
      }
      if (n > 0) clocks["cpu_khz"] = sum / n;
    } catch (const std::invalid_argument&) {
      // An unparsable online list leaves the CPU clock unknown.
    }
  }
  if (const auto gpu = find_gpu_devfreq(root)) {
    if (const auto hz = root.try_read_int(*gpu + "/cur_freq")) clocks["gpu_hz"] = *hz;
  }
  if (const auto hz = root.try_read_int("/sys/kernel/debug/bpmp/debug/clk/emc/rate")) clocks["emc_hz"] = *hz;
  return clocks;
}

std::optional<std::string> read_l4t_release(const Root& root) {
  // "# R35 (release), REVISION: 4.1, GCID: ..., BOARD: t186ref, EABI: aarch64, DATE: ..."
  const auto text = root.try_read("/etc/nv_tegra_release");
  if (!text) return std::nullopt;
  static const std::regex re(R"(#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([0-9.]+))");
  std::smatch m;
  if (!std::regex_search(*text, m, re)) return std::nullopt;
  return "R" + m[1].str() + "." + m[2].str();
}

}  // namespace edgeroof::power
