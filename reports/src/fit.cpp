#include "edgeroof/reports/fit.hpp"

#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <filesystem>

namespace edgeroof::reports {

using nlohmann::json;

std::map<std::string, double> RooflineMode::ridge_points() const {
  std::map<std::string, double> out;
  for (const auto& [ckey, c] : compute_flops_per_s) {
    const std::string backend = ckey.substr(0, ckey.find('/'));
    for (const auto& [bkey, b] : bandwidth_bytes_per_s) {
      if (bkey.substr(0, bkey.find('/')) != backend || b.value <= 0.0) continue;
      out[ckey + "@" + bkey.substr(bkey.find('/') + 1)] = c.value / b.value;
    }
  }
  return out;
}

namespace {

template <class T>
std::optional<T> context_number(const ResultsFile& f, const std::string& key) {
  const auto text = f.context_value(key);
  if (!text) return std::nullopt;
  const auto v = power::parse_int64(*text);
  if (!v) return std::nullopt;
  return static_cast<T>(*v);
}

void keep_best(std::map<std::string, Ceiling>& table, const std::string& key, double value, const std::string& source) {
  auto it = table.find(key);
  if (it == table.end() || value > it->second.value) table[key] = {value, source};
}

// Rates of every repetition of every benchmark in a mode's files, pooled by name.
struct Pooled {
  std::vector<double> flops_rate, bytes_rate;
  std::optional<BenchmarkName> parsed;                 // parsed once: a grid sweep has thousands of files
  std::vector<double> energy_J, flops, bytes, time_s;  // per iteration, repetitions with energy_J
  std::string label;
};

void pool_file(std::map<std::string, Pooled>& pooled, const ResultsFile& file) {
  for (const auto& [name, reps] : repetitions_by_name(file)) {
    auto& p = pooled[name];
    if (!p.parsed) p.parsed = parse_benchmark_name(name);
    for (const auto* r : reps) {
      if (auto v = r->counter("FLOP/s")) p.flops_rate.push_back(*v);
      if (auto v = r->counter("B/s")) p.bytes_rate.push_back(*v);
      if (auto e = r->counter("energy_J")) {
        p.energy_J.push_back(*e);
        p.flops.push_back(r->counter("flops").value_or(0.0));
        p.bytes.push_back(r->counter("bytes").value_or(0.0));
        p.time_s.push_back(r->real_time_s);
      }
      if (p.label.empty()) p.label = r->label;
    }
  }
}

void fit_time(RooflineMode& mode, const std::map<std::string, Pooled>& pooled) {
  for (const auto& [name, p] : pooled) {
    const auto& parsed = p.parsed;
    if (!parsed) continue;
    if (parsed->family == "compute" && !p.flops_rate.empty()) {
      keep_best(mode.compute_flops_per_s, parsed->backend + "/" + parsed->what, median(p.flops_rate), name);
    } else if (parsed->family == "memory" && !p.bytes_rate.empty() && p.label.rfind("level:", 0) == 0) {
      const std::string level = p.label.substr(6);
      if (level == "mixed") continue;
      keep_best(mode.bandwidth_bytes_per_s, parsed->backend + "/" + level, median(p.bytes_rate), name);
    }
  }
}

std::optional<double> context_real(const std::map<std::string, std::string>& context, const std::string& key) {
  const auto it = context.find(key);
  if (it == context.end()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double v = std::stod(it->second, &used);
    if (used != it->second.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void fit_energy_of(RooflineMode& mode, const std::map<std::string, Pooled>& pooled) {
  std::map<std::string, std::vector<EnergySample>> by_backend;
  for (const auto& [name, p] : pooled) {
    if (p.energy_J.empty()) continue;
    const auto& parsed = p.parsed;
    if (!parsed) continue;
    EnergySample s{name, "", "", median(p.flops), median(p.bytes), median(p.time_s), median(p.energy_J)};
    if (parsed->family == "compute") {
      s.column_flop = parsed->what;
      s.column_byte = "dram";
    } else if (parsed->family == "memory" && p.label.rfind("level:", 0) == 0 && p.label != "level:mixed") {
      s.column_byte = p.label.substr(6);
    } else {
      continue;  // layers and mixed working sets: no single column to charge
    }
    by_backend[parsed->backend].push_back(std::move(s));
  }
  // edgeroof-bench measures idle power before its benchmarks; edgeroof sweep after settling a mode.
  auto idle = context_real(mode.context, "idle_power_W");
  if (!idle) idle = context_real(mode.context, "power_mode.idle_power_W");
  for (const auto& [backend, samples] : by_backend) {
    if (auto fit = fit_energy(samples)) {
      fit->idle_power_W = idle;
      mode.energy[backend] = std::move(*fit);
    }
  }
}

}  // namespace

std::string mode_key_of(const ResultsFile& f) {
  if (auto k = f.context_value("power_mode.key")) return *k;
  return std::filesystem::path(f.path).stem().string();
}

Rooflines fit_rooflines(const std::vector<ResultsFile>& files) {
  Rooflines out;
  std::vector<std::map<std::string, Pooled>> pooled;
  std::map<std::string, std::size_t> index;  // mode key -> position: thousands of modes in a grid sweep
  for (const auto& file : files) {
    const std::string key = mode_key_of(file);
    const auto found = index.find(key);
    auto it = found == index.end() ? out.modes.end() : out.modes.begin() + static_cast<std::ptrdiff_t>(found->second);
    if (it == out.modes.end()) {
      index[key] = out.modes.size();
      RooflineMode m;
      m.key = key;
      m.name = file.context_value("power_mode.name").value_or(key);
      m.id = context_number<int>(file, "power_mode.id");
      m.gpu_hz = context_number<std::int64_t>(file, "power_mode.gpu_hz");
      m.emc_hz = context_number<std::int64_t>(file, "power_mode.emc_hz");
      m.cpu_khz = context_number<std::int64_t>(file, "power_mode.cpu_khz");
      m.cpu_online = context_number<int>(file, "power_mode.cpu_online");
      m.context = file.context;
      out.modes.push_back(std::move(m));
      pooled.emplace_back();
      it = std::prev(out.modes.end());
    }
    it->files.push_back(file.path);
    pool_file(pooled[static_cast<std::size_t>(it - out.modes.begin())], file);
  }
  for (std::size_t i = 0; i < out.modes.size(); ++i) {
    fit_time(out.modes[i], pooled[i]);
    fit_energy_of(out.modes[i], pooled[i]);
  }
  return out;
}

namespace {

json ceilings_json(const std::map<std::string, Ceiling>& table, json& sources) {
  json values = json::object();
  for (const auto& [key, c] : table) {
    values[key] = c.value;
    sources[key] = c.source;
  }
  return values;
}

std::map<std::string, Ceiling> ceilings_from(const json& m, const char* key, const char* sources_key) {
  std::map<std::string, Ceiling> out;
  if (!m.contains(key)) return out;
  for (const auto& [k, v] : m[key].items()) {
    Ceiling c;
    c.value = v.get<double>();
    if (m.contains(sources_key) && m[sources_key].contains(k)) c.source = m[sources_key][k].get<std::string>();
    out[k] = c;
  }
  return out;
}

json energy_json(const EnergyFit& e) {
  json j;
  j["eps_flop_J"] = e.eps_flop_J;
  j["eps_byte_J"] = e.eps_byte_J;
  j["static_W"] = e.static_W;
  j["r2"] = e.r2;
  json residuals = json::array();
  for (const auto& r : e.residuals)
    residuals.push_back({{"name", r.name}, {"measured_J", r.measured_J}, {"fitted_J", r.fitted_J}});
  j["residuals"] = residuals;
  j["benchmarks"] = e.benchmarks;
  if (e.idle_power_W) j["idle_power_W"] = *e.idle_power_W;
  if (const auto d = e.static_vs_idle_W()) j["static_vs_idle_W"] = *d;
  return j;
}

EnergyFit energy_from(const json& j) {
  EnergyFit e;
  e.eps_flop_J = j.value("eps_flop_J", std::map<std::string, double>{});
  e.eps_byte_J = j.value("eps_byte_J", std::map<std::string, double>{});
  e.static_W = j.at("static_W").get<double>();
  e.r2 = j.value("r2", 0.0);
  if (j.contains("residuals")) {
    for (const auto& r : j["residuals"]) {
      e.residuals.push_back(
          {r.at("name").get<std::string>(), r.at("measured_J").get<double>(), r.at("fitted_J").get<double>()});
    }
  }
  e.benchmarks = j.value("benchmarks", std::vector<std::string>{});
  if (j.contains("idle_power_W")) e.idle_power_W = j["idle_power_W"].get<double>();
  return e;
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
    json sources = json::object();
    j["compute_flops_per_s"] = ceilings_json(m.compute_flops_per_s, sources);
    j["bandwidth_bytes_per_s"] = ceilings_json(m.bandwidth_bytes_per_s, sources);
    j["sources"] = sources;
    j["ridge_ai"] = m.ridge_points();
    if (!m.energy.empty()) {
      json energy = json::object();
      for (const auto& [backend, e] : m.energy) energy[backend] = energy_json(e);
      j["energy"] = energy;
    }
    j["files"] = m.files;
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
  try {
    for (const auto& j : doc["modes"]) {
      RooflineMode m;
      m.key = j.at("key").get<std::string>();
      m.name = j.value("name", m.key);
      if (j.contains("id")) m.id = j["id"].get<int>();
      if (j.contains("gpu_hz")) m.gpu_hz = j["gpu_hz"].get<std::int64_t>();
      if (j.contains("emc_hz")) m.emc_hz = j["emc_hz"].get<std::int64_t>();
      if (j.contains("cpu_khz")) m.cpu_khz = j["cpu_khz"].get<std::int64_t>();
      if (j.contains("cpu_online")) m.cpu_online = j["cpu_online"].get<int>();
      m.compute_flops_per_s = ceilings_from(j, "compute_flops_per_s", "sources");
      m.bandwidth_bytes_per_s = ceilings_from(j, "bandwidth_bytes_per_s", "sources");
      if (j.contains("energy")) {
        for (const auto& [backend, e] : j["energy"].items()) m.energy[backend] = energy_from(e);
      }
      if (j.contains("files")) m.files = j["files"].get<std::vector<std::string>>();
      if (j.contains("context")) m.context = j["context"].get<std::map<std::string, std::string>>();
      out.modes.push_back(std::move(m));
    }
  } catch (const json::exception& e) {
    throw InputError(origin + ": malformed rooflines entry (" + std::string(e.what()) + ")");
  }
  return out;
}

Rooflines load_rooflines(const std::filesystem::path& path) {
  json doc;
  try {
    doc = json::parse(read_text_file(path));
  } catch (const json::parse_error& e) {
    throw InputError(path.string() + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  return rooflines_from_json(doc, path.string());
}

}  // namespace edgeroof::reports
