// rooflines.json: written by fit, read by predict, tune and plot. Reading checks every field where
// the file, the mode and the JSON path can be named, so an impossible figure (a negative ε, a
// ceiling of 0) is one clear line instead of a negative joule or an infinite latency later.
#include "edgeroof/dnn/checked.hpp"
#include "edgeroof/reports/fit.hpp"

#include <cmath>
#include <limits>
#include <set>

namespace edgeroof::reports {

using nlohmann::json;

namespace {

using Fields = dnn::JsonFields<InputError>;
using dnn::Sign;
constexpr std::int64_t kAnyPositive = std::numeric_limits<std::int64_t>::max();

// The knob names of "extrapolated" (modespace.hpp: knobs_of).
const std::set<std::string>& knob_names() {
  static const std::set<std::string> names = {"cpu_online", "cpu_khz", "gpu_hz", "emc_hz", "tpc_pg_mask"};
  return names;
}

json interval_json(const Interval& i) { return json::array({i.lo, i.hi}); }

json ceilings_json(const std::map<std::string, Ceiling>& table, json& sources, json& intervals) {
  json values = json::object();
  for (const auto& [key, c] : table) {
    values[key] = c.value;
    sources[key] = c.source;
    if (c.ci95) intervals[key] = interval_json(*c.ci95);
  }
  return values;
}

json intervals_json(const std::map<std::string, Interval>& table) {
  json out = json::object();
  for (const auto& [key, i] : table) out[key] = interval_json(i);
  return out;
}

// An interval [lo, hi] read beside its figure: two finite numbers of the figure's sign, with
// lo <= figure <= hi.
Interval interval_at(const Fields& f, const json& v, const std::string& at, double figure, Sign sign) {
  if (!v.is_array() || v.size() != 2) f.fail_path(at, " is not an array of two numbers [lo, hi]");
  const Interval i{f.number_at(v[0], at + "[0]", sign), f.number_at(v[1], at + "[1]", sign)};
  if (!(i.lo <= figure && figure <= i.hi)) {
    f.fail_path(at, " = " + v.dump() + " does not hold its figure " + json(figure).dump());
  }
  return i;
}

// The intervals of an object of figures (key "<figures>_ci95"): each beside a figure of that key.
std::map<std::string, Interval> intervals_from(const Fields& f, const std::string& key,
                                               const std::map<std::string, double>& figures, Sign sign) {
  std::map<std::string, Interval> out;
  if (!f.has(key)) return out;
  const Fields table = f.child(key);
  for (const auto& [k, v] : f.value(key).items()) {
    const auto it = figures.find(k);
    if (it == figures.end()) table.fail(k, " has no figure beside it");
    out[k] = interval_at(table, v, table.path(k), it->second, sign);
  }
  return out;
}

json energy_json(const EnergyFit& e) {
  json j;
  j["eps_flop_J"] = e.eps_flop_J;
  j["eps_byte_J"] = e.eps_byte_J;
  j["static_W"] = e.static_W;
  // A modeled mode has no fit of its own: no R², residuals or benchmarks.
  if (std::isfinite(e.r2)) j["r2"] = e.r2;
  if (!e.benchmarks.empty()) {
    json residuals = json::array();
    for (const auto& r : e.residuals)
      residuals.push_back({{"name", r.name}, {"measured_J", r.measured_J}, {"fitted_J", r.fitted_J}});
    j["residuals"] = residuals;
    j["benchmarks"] = e.benchmarks;
  }
  if (!e.eps_flop_ci95.empty()) j["eps_flop_J_ci95"] = intervals_json(e.eps_flop_ci95);
  if (!e.eps_byte_ci95.empty()) j["eps_byte_J_ci95"] = intervals_json(e.eps_byte_ci95);
  if (e.static_ci95) j["static_W_ci95"] = interval_json(*e.static_ci95);
  if (e.condition && std::isfinite(*e.condition)) j["condition"] = *e.condition;
  if (!e.warnings.empty()) j["warnings"] = e.warnings;
  // Unknown is absent: a NaN would be written as null, which no reader takes for a number.
  if (e.idle_power_W && std::isfinite(*e.idle_power_W)) {
    j["idle_power_W"] = *e.idle_power_W;
    j["static_vs_idle_W"] = *e.static_vs_idle_W();
  }
  return j;
}

std::map<std::string, Ceiling> ceilings_from(const Fields& f, const std::string& key,
                                             const std::map<std::string, std::string>& sources) {
  std::map<std::string, Ceiling> out;
  const auto values = f.numbers(key, Sign::positive);
  const auto intervals = intervals_from(f, key + "_ci95", values, Sign::non_negative);
  for (const auto& [k, v] : values) {
    const auto s = sources.find(k);
    const auto i = intervals.find(k);
    out[k] = {v, s == sources.end() ? std::string() : s->second,
              i == intervals.end() ? std::nullopt : std::optional<Interval>(i->second)};
  }
  return out;
}

// The statistics beside the energy constants: intervals, condition number and warnings.
void energy_statistics_from(const Fields& f, EnergyFit& e) {
  e.eps_flop_ci95 = intervals_from(f, "eps_flop_J_ci95", e.eps_flop_J, Sign::non_negative);
  e.eps_byte_ci95 = intervals_from(f, "eps_byte_J_ci95", e.eps_byte_J, Sign::non_negative);
  if (f.has("static_W_ci95")) {
    e.static_ci95 = interval_at(f, f.value("static_W_ci95"), f.path("static_W_ci95"), e.static_W, Sign::non_negative);
  }
  e.condition = f.optional_number("condition", Sign::positive);
  if (e.condition && *e.condition < 1.0) f.fail("condition", " = " + f.value("condition").dump() + " is below 1");
  e.warnings = f.strings("warnings");
}

// "source" (measured or modeled) and the knobs a modeled mode extrapolated.
void provenance_from(const Fields& f, RooflineMode& m) {
  m.source = f.optional_string("source").value_or("measured");
  if (m.source != "measured" && m.source != "modeled") {
    f.fail("source", " = " + f.value("source").dump() + " is not \"measured\" or \"modeled\"");
  }
  m.extrapolated = f.strings("extrapolated");
  for (std::size_t i = 0; i < m.extrapolated.size(); ++i) {
    if (knob_names().count(m.extrapolated[i]) == 0) {
      f.fail_path(
          f.element("extrapolated", i),
          " = " + json(m.extrapolated[i]).dump() + " is not a knob (cpu_online, cpu_khz, gpu_hz, emc_hz, tpc_pg_mask)");
    }
  }
}

EnergyFit energy_from(const Fields& f) {
  EnergyFit e;
  e.eps_flop_J = f.numbers("eps_flop_J", Sign::non_negative);
  e.eps_byte_J = f.numbers("eps_byte_J", Sign::non_negative);
  e.static_W = f.number("static_W", Sign::non_negative);
  e.r2 = f.optional_number("r2", Sign::any).value_or(0.0);
  if (e.r2 > 1.0) f.fail("r2", " = " + f.value("r2").dump() + " is above 1");
  if (f.has("residuals")) {
    const json& list = f.array("residuals");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Fields r = f.item("residuals", i);
      e.residuals.push_back(
          {r.string("name"), r.number("measured_J", Sign::non_negative), r.number("fitted_J", Sign::non_negative)});
    }
  }
  e.benchmarks = f.strings("benchmarks");
  e.idle_power_W = f.optional_number("idle_power_W", Sign::non_negative);
  energy_statistics_from(f, e);
  return e;
}

void figures_from(const Fields& f, RooflineMode& m) {
  const auto sources = f.string_map("sources");
  m.compute_flops_per_s = ceilings_from(f, "compute_flops_per_s", sources);
  m.bandwidth_bytes_per_s = ceilings_from(f, "bandwidth_bytes_per_s", sources);
  if (f.has("energy")) {
    const Fields energy = f.child("energy");
    for (const auto& [backend, e] : f.value("energy").items()) m.energy[backend] = energy_from(energy.child(backend));
  }
}

RooflineMode mode_from(const json& j, const std::string& where) {
  const Fields f(j, where);
  RooflineMode m;
  m.key = f.string("key");
  if (m.key.empty()) f.fail("key", " is empty");
  m.name = f.optional_string("name").value_or(m.key);
  if (const auto id = f.optional_integer("id", 0, std::numeric_limits<int>::max())) m.id = static_cast<int>(*id);
  m.gpu_hz = f.optional_integer("gpu_hz", 1, kAnyPositive);
  m.emc_hz = f.optional_integer("emc_hz", 1, kAnyPositive);
  m.cpu_khz = f.optional_integer("cpu_khz", 1, kAnyPositive);
  if (const auto online = f.optional_integer("cpu_online", 1, 1024)) m.cpu_online = static_cast<int>(*online);
  m.tpc_pg_mask = f.optional_integer("tpc_pg_mask", 0, kAnyPositive);
  provenance_from(f, m);
  figures_from(f, m);
  if (f.has("modeled")) {
    if (m.source != "measured") f.fail("modeled", " is there, but the mode is not measured");
    auto modeled = std::make_shared<RooflineMode>();
    figures_from(f.child("modeled"), *modeled);
    m.modeled = std::move(modeled);
  }
  if (f.has("excluded")) {
    const Fields excluded = f.child("excluded");
    for (const auto& [reason, names] : f.value("excluded").items()) m.excluded[reason] = excluded.strings(reason);
  }
  m.files = f.strings("files");
  m.context = f.string_map("context");
  return m;
}

}  // namespace

namespace {

// The figures of a mode (ceilings with their intervals and sources, energies), as written for the
// mode itself and for the model's prediction of a measured mode ("modeled").
void figures_json(const RooflineMode& m, json& j) {
  json sources = json::object(), compute_ci = json::object(), bandwidth_ci = json::object();
  j["compute_flops_per_s"] = ceilings_json(m.compute_flops_per_s, sources, compute_ci);
  j["bandwidth_bytes_per_s"] = ceilings_json(m.bandwidth_bytes_per_s, sources, bandwidth_ci);
  if (!compute_ci.empty()) j["compute_flops_per_s_ci95"] = compute_ci;
  if (!bandwidth_ci.empty()) j["bandwidth_bytes_per_s_ci95"] = bandwidth_ci;
  j["sources"] = sources;
  if (!m.energy.empty()) {
    json energy = json::object();
    for (const auto& [backend, e] : m.energy) energy[backend] = energy_json(e);
    j["energy"] = energy;
  }
}

}  // namespace

json to_json(const Rooflines& r) {
  json modes = json::array();
  for (const auto& m : r.modes) {
    json j;
    j["key"] = m.key;
    j["name"] = m.name;
    if (m.id) j["id"] = *m.id;
    if (m.gpu_hz) j["gpu_hz"] = *m.gpu_hz;
    if (m.emc_hz) j["emc_hz"] = *m.emc_hz;
    if (m.cpu_khz) j["cpu_khz"] = *m.cpu_khz;
    if (m.cpu_online) j["cpu_online"] = *m.cpu_online;
    if (m.tpc_pg_mask) j["tpc_pg_mask"] = *m.tpc_pg_mask;
    j["source"] = m.source;
    if (!m.extrapolated.empty()) j["extrapolated"] = m.extrapolated;
    figures_json(m, j);
    if (m.source == "measured") j["ridge_ai"] = m.ridge_points();  // derived; thousands of modeled modes go without
    if (m.modeled) {
      json modeled;
      figures_json(*m.modeled, modeled);
      j["modeled"] = modeled;
    }
    if (!m.excluded.empty()) j["excluded"] = m.excluded;
    if (!m.files.empty()) j["files"] = m.files;
    j["context"] = m.context;
    modes.push_back(std::move(j));
  }
  return json{{"modes", modes}};
}

Rooflines rooflines_from_json(const json& doc, const std::string& origin) {
  if (!doc.is_object() || !doc.contains("modes") || !doc["modes"].is_array()) {
    throw InputError(origin + ": not a rooflines file (no \"modes\" array)");
  }
  Rooflines out;
  std::map<std::string, std::size_t> seen;
  const json& modes = doc["modes"];
  for (std::size_t i = 0; i < modes.size(); ++i) {
    std::string where = origin + ": modes[" + std::to_string(i) + "]";
    const json& j = modes[i];
    if (j.is_object() && j.contains("key") && j["key"].is_string() && !j["key"].get<std::string>().empty()) {
      where += " (" + dnn::excerpt(j["key"].get<std::string>()) + ")";
    }
    auto mode = mode_from(j, where + ": ");
    // predict, tune and plot find modes by key: two with one key would be one silently lost.
    if (const auto [it, added] = seen.emplace(mode.key, i); !added) {
      throw InputError(where + ": key is also that of modes[" + std::to_string(it->second) + "]");
    }
    out.modes.push_back(std::move(mode));
  }
  return out;
}

Rooflines load_rooflines(const std::filesystem::path& path) {
  json doc;
  try {
    doc = json::parse(read_text_file(path));
  } catch (const json::exception& e) {  // parse errors and numbers out of range (1e999)
    throw InputError(path.string() + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  return rooflines_from_json(doc, path.string());
}

}  // namespace edgeroof::reports
