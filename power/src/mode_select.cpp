#include "edgeroof/power/mode_select.hpp"

#include <climits>
#include <sstream>

namespace edgeroof::power {
namespace {

// `nvpmodel:ID,ID`: each id once, each one the conf has.
std::vector<PowerMode> listed_modes(const std::string& spec, const std::string& list, const FrequencyTables& tables,
                                    const NvpmodelConf& conf) {
  std::vector<PowerMode> modes;
  std::stringstream ids(list);
  std::string id;
  while (std::getline(ids, id, ',')) {
    const bool digits = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) throw ModeError("--modes " + spec + ": '" + id + "' is not a mode id");
    // nvpmodel's ids are ints: a larger one must not wrap around to another mode's.
    const auto n = parse_int64(id);
    if (!n || *n > INT_MAX)
      throw ModeError("--modes " + spec + ": id " + id + " is out of range (0 to " + std::to_string(INT_MAX) + ")");
    const auto* m = conf.find_mode(static_cast<int>(*n));
    if (m == nullptr) throw ModeError("--modes " + spec + ": " + conf.source + " has no POWER_MODEL ID=" + id);
    for (const auto& seen : modes) {
      if (seen.id == m->id) throw ModeError("--modes " + spec + ": id " + id + " given twice");
    }
    modes.push_back(to_power_mode(*m, tables));
  }
  if (modes.empty()) throw ModeError("--modes nvpmodel: needs 'all' or ids");
  return modes;
}

}  // namespace

std::vector<PowerMode> select_modes(const std::string& spec, const FrequencyTables& tables,
                                    const std::optional<NvpmodelConf>& conf) {
  if (spec == "current") return {};
  if (spec.rfind("grid:", 0) == 0) return enumerate_grid(parse_grid_spec(spec.substr(5)), tables);
  if (spec.rfind("nvpmodel:", 0) != 0)
    throw ModeError("--modes '" + spec + "': expected current, nvpmodel:all, nvpmodel:ID,ID or grid:SPEC");
  if (!conf) throw ModeError("--modes " + spec + ": no nvpmodel.conf (not a Jetson?); name one with --nvpmodel-conf");
  const std::string list = spec.substr(9);
  if (list != "all") return listed_modes(spec, list, tables, *conf);
  if (conf->modes.empty()) throw ModeError("--modes " + spec + ": " + conf->source + " has no POWER_MODEL section");
  std::vector<PowerMode> modes;
  for (const auto& m : conf->modes) modes.push_back(to_power_mode(m, tables));
  return modes;
}

nlohmann::json mode_to_json(const PowerMode& mode) {
  nlohmann::json j = {{"key", mode.key}, {"name", mode.name}};
  if (mode.id) j["id"] = *mode.id;
  // Unknown is absent, never a made-up value.
  if (mode.cpu_online) j["cpu_online"] = *mode.cpu_online;
  if (mode.cpu_max_khz) j["cpu_max_khz"] = *mode.cpu_max_khz;
  if (mode.gpu_max_hz) j["gpu_max_hz"] = *mode.gpu_max_hz;
  if (mode.emc_max_hz) j["emc_max_hz"] = *mode.emc_max_hz;
  if (mode.tpc_pg_mask) j["tpc_pg_mask"] = *mode.tpc_pg_mask;
  return j;
}

}  // namespace edgeroof::power
