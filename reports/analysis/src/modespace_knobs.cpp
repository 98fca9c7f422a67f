// modes.json as the mode-space model reads it, and the knobs of a fitted mode.
#include "modespace_knobs.hpp"
#include "edgeroof/dnn/checked.hpp"
#include "edgeroof/reports/modespace.hpp"

#include <limits>
#include <map>

namespace edgeroof::reports {

namespace {

using Fields = dnn::JsonFields<InputError>;
constexpr std::int64_t kAnyPositive = std::numeric_limits<std::int64_t>::max();
// A board with more cores than this is a typo (the same bound as rooflines.json's cpu_online).
constexpr std::int64_t kMaxCores = 1024;

ModeKnobs knobs_from(const Fields& f) {
  ModeKnobs m;
  m.key = f.string("key");
  if (m.key.empty()) f.fail("key", " is empty");
  m.name = f.optional_string("name").value_or(m.key);
  if (const auto id = f.optional_integer("id", 0, std::numeric_limits<int>::max())) m.id = static_cast<int>(*id);
  if (const auto n = f.optional_integer("cpu_online", 1, kMaxCores)) m.cpu_online = static_cast<int>(*n);
  m.cpu_khz = f.optional_integer("cpu_max_khz", 1, kAnyPositive);
  m.gpu_hz = f.optional_integer("gpu_max_hz", 1, kAnyPositive);
  m.emc_hz = f.optional_integer("emc_max_hz", 1, kAnyPositive);
  m.tpc_pg_mask = f.optional_integer("tpc_pg_mask", 0, std::numeric_limits<std::uint32_t>::max());
  return m;
}

template <typename T>
std::optional<double> as_double(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

}  // namespace

const std::vector<detail::KnobDef>& detail::knob_defs() {
  static const std::vector<KnobDef> defs = {
      {"cpu_online", [](const ModeKnobs& m) { return as_double(m.cpu_online); }},
      {"cpu_khz", [](const ModeKnobs& m) { return as_double(m.cpu_khz); }},
      {"gpu_hz", [](const ModeKnobs& m) { return as_double(m.gpu_hz); }},
      {"emc_hz", [](const ModeKnobs& m) { return as_double(m.emc_hz); }},
      {"tpc_pg_mask", [](const ModeKnobs& m) { return as_double(m.tpc_pg_mask); }},
  };
  return defs;
}

ModeKnobs knobs_of(const RooflineMode& mode) {
  ModeKnobs k;
  k.key = mode.key;
  k.name = mode.name;
  k.id = mode.id;
  k.cpu_online = mode.cpu_online;
  k.cpu_khz = mode.cpu_khz;
  k.gpu_hz = mode.gpu_hz;
  k.emc_hz = mode.emc_hz;
  k.tpc_pg_mask = mode.tpc_pg_mask;
  return k;
}

std::vector<ModeKnobs> modes_from_json(const nlohmann::json& doc, const std::string& origin) {
  if (!doc.is_object() || !doc.contains("modes") || !doc["modes"].is_array()) {
    throw InputError(origin + ": not a modes file (no \"modes\" array; write one with `edgeroof modes --format json`)");
  }
  const auto& list = doc["modes"];
  if (list.empty()) throw InputError(origin + ": modes is empty");
  std::vector<ModeKnobs> out;
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = origin + ": modes[" + std::to_string(i) + "]";
    if (!list[i].is_object()) throw InputError(where + " is not an object");
    auto mode = knobs_from(Fields(list[i], where + ": "));
    if (const auto [it, added] = seen.emplace(mode.key, i); !added) {
      throw InputError(where + ": key " + dnn::excerpt(mode.key) + " is also that of modes[" +
                       std::to_string(it->second) + "]");
    }
    out.push_back(std::move(mode));
  }
  return out;
}

std::vector<ModeKnobs> load_modes_file(const std::filesystem::path& path) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path.string() + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  return modes_from_json(doc, path.string());
}

}  // namespace edgeroof::reports
