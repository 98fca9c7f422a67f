#include "edgeroof/power/mode.hpp"

#include "edgeroof/power/machine.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace edgeroof::power {
namespace {

// A whitespace-separated list of frequencies in units of `file_unit_hz`, stored times `scale`,
// sorted and without repeats; empty when the node is missing or unreadable.
std::vector<std::int64_t> read_table(const Root& root, const std::string& path, std::int64_t file_unit_hz,
                                     std::int64_t scale) {
  const auto node = read_node(root, path);
  if (node.error == EFBIG) throw ModeError(node.host_path + ": " + node.reason() + ", not a frequency table");
  if (!node.text) return {};
  std::vector<std::int64_t> out;
  std::istringstream in(*node.text);
  std::string word;
  while (in >> word) {
    if (out.size() == max_table_entries) {
      throw ModeError(node.host_path + ": more than " + std::to_string(max_table_entries) +
                      " frequencies, not a frequency table");
    }
    const auto v = parse_int64(word);
    if (!v || *v <= 0 || *v > max_clock_hz / file_unit_hz) {
      if (word.size() > 24) word = word.substr(0, 24) + "...";
      throw ModeError(node.host_path + ": '" + word + "' is not a frequency (a whole number from 1 to " +
                      std::to_string(max_clock_hz / file_unit_hz) + ")");
    }
    out.push_back(*v * scale);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!text.empty() && text.back() == sep) parts.emplace_back();
  return parts;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// `largest` bounds the values (CPUs a machine can have, the fastest possible clock), so that no
// number is narrowed or overflows on its way to a sysfs node.
template <typename T>
std::optional<std::vector<T>> parse_axis(const std::string& axis, const std::string& list, std::int64_t largest) {
  if (list == "all") return std::vector<T>{};
  std::vector<T> values;
  for (const auto& item : split(list, ',')) {
    const auto v = parse_int64(trim(item));
    if (!v || *v <= 0)
      throw ModeError("grid " + axis + "=" + list + ": '" + trim(item) + "' is not a positive whole number");
    if (*v > largest)
      throw ModeError("grid " + axis + "=" + list + ": " + trim(item) + " is above " + std::to_string(largest));
    values.push_back(static_cast<T>(*v));
  }
  if (values.empty()) throw ModeError("grid " + axis + "= needs a list or 'all'");
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// The values of one axis: the listed ones (checked against the table when there is one), all of
// the table, or one unset value (left as it is) for an axis left out where there is no table.
template <typename T>
std::vector<std::optional<T>> axis_values(const std::string& axis, const std::optional<std::vector<T>>& listed,
                                          const std::vector<T>& table, const char* unit) {
  if (!listed && table.empty()) return {std::nullopt};
  if (!listed || listed->empty()) {
    if (table.empty())
      throw ModeError("grid " + axis + "=all: the " + axis + " table cannot be read on this machine; list the values");
    return {table.begin(), table.end()};
  }
  if (!table.empty()) {
    for (const T v : *listed) {
      if (std::find(table.begin(), table.end(), v) == table.end()) {
        std::string known;
        for (const T t : table) known += (known.empty() ? "" : " ") + std::to_string(t);
        throw ModeError("grid " + axis + "=" + std::to_string(v) + ": not in the table (" + unit + "): " + known);
      }
    }
  }
  return {listed->begin(), listed->end()};
}

}  // namespace

std::vector<int> FrequencyTables::core_counts() const {
  std::vector<int> counts;
  for (int n = 2; n <= cpu_count; n += 2) counts.push_back(n);
  if (counts.empty() && cpu_count > 0) counts.push_back(cpu_count);
  return counts;
}

FrequencyTables read_frequency_tables(const Root& root) {
  FrequencyTables t;
  if (const auto present = read_cpu_list(root, "/sys/devices/system/cpu/present"))
    t.cpu_count = static_cast<int>(present->size());
  t.cpu_khz = read_table(root, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_available_frequencies", 1000, 1);
  if (const auto gpu = find_gpu_devfreq(root)) t.gpu_hz = read_table(root, *gpu + "/available_frequencies", 1, 1);
  // bpmp lists EMC rates in kHz; every other EMC figure in edgeroof is in Hz.
  t.emc_hz = read_table(root, "/sys/kernel/debug/bpmp/debug/emc/possible_rates", 1000, 1000);
  return t;
}

std::optional<std::int64_t> frequency_under_cap(const std::vector<std::int64_t>& table, std::int64_t cap) {
  if (table.empty()) return std::nullopt;
  auto it = std::upper_bound(table.begin(), table.end(), cap);
  if (it == table.begin()) return table.front();
  return *std::prev(it);
}

GridSpec parse_grid_spec(const std::string& spec) {
  GridSpec g;
  bool seen[4] = {false, false, false, false};
  for (const auto& raw : split(spec, ';')) {
    const std::string part = trim(raw);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string::npos) throw ModeError("grid '" + part + "': expected AXIS=LIST|all (cores, cpu, gpu, emc)");
    const std::string axis = trim(part.substr(0, eq));
    const std::string list = trim(part.substr(eq + 1));
    int index = -1;
    if (axis == "cores") {
      index = 0;
      g.cores = parse_axis<int>(axis, list, max_cpus);
    } else if (axis == "cpu") {
      index = 1;
      g.cpu_khz = parse_axis<std::int64_t>(axis, list, max_clock_hz / 1000);
    } else if (axis == "gpu") {
      index = 2;
      g.gpu_hz = parse_axis<std::int64_t>(axis, list, max_clock_hz);
    } else if (axis == "emc") {
      index = 3;
      g.emc_hz = parse_axis<std::int64_t>(axis, list, max_clock_hz);
    } else {
      throw ModeError("grid: unknown axis '" + axis + "' (cores, cpu, gpu, emc)");
    }
    if (seen[index]) throw ModeError("grid: axis '" + axis + "' given twice");
    seen[index] = true;
  }
  return g;
}

std::string grid_key(std::optional<int> cores, std::optional<std::int64_t> cpu_khz, std::optional<std::int64_t> gpu_hz,
                     std::optional<std::int64_t> emc_hz) {
  std::string key;
  const auto add = [&key](const char* prefix, std::optional<std::int64_t> v) {
    if (v) key += (key.empty() ? "" : "-") + std::string(prefix) + std::to_string(*v);
  };
  add("c", cores);
  add("cpu", cpu_khz);
  add("gpu", gpu_hz);
  add("emc", emc_hz);
  return key.empty() ? "current" : key;
}

std::string nvpmodel_key(int id, const std::string& name) {
  std::string key = "nvp" + std::to_string(id) + "-";
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    key += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  return key;
}

namespace {

struct GridAxes {
  std::vector<std::optional<int>> cores;
  std::vector<std::optional<std::int64_t>> cpu, gpu, emc;
};

GridAxes grid_axes(const GridSpec& spec, const FrequencyTables& tables) {
  GridAxes a;
  // Listed core counts need not be even: any count up to the CPUs present is a valid mode.
  const bool cores_listed = spec.cores && !spec.cores->empty();
  a.cores = axis_values<int>("cores", spec.cores, cores_listed ? std::vector<int>{} : tables.core_counts(), "CPUs");
  for (const auto n : a.cores) {
    if (n && tables.cpu_count > 0 && *n > tables.cpu_count) {
      throw ModeError("grid cores=" + std::to_string(*n) + ": only " + std::to_string(tables.cpu_count) +
                      " CPUs present");
    }
  }
  a.cpu = axis_values<std::int64_t>("cpu", spec.cpu_khz, tables.cpu_khz, "kHz");
  a.gpu = axis_values<std::int64_t>("gpu", spec.gpu_hz, tables.gpu_hz, "Hz");
  a.emc = axis_values<std::int64_t>("emc", spec.emc_hz, tables.emc_hz, "Hz");
  return a;
}

std::uint64_t size_of(const GridAxes& a) {
  std::uint64_t n = 1;
  for (const std::size_t axis : {a.cores.size(), a.cpu.size(), a.gpu.size(), a.emc.size()}) {
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(axis), &n)) return UINT64_MAX;
  }
  return n;
}

}  // namespace

std::uint64_t grid_size(const GridSpec& spec, const FrequencyTables& tables) {
  return size_of(grid_axes(spec, tables));
}

std::vector<PowerMode> enumerate_grid(const GridSpec& spec, const FrequencyTables& tables) {
  const GridAxes a = grid_axes(spec, tables);
  const std::uint64_t size = size_of(a);
  if (size > max_grid_modes) {
    throw ModeError("grid would make " + (size == UINT64_MAX ? "more than 2^64" : std::to_string(size)) + " modes (" +
                    std::to_string(a.cores.size()) + " core counts x " + std::to_string(a.cpu.size()) + " CPU x " +
                    std::to_string(a.gpu.size()) + " GPU x " + std::to_string(a.emc.size()) +
                    " EMC frequencies); edgeroof makes " + std::to_string(max_grid_modes) +
                    " at most: list fewer values");
  }
  std::vector<PowerMode> modes;
  modes.reserve(static_cast<std::size_t>(size));
  for (const auto n : a.cores) {
    for (const auto c : a.cpu) {
      for (const auto g : a.gpu) {
        for (const auto e : a.emc) {
          PowerMode m;
          m.key = grid_key(n, c, g, e);
          m.name = m.key;
          m.cpu_online = n;
          m.cpu_min_khz = m.cpu_max_khz = c;
          m.gpu_min_hz = m.gpu_max_hz = g;
          m.emc_max_hz = e;
          if (g) m.tpc_pg_mask = 0;
          modes.push_back(std::move(m));
        }
      }
    }
  }
  return modes;
}

}  // namespace edgeroof::power
