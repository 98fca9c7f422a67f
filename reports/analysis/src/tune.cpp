#include "edgeroof/reports/tune.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace edgeroof::reports {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

// Less energy first; at equal energy the faster; then the key, so ties resolve the same way in
// every run.
bool less_energy(const ModeCost& a, const ModeCost& b) {
  if (*a.energy_J != *b.energy_J) return *a.energy_J < *b.energy_J;
  if (a.latency_s != b.latency_s) return a.latency_s < b.latency_s;
  return a.key < b.key;
}

bool less_latency(const ModeCost& a, const ModeCost& b) {
  if (a.latency_s != b.latency_s) return a.latency_s < b.latency_s;
  if (*a.energy_J != *b.energy_J) return *a.energy_J < *b.energy_J;
  return a.key < b.key;
}

json cost_json(const ModeCost& m) {
  json j = {{"key", m.key},
            {"name", m.name},
            {"latency_s", m.latency_s},
            {"energy_J", *m.energy_J},
            {"power_W", *m.energy_J / m.latency_s}};
  if (m.id) j["id"] = *m.id;
  return j;
}

}  // namespace

std::string TuneConstraint::describe() const {
  switch (kind) {
  case Kind::max_slowdown:
    return "least energy within " + format("%g", value * 100.0) + "% of the fastest latency";
  case Kind::max_latency:
    return "least energy with latency <= " + format("%g", value * 1e3) + " ms";
  case Kind::max_power:
    return "fastest with average power <= " + format("%g", value) + " W";
  }
  return "";
}

bool is_maxn(const ModeCost& mode) {
  const std::string key = lower(mode.key);
  return lower(mode.name) == "maxn" || key == "maxn" ||
         (key.size() > 5 && key.compare(key.size() - 5, 5, "-maxn") == 0);
}

std::vector<ModeCost> pareto_front(std::vector<ModeCost> modes) {
  std::sort(modes.begin(), modes.end(), less_latency);
  std::vector<ModeCost> front;
  for (auto& m : modes) {
    if (front.empty() || *m.energy_J < *front.back().energy_J) front.push_back(std::move(m));
  }
  return front;
}

TuneResult tune(const std::vector<ModeCost>& all, const TuneConstraint& constraint) {
  std::vector<ModeCost> modes;
  for (const auto& m : all) {
    if (m.energy_J && m.latency_s > 0.0) modes.push_back(m);
  }
  if (modes.empty()) throw InputError("no mode has an energy prediction (fit results measured with a sensor)");
  TuneResult out;
  out.modes = modes.size();
  out.constraint = constraint.describe();
  out.fastest = *std::min_element(modes.begin(), modes.end(), less_latency);

  const ModeCost* chosen = nullptr;
  if (constraint.kind == TuneConstraint::Kind::max_power) {
    for (const auto& m : modes) {
      if (*m.energy_J / m.latency_s <= constraint.value && (chosen == nullptr || less_latency(m, *chosen))) chosen = &m;
    }
    if (chosen == nullptr) {
      const auto low = std::min_element(modes.begin(), modes.end(), [](const ModeCost& a, const ModeCost& b) {
        return *a.energy_J / a.latency_s < *b.energy_J / b.latency_s;
      });
      throw InputError("no mode stays under " + format("%g", constraint.value) + " W (the lowest is " +
                       format("%.3g", *low->energy_J / low->latency_s) + " W, mode " + low->key + ")");
    }
  } else {
    const double bound_s = constraint.kind == TuneConstraint::Kind::max_slowdown
                               ? out.fastest.latency_s * (1.0 + constraint.value)
                               : constraint.value;
    for (const auto& m : modes) {
      if (m.latency_s <= bound_s && (chosen == nullptr || less_energy(m, *chosen))) chosen = &m;
    }
    if (chosen == nullptr) {
      throw InputError("no mode is faster than " + format("%g", bound_s * 1e3) + " ms (the fastest is " +
                       format("%.4g", out.fastest.latency_s * 1e3) + " ms, mode " + out.fastest.key + ")");
    }
  }
  out.chosen = *chosen;

  const auto maxn = std::find_if(modes.begin(), modes.end(), is_maxn);
  if (maxn != modes.end()) {
    out.maxn = *maxn;
  } else {
    const auto id0 = std::find_if(modes.begin(), modes.end(), [](const ModeCost& m) { return m.id && *m.id == 0; });
    if (id0 != modes.end()) out.maxn = *id0;
  }
  if (out.maxn) {
    out.saving_vs_maxn_J = *out.maxn->energy_J - *out.chosen.energy_J;
    out.saving_vs_maxn_pct = 100.0 * *out.saving_vs_maxn_J / *out.maxn->energy_J;
  }
  out.pareto = pareto_front(std::move(modes));
  return out;
}

std::string nvpmodel_stanza(const RooflineMode& mode, int id, int cpu_count) {
  if (cpu_count < 1 || cpu_count > kMaxCpuCount) {
    throw InputError("a board of " + std::to_string(cpu_count) + " CPU cores is not plausible (1 to " +
                     std::to_string(kMaxCpuCount) + ")");
  }
  if (mode.cpu_online && *mode.cpu_online > cpu_count) {
    throw InputError("mode " + mode.key + " had " + std::to_string(*mode.cpu_online) +
                     " CPUs online, more than the board's " + std::to_string(cpu_count) + " cores");
  }
  if (id < 0) throw InputError("an nvpmodel id cannot be negative (" + std::to_string(id) + ")");
  std::string name = "EDGEROOF_";
  for (char c : mode.key)
    name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  std::ostringstream s;
  s << "< POWER_MODEL ID=" << id << " NAME=" << name << " >\n";
  const int online = mode.cpu_online.value_or(cpu_count);
  if (mode.cpu_online) {
    for (int core = 0; core < cpu_count; ++core)
      s << "CPU_ONLINE CORE_" << core << ' ' << (core < online ? 1 : 0) << "\n";
  }
  if (mode.cpu_khz) {
    // Orin AGX: cpu0-3 are CPU_A78_0, cpu4-7 CPU_A78_1, cpu8-11 CPU_A78_2; only online clusters.
    for (int cluster = 0; cluster * 4 < online; ++cluster) {
      s << "CPU_A78_" << cluster << " MIN_FREQ " << *mode.cpu_khz << "\n";
      s << "CPU_A78_" << cluster << " MAX_FREQ " << *mode.cpu_khz << "\n";
    }
  }
  if (mode.gpu_hz) s << "GPU MIN_FREQ " << *mode.gpu_hz << "\nGPU MAX_FREQ " << *mode.gpu_hz << "\n";
  if (const auto tpc = mode.context.find("power_mode.tpc_pg_mask"); tpc != mode.context.end()) {
    s << "TPC_POWER_GATING TPC_PG_MASK " << tpc->second << "\n";
  }
  if (mode.emc_hz) s << "EMC MAX_FREQ " << *mode.emc_hz << "\n";
  return s.str();
}

std::string nvpmodel_command(const std::string& conf_file, int id) {
  return "sudo nvpmodel -f " + conf_file + " -m " + std::to_string(id);
}

json to_json(const TuneResult& r) {
  json j = {{"constraint", r.constraint},
            {"modes_considered", r.modes},
            {"chosen", cost_json(r.chosen)},
            {"fastest", cost_json(r.fastest)}};
  if (r.maxn) {
    j["maxn"] = cost_json(*r.maxn);
    j["saving_vs_maxn_J"] = *r.saving_vs_maxn_J;
    j["saving_vs_maxn_pct"] = *r.saving_vs_maxn_pct;
  }
  json pareto = json::array();
  for (const auto& m : r.pareto) pareto.push_back(cost_json(m));
  j["pareto"] = pareto;
  return j;
}

}  // namespace edgeroof::reports
