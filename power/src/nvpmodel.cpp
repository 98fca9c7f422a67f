#include "edgeroof/power/nvpmodel.hpp"

#include "edgeroof/power/machine.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace edgeroof::power {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

[[noreturn]] void fail(int line_no, const std::string& what) {
  throw ModeError("nvpmodel.conf line " + std::to_string(line_no) + ": " + what);
}

enum class Section { none, param, model, other };

// The maximum of a cluster's MAX_FREQ: -1 and 0 mean "no cap"; a cap at or above the table's top
// (INT_MAX in some confs) is the top.
std::optional<std::int64_t> resolve_max(std::int64_t cap, const std::vector<std::int64_t>& table) {
  if (table.empty()) return std::nullopt;
  if (cap <= 0) return table.back();
  return frequency_under_cap(table, cap);
}

// MIN_FREQ: 0 is the table minimum, -1 the maximum.
std::optional<std::int64_t> resolve_min(std::int64_t floor, const std::vector<std::int64_t>& table) {
  if (table.empty()) return std::nullopt;
  if (floor == 0) return table.front();
  if (floor < 0) return table.back();
  // The driver rounds a floor up to the next table entry.
  const auto it = std::lower_bound(table.begin(), table.end(), floor);
  return it == table.end() ? table.back() : *it;
}

// An integer of the file: a whole number that fits in 64 bits, told apart from one that does not.
std::int64_t integer(int line_no, const std::string& what, const std::string& text) {
  if (const auto v = parse_int64(text)) return *v;
  const std::size_t sign = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  const bool whole = text.size() > sign && text.find_first_not_of("0123456789", sign) == std::string::npos;
  fail(line_no, what + (whole ? " does not fit in 64 bits" : " is not a whole number"));
}

// An id of POWER_MODEL or PM_CONFIG: nvpmodel keeps them in an int.
int mode_id(int line_no, const std::string& what, const std::string& text) {
  if (text.empty()) fail(line_no, what + " needs a number");
  const auto v = integer(line_no, what + "=" + text, text);
  if (v < 0 || v > INT_MAX)
    fail(line_no, what + "=" + text + " is out of range (0 to " + std::to_string(INT_MAX) + ")");
  return static_cast<int>(v);
}

// The settings whose value edgeroof reads as a number, checked where the line is known.
void check_setting(int line_no, const NvpmodelSetting& s) {
  const bool frequency = s.arg == "MAX_FREQ" || s.arg == "MIN_FREQ";
  const bool online = s.param == "CPU_ONLINE";
  const bool mask = s.arg == "TPC_PG_MASK";
  if (!frequency && !online && !mask) return;
  std::string what = s.param + " " + s.arg + " " + s.value;
  if (what.size() > 80) what = what.substr(0, 80) + "...";  // a hostile line may be a megabyte long
  const auto v = integer(line_no, what + ":", s.value);
  if (frequency && (v < -1 || v > max_clock_hz))
    fail(line_no, what + ": a frequency is -1 (no limit), 0 or at most " + std::to_string(max_clock_hz));
  if (online && v != 0 && v != 1) fail(line_no, what + ": a core is 0 (offline) or 1 (online)");
  if (mask && (v < 0 || v > UINT32_MAX)) fail(line_no, what + ": a TPC mask is 0 to " + std::to_string(UINT32_MAX));
}

}  // namespace

std::optional<std::int64_t> NvpmodelMode::value(const std::string& param, const std::string& arg) const {
  for (const auto& s : settings) {
    if (s.param == param && s.arg == arg) return parse_int64(s.value);
  }
  return std::nullopt;
}

const NvpmodelMode* NvpmodelConf::find_mode(int id) const {
  for (const auto& m : modes) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const NvpmodelParam* NvpmodelConf::find_param(const std::string& name) const {
  for (const auto& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::optional<std::string> NvpmodelConf::node(const Root& root, const std::string& param,
                                              const std::string& arg) const {
  const auto* p = find_param(param);
  if (p == nullptr) return std::nullopt;
  for (const auto& candidate : {arg + "_KNEXT", arg}) {
    const auto it = p->paths.find(candidate);
    if (it != p->paths.end() && root.exists(it->second)) return it->second;
  }
  return std::nullopt;
}

NvpmodelConf parse_nvpmodel_conf(std::string_view text) {
  NvpmodelConf conf;
  Section section = Section::none;
  std::istringstream in{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (line[first] == '<') {
      const auto close = line.find('>', first);
      if (close == std::string::npos) fail(line_no, "section header without '>'");
      if (line.find_first_not_of(" \t", close + 1) != std::string::npos) fail(line_no, "text after the section header");
      const auto w = words(line.substr(first + 1, close - first - 1));
      if (w.empty()) fail(line_no, "empty section header");
      std::map<std::string, std::string> attrs;
      const bool known = w[0] == "PARAM" || w[0] == "POWER_MODEL" || w[0] == "PM_CONFIG";
      for (std::size_t i = 1; known && i < w.size(); ++i) {
        const auto eq = w[i].find('=');
        if (eq == std::string::npos || eq == 0) fail(line_no, "expected KEY=VALUE in the header, not '" + w[i] + "'");
        attrs[w[i].substr(0, eq)] = w[i].substr(eq + 1);
      }
      if (w[0] == "PARAM") {
        if (attrs["NAME"].empty()) fail(line_no, "PARAM without NAME");
        conf.params.push_back({attrs["TYPE"], attrs["NAME"], {}});
        section = Section::param;
      } else if (w[0] == "POWER_MODEL") {
        const int id = mode_id(line_no, "POWER_MODEL ID", attrs["ID"]);
        if (conf.find_mode(id) != nullptr) fail(line_no, "POWER_MODEL ID=" + attrs["ID"] + " given twice");
        conf.modes.push_back({id, attrs["NAME"], {}});
        section = Section::model;
      } else if (w[0] == "PM_CONFIG") {
        conf.default_id = mode_id(line_no, "PM_CONFIG DEFAULT", attrs["DEFAULT"]);
        section = Section::other;
      } else {
        // FAN_CONFIG and other sections edgeroof does not need; nvpmodel has more kinds over releases.
        section = Section::other;
      }
      continue;
    }
    const auto w = words(line);
    switch (section) {
    case Section::none:
      fail(line_no, "setting before the first section header");
    case Section::param:
      if (w.size() != 2) fail(line_no, "expected 'ARG_NAME PATH' in PARAM " + conf.params.back().name);
      conf.params.back().paths[w[0]] = w[1];
      break;
    case Section::model:
      if (w.size() != 3) fail(line_no, "expected 'PARAM ARG VALUE' in POWER_MODEL " + conf.modes.back().name);
      conf.modes.back().settings.push_back({w[0], w[1], w[2]});
      check_setting(line_no, conf.modes.back().settings.back());
      break;
    case Section::other:
      break;
    }
  }
  if (conf.default_id && conf.find_mode(*conf.default_id) == nullptr && !conf.modes.empty()) {
    throw ModeError("nvpmodel.conf: PM_CONFIG DEFAULT=" + std::to_string(*conf.default_id) + " names no POWER_MODEL");
  }
  return conf;
}

NvpmodelConf load_nvpmodel_conf(const std::string& host_path) {
  std::ifstream in(host_path, std::ios::binary);
  if (!in) throw ModeError("cannot read " + host_path + ": " + std::string(std::strerror(errno)));
  std::string text(max_nvpmodel_conf_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw ModeError("cannot read " + host_path + ": " + std::string(std::strerror(errno)));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_nvpmodel_conf_bytes)
    throw ModeError(host_path + ": longer than " + std::to_string(max_nvpmodel_conf_bytes) +
                    " bytes, not an nvpmodel.conf");
  try {
    auto conf = parse_nvpmodel_conf(text);
    conf.source = host_path;
    return conf;
  } catch (const ModeError& e) {
    throw ModeError(host_path + ": " + e.what());
  }
}

std::optional<NvpmodelConf> find_nvpmodel_conf(const Root& root, const std::optional<std::string>& host_path) {
  if (host_path) return load_nvpmodel_conf(*host_path);
  const auto path = root.resolve("/etc/nvpmodel.conf");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  return load_nvpmodel_conf(path.string());
}

PowerMode to_power_mode(const NvpmodelMode& mode, const FrequencyTables& tables) {
  PowerMode m;
  m.key = nvpmodel_key(mode.id, mode.name);
  m.name = mode.name;
  m.id = mode.id;
  int online = 0;
  bool lists_cores = false;
  for (const auto& s : mode.settings) {
    if (s.param != "CPU_ONLINE") continue;
    lists_cores = true;
    if (s.value == "1") ++online;
  }
  if (lists_cores) m.cpu_online = online;
  // CPU clusters are separate params (CPU_A78_0, CPU_A78_1, ...); a mode lists the ones it keeps.
  for (const auto& s : mode.settings) {
    if (s.param.rfind("CPU_", 0) != 0 || s.param == "CPU_ONLINE") continue;
    const auto v = parse_int64(s.value);
    if (!v) continue;
    if (s.arg == "MAX_FREQ") {
      if (const auto f = resolve_max(*v, tables.cpu_khz)) m.cpu_max_khz = std::max(m.cpu_max_khz.value_or(0), *f);
    } else if (s.arg == "MIN_FREQ") {
      if (const auto f = resolve_min(*v, tables.cpu_khz)) m.cpu_min_khz = std::max(m.cpu_min_khz.value_or(0), *f);
    }
  }
  if (const auto v = mode.value("GPU", "MAX_FREQ")) m.gpu_max_hz = resolve_max(*v, tables.gpu_hz);
  if (const auto v = mode.value("GPU", "MIN_FREQ")) m.gpu_min_hz = resolve_min(*v, tables.gpu_hz);
  if (const auto v = mode.value("EMC", "MAX_FREQ")) m.emc_max_hz = resolve_max(*v, tables.emc_hz);
  if (const auto v = mode.value("TPC_POWER_GATING", "TPC_PG_MASK")) m.tpc_pg_mask = *v;
  return m;
}

}  // namespace edgeroof::power
