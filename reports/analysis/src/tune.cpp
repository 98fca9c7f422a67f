#include "edgeroof/reports/tune.hpp"

#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>

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

namespace {

// The mode as the nvpmodel.conf writer takes it: the measured frequencies, which it pins.
power::PowerMode stanza_mode(const RooflineMode& mode) {
  power::PowerMode m;
  m.key = mode.key;
  m.name = mode.name;
  m.cpu_online = mode.cpu_online;
  m.cpu_max_khz = mode.cpu_khz;
  m.gpu_max_hz = mode.gpu_hz;
  m.emc_max_hz = mode.emc_hz;
  if (const auto tpc = mode.context.find("power_mode.tpc_pg_mask"); tpc != mode.context.end()) {
    // Text from a results file goes into a conf line only as the number it must be.
    const auto mask = power::parse_int64(tpc->second);
    if (!mask || *mask < 0 || *mask > UINT32_MAX) {
      throw InputError("mode " + mode.key + ": power_mode.tpc_pg_mask " + power::quoted_value(tpc->second) +
                       " is not a TPC mask (0 to " + std::to_string(UINT32_MAX) + ")");
    }
    m.tpc_pg_mask = *mask;
  }
  return m;
}

}  // namespace

std::string nvpmodel_stanza(const RooflineMode& mode, int id, const power::CpuLayout& layout) {
  try {
    return power::nvpmodel_stanza(stanza_mode(mode), id, layout);
  } catch (const power::ModeError& e) {
    throw InputError(e.what());
  }
}

std::string nvpmodel_stanza(const RooflineMode& mode, int id, int cpu_count) {
  return nvpmodel_stanza(mode, id, power::orin_agx_cpu_layout(cpu_count));
}

std::string nvpmodel_command(const std::string& conf_file, int id) { return power::nvpmodel_command(conf_file, id); }

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
