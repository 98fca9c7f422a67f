#include "edgeroof/power/machine.hpp"

#include "edgeroof/power/mode.hpp"

#include <cerrno>
#include <cstring>
#include <regex>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace edgeroof::power {
namespace {

// A file's text in a message: quoted, and cut short, since it may be a hostile megabyte.
std::string quoted(const std::string& text) {
  constexpr std::size_t shown = 40;
  return "'" + (text.size() <= shown ? text : text.substr(0, shown) + "...") + "'";
}

// A CPU number: digits only, below max_cpus.
int cpu_number(const std::string& text, const std::string& list) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) throw std::invalid_argument("not a CPU list: " + quoted(list));
  const auto v = parse_int64(text);
  if (!v || *v >= max_cpus) {
    throw std::invalid_argument("CPU list " + quoted(list) + " names CPU " + quoted(text) + "; edgeroof handles " +
                                std::to_string(max_cpus) + " CPUs at most");
  }
  return static_cast<int>(*v);
}

}  // namespace

std::string NodeRead::reason() const {
  if (error == EFBIG) return "longer than " + std::to_string(max_node_bytes) + " bytes";
  return std::strerror(error);
}

NodeRead read_node(const Root& root, std::string_view machine_path, std::size_t max_bytes) {
  NodeRead r;
  r.host_path = root.resolve(machine_path).string();
  const int fd = ::open(r.host_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.error = errno;
    return r;
  }
  std::string text;
  char buf[4096];
  // One byte past the limit tells a file of exactly max_bytes from a longer one.
  while (text.size() <= max_bytes) {
    const ssize_t n = ::read(fd, buf, std::min(sizeof(buf), max_bytes + 1 - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) r.error = errno;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (r.error == 0 && text.size() > max_bytes) r.error = EFBIG;
  if (r.error != 0) return r;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n' ||
                           text.back() == '\0'))
    text.pop_back();
  r.text = std::move(text);
  return r;
}

std::vector<int> parse_cpu_list(const std::string& text) {
  // A bitmap, not a list of what the text names: "0-8191,0-8191,..." must not grow without end.
  std::vector<bool> named(static_cast<std::size_t>(max_cpus), false);
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, comma - start);
    start = comma + 1;
    if (part.empty()) continue;
    const auto dash = part.find('-');
    const int lo = cpu_number(part.substr(0, dash), text);
    const int hi = dash == std::string::npos ? lo : cpu_number(part.substr(dash + 1), text);
    if (hi < lo) throw std::invalid_argument("not a CPU list: " + quoted(text));
    for (int c = lo; c <= hi; ++c) named[static_cast<std::size_t>(c)] = true;
  }
  std::vector<int> cpus;
  for (int c = 0; c < max_cpus; ++c) {
    if (named[static_cast<std::size_t>(c)]) cpus.push_back(c);
  }
  return cpus;
}

std::optional<std::vector<int>> read_cpu_list(const Root& root, std::string_view machine_path) {
  const auto node = read_node(root, machine_path);
  if (node.error == EFBIG) throw ModeError(node.host_path + ": " + node.reason() + ", not a CPU list");
  if (!node.text) return std::nullopt;
  try {
    return parse_cpu_list(*node.text);
  } catch (const std::invalid_argument& e) {
    throw ModeError(node.host_path + ": " + e.what());
  }
}

std::optional<int> read_online_cpu_count(const Root& root) {
  try {
    const auto cpus = read_cpu_list(root, "/sys/devices/system/cpu/online");
    if (!cpus) return std::nullopt;
    return static_cast<int>(cpus->size());
  } catch (const ModeError&) {
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
  std::optional<std::vector<int>> online;
  try {
    online = read_cpu_list(root, "/sys/devices/system/cpu/online");
  } catch (const ModeError&) {
    // An unparsable online list leaves the CPU clock unknown.
  }
  std::int64_t sum = 0;
  int n = 0;
  for (const int cpu : online.value_or(std::vector<int>{})) {
    const auto khz =
        root.try_read_int("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_cur_freq");
    if (khz && *khz > 0 && *khz <= max_clock_hz / 1000) {
      sum += *khz;
      ++n;
    }
  }
  if (n > 0) clocks["cpu_khz"] = sum / n;
  if (const auto gpu = find_gpu_devfreq(root)) {
    if (const auto hz = root.try_read_int(*gpu + "/cur_freq"); hz && *hz > 0 && *hz <= max_clock_hz)
      clocks["gpu_hz"] = *hz;
  }
  if (const auto hz = root.try_read_int("/sys/kernel/debug/bpmp/debug/clk/emc/rate");
      hz && *hz > 0 && *hz <= max_clock_hz)
    clocks["emc_hz"] = *hz;
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
