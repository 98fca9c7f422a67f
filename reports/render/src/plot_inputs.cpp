// What the charts may draw: the figures of each mode and the measured points, each checked where
// the mode or file is known, so a warning can name it and the field.
#include "plot_internal.hpp"

#include <algorithm>

namespace edgeroof::reports::detail {

namespace {

std::string shown_value(double v) { return std::isfinite(v) ? num(v) : std::string("not finite"); }

// Keeps the figures of `values` that `ok` accepts; warns about every other one.
template <class Map, class Value, class Ok>
void keep(Map& values, Value value, Ok ok, const std::string& mode, const std::string& field, const char* wanted,
          std::vector<std::string>& warnings) {
  for (auto it = values.begin(); it != values.end();) {
    const double v = value(it->second);
    if (ok(v)) {
      ++it;
      continue;
    }
    warnings.push_back("mode " + printable(mode) + ": " + field + " " + printable(it->first) + " (" + shown_value(v) +
                       ") is not a " + wanted + " number; left out");
    it = values.erase(it);
  }
}

bool non_negative_finite(double v) { return v >= 0.0 && std::isfinite(v); }

void check_energy(RooflineMode& m, std::vector<std::string>& warnings) {
  const auto plain = [](double v) { return v; };
  for (auto it = m.energy.begin(); it != m.energy.end();) {
    auto& [backend, fit] = *it;
    const std::string field = "energy." + printable(backend);
    keep(fit.eps_flop_J, plain, non_negative_finite, m.key, field + ".eps_flop_J", "non-negative finite", warnings);
    keep(fit.eps_byte_J, plain, non_negative_finite, m.key, field + ".eps_byte_J", "non-negative finite", warnings);
    if (fit.idle_power_W && !non_negative_finite(*fit.idle_power_W)) {
      warnings.push_back("mode " + printable(m.key) + ": " + field + ".idle_power_W (" +
                         shown_value(*fit.idle_power_W) + ") is not a non-negative finite number; left out");
      fit.idle_power_W.reset();
    }
    if (!std::isfinite(fit.r2)) {
      warnings.push_back("mode " + printable(m.key) + ": " + field + ".r2 is not finite; left out");
    }
    if (!non_negative_finite(fit.static_W)) {
      warnings.push_back("mode " + printable(m.key) + ": " + field + ".static_W (" + shown_value(fit.static_W) +
                         ") is not a non-negative finite number; the energy fit of " + printable(backend) +
                         " is left out");
      it = m.energy.erase(it);
    } else {
      ++it;
    }
  }
}

void check_frequency(std::optional<std::int64_t>& hz, const RooflineMode& m, const char* field,
                     std::vector<std::string>& warnings) {
  if (!hz || *hz > 0) return;
  warnings.push_back("mode " + printable(m.key) + ": " + field + " (" + std::to_string(*hz) +
                     ") is not positive; left out");
  hz.reset();
}

}  // namespace

Rooflines drawable(const Rooflines& rooflines, std::vector<std::string>& warnings) {
  Rooflines out = rooflines;
  const auto ceiling = [](const Ceiling& c) { return c.value; };
  for (auto& m : out.modes) {
    keep(m.compute_flops_per_s, ceiling, positive_finite, m.key, "compute_flops_per_s", "positive finite", warnings);
    keep(m.bandwidth_bytes_per_s, ceiling, positive_finite, m.key, "bandwidth_bytes_per_s", "positive finite",
         warnings);
    check_energy(m, warnings);
    check_frequency(m.gpu_hz, m, "gpu_hz", warnings);
    check_frequency(m.emc_hz, m, "emc_hz", warnings);
    check_frequency(m.cpu_khz, m, "cpu_khz", warnings);
    for (const auto& [key, ai] : m.ridge_points()) {  // F / B overflows for absurd ceilings
      if (!positive_finite(ai))
        warnings.push_back("mode " + printable(m.key) + ": the ridge point " + printable(key) +
                           " (compute ceiling / bandwidth) is not finite; left out");
    }
    if (m.cpu_online && *m.cpu_online <= 0) {
      warnings.push_back("mode " + printable(m.key) + ": cpu_online (" + std::to_string(*m.cpu_online) +
                         ") is not positive; left out");
      m.cpu_online.reset();
    }
  }
  return out;
}

const RooflineMode& primary_mode(const Rooflines& r) {
  for (const auto& m : r.modes) {
    ModeCost named;
    named.key = m.key;
    named.name = m.name;
    if (is_maxn(named)) return m;
  }
  for (const auto& m : r.modes) {
    if (m.id && *m.id == 0) return m;
  }
  return r.modes.front();
}

std::string mode_label(const RooflineMode& m) { return m.name == m.key ? m.key : m.name + " (" + m.key + ")"; }

std::map<std::string, double> finite_ridge_points(const RooflineMode& m) {
  auto ridges = m.ridge_points();
  for (auto it = ridges.begin(); it != ridges.end();)
    it = positive_finite(it->second) ? std::next(it) : ridges.erase(it);
  return ridges;
}

namespace {

// The medians of one benchmark's repetitions; nullopt for one with nothing to place on a log
// scale (no FLOPs: a read kernel) and, with a warning, for one whose figures are impossible.
std::optional<Point> point_of(const ResultsFile& file, const std::string& name,
                              const std::vector<const BenchmarkRecord*>& reps, std::vector<std::string>& warnings) {
  const auto parsed = results::split_name(name);
  if (!parsed) return std::nullopt;
  std::vector<double> flops, bytes, time, energy, power;
  for (const auto* r : reps) {
    flops.push_back(r->counter("flops").value_or(0.0));
    bytes.push_back(r->counter("bytes").value_or(0.0));
    time.push_back(r->real_time_s);
    if (auto e = r->counter("energy_J")) energy.push_back(*e);
    if (auto p = r->counter("power_W")) power.push_back(*p);
  }
  Point p{name,          parsed->family, parsed->backend, median(flops),
          median(bytes), median(time),   std::nullopt,    std::nullopt};
  if (p.flops == 0.0 || p.bytes == 0.0) return std::nullopt;
  auto possible = [&](const char* field, double v) {
    if (positive_finite(v)) return true;
    warnings.push_back(printable(file.path) + ": benchmark " + printable(name) + ": " + field + " (" + shown_value(v) +
                       ") is not a positive finite number; left out of the charts");
    return false;
  };
  if (!possible("flops", p.flops) || !possible("bytes", p.bytes) || !possible("real_time", p.time_s))
    return std::nullopt;
  if (!energy.empty()) p.energy_J = median(energy);
  if (!power.empty()) p.power_W = median(power);
  if (p.energy_J && !possible("energy_J", *p.energy_J)) p.energy_J.reset();
  if (p.power_W && !possible("power_W", *p.power_W)) p.power_W.reset();
  if (!p.power_W && p.energy_J) p.power_W = *p.energy_J / p.time_s;
  return p;
}

}  // namespace

std::vector<Point> measured_points(const std::vector<ResultsFile>& files, const std::string& mode_key, bool only_mode,
                                   std::vector<std::string>& warnings) {
  std::vector<Point> out;
  for (const auto& file : files) {
    const bool unnamed = only_mode && !file.context_value("power_mode.key");
    if (!unnamed && mode_key_of(file) != mode_key) continue;
    for (const auto& [name, reps] : repetitions_by_name(file)) {
      if (auto p = point_of(file, name, reps, warnings)) out.push_back(std::move(*p));
    }
  }
  return out;
}

std::vector<const RooflineMode*> overlay_modes(const Rooflines& r, const RooflineMode& primary, std::size_t n) {
  std::vector<const RooflineMode*> out;
  if (r.modes.size() <= n) {
    for (const auto& m : r.modes) out.push_back(&m);
    return out;
  }
  out.push_back(&primary);
  for (std::size_t k = 0; out.size() < n && k < n; ++k) {
    const auto* m = &r.modes[k * (r.modes.size() - 1) / (n - 1)];
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  return out;
}

}  // namespace edgeroof::reports::detail
