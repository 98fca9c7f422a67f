// The mode-space model (modespace.hpp): which knobs the measured modes vary, one fit per roofline
// figure over them, and every mode of a list predicted from those fits.
#include "edgeroof/reports/modespace.hpp"

#include "modespace_fit.hpp"
#include "modespace_knobs.hpp"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace edgeroof::reports {

using detail::Basis;
using detail::BasisFit;
using detail::Features;
using detail::knob_defs;
using detail::Observation;
using detail::PowerLawFit;
using detail::PowerTerm;

namespace {

std::string knob_text(double v) { return std::to_string(static_cast<long long>(v)); }

// Refuses a list that varies a knob the measured modes never varied (or a mode without a knob
// they vary): the model cannot say how a figure moves with it.
void check_knobs(const std::vector<ModeKnobs>& measured, const std::vector<ModeKnobs>& targets) {
  for (const auto& def : knob_defs()) {
    std::set<double> seen;
    for (const auto& m : measured) {
      if (const auto v = def.get(m)) seen.insert(*v);
    }
    for (const auto& t : targets) {
      const auto v = def.get(t);
      const std::string name = def.name;
      if (seen.size() > 1) {
        if (!v) throw InputError("mode " + t.key + " has no " + name + ", which the measured modes vary");
        continue;
      }
      if (!v || seen.count(*v)) continue;
      throw InputError(name + " cannot be predicted: " +
                       (seen.empty() ? "no measured mode has " + name
                                     : "every measured mode has " + name + " = " + knob_text(*seen.begin())) +
                       ", and mode " + t.key + " has " + knob_text(*v) + " (measure modes that vary it)");
    }
  }
}

// Normalisers of the features over the measured modes and the targets together.
struct Space {
  double cores = 1.0, cpu = 1.0, gpu = 1.0, emc = 1.0;
  int tpcs = 0;  // TPC count behind the masks; 0 when no mode has one

  [[nodiscard]] Features features(const ModeKnobs& m) const {
    Features f;
    if (m.cpu_online) f.cores = *m.cpu_online / cores;
    if (m.cpu_khz) f.cpu = static_cast<double>(*m.cpu_khz) / cpu;
    if (m.gpu_hz) f.gpu = static_cast<double>(*m.gpu_hz) / gpu;
    if (m.emc_hz) f.emc = static_cast<double>(*m.emc_hz) / emc;
    if (tpcs > 0 && m.tpc_pg_mask) {
      const auto off = std::bitset<64>(static_cast<std::uint64_t>(*m.tpc_pg_mask)).count();
      f.tpcs = std::max(0.5, static_cast<double>(tpcs) - static_cast<double>(off)) / tpcs;
    }
    return f;
  }
};

// The TPC count is the highest bit any mask sets (masks switch TPCs off from the top), or more
// when a mask switches off that many; a board whose masks skip its top TPCs needs device.tpc_count.
Space space_of(const std::vector<ModeKnobs>& all, const std::map<std::string, std::string>& context) {
  Space s;
  std::uint64_t highest = 0;
  for (const auto& m : all) {
    if (m.cpu_online) s.cores = std::max(s.cores, static_cast<double>(*m.cpu_online));
    if (m.cpu_khz) s.cpu = std::max(s.cpu, static_cast<double>(*m.cpu_khz));
    if (m.gpu_hz) s.gpu = std::max(s.gpu, static_cast<double>(*m.gpu_hz));
    if (m.emc_hz) s.emc = std::max(s.emc, static_cast<double>(*m.emc_hz));
    if (m.tpc_pg_mask) {
      const auto mask = static_cast<std::uint64_t>(*m.tpc_pg_mask);
      int bits = 0;
      while (bits < 64 && (mask >> bits) != 0) ++bits;
      s.tpcs = std::max({s.tpcs, bits, static_cast<int>(std::bitset<64>(mask).count()) + 1});
      highest = std::max(highest, mask);
    }
  }
  if (const auto it = context.find("device.tpc_count"); it != context.end()) {
    const int n = std::atoi(it->second.c_str());
    if (n > 0 && n <= 64) s.tpcs = std::max(s.tpcs, n);
  }
  return s;
}

bool is_cpu(const std::string& backend) { return backend == "cpu"; }

// The backend's own clock and units: the CPU's cores and clock, else the GPU's TPCs and clock.
PowerTerm driver_term(const std::string& backend) {
  if (is_cpu(backend))
    return {{[](const Features& x) { return x.cpu; }, [](const Features& x) { return x.cores; }}, {"f_cpu", "cores"}};
  return {{[](const Features& x) { return x.gpu; }, [](const Features& x) { return x.tpcs; }}, {"f_gpu", "tpcs"}};
}

// The memory side: a table by EMC clock where it has few values (an EMC's efficiency follows no
// power law), else a power law in it.
PowerTerm memory_term() {
  PowerTerm t;
  t.table_knob = [](const Features& x) { return x.emc; };
  t.table_name = "f_emc";
  return t;
}

double clock_of(const std::string& backend, const Features& x) { return is_cpu(backend) ? x.cpu : x.gpu; }

// Candidate knees of a hinge: 0 (no flat part) and every measured clock below the top.
std::vector<double> knees_of(const std::vector<Observation>& obs, const std::string& backend) {
  std::set<double> clocks;
  for (const auto& o : obs) clocks.insert(clock_of(backend, o.x));
  std::vector<double> knees = {0.0};
  if (clocks.size() > 1) {
    for (auto it = clocks.begin(); std::next(it) != clocks.end(); ++it) knees.push_back(*it);
  }
  return knees;
}

// ε per FLOP (or per on-chip byte): flat below the voltage knee, rising as V² above it.
Basis dynamic_basis(const std::string& backend, const std::vector<Observation>& obs) {
  Basis b;
  b.names = {"1", "h", "h^2"};
  b.knees = knees_of(obs, backend);
  b.phi = [backend](const Features& x, double knee) {
    const double h = std::max(0.0, clock_of(backend, x) - knee);
    return std::vector<double>{1.0, h, h * h};
  };
  return b;
}

// ε per DRAM byte: the EMC clock's own function, plus the backend's voltage curve (the bytes also
// cross the chip). Unlike the bandwidth, a table by EMC clock here fits each clock's share of the
// noise of π0 and ε_byte (which the per-mode fits trade against each other): smooth forms only.
Basis dram_byte_basis(const std::string& backend, double knee) {
  Basis b;
  b.names = {"1", "f_emc", "1/f_emc", "h", "h^2"};
  b.phi = [backend, knee](const Features& x, double) {
    const double h = std::max(0.0, clock_of(backend, x) - knee);
    return std::vector<double>{1.0, x.emc, 1.0 / x.emc, h, h * h};
  };
  return b;
}

// π0: board + cores × CPU clock terms + TPCs × GPU voltage terms + EMC background.
Basis static_basis(double gpu_knee, const std::vector<Observation>& obs) {
  Basis b;
  b.names = {"1",    "tpcs*f_gpu",   "cores",      "f_emc",         "cores*f_cpu",
             "tpcs", "tpcs*h_gpu^2", "tpcs*h_gpu", "cores*h_cpu^2", "f_emc^2"};
  b.knees = knees_of(obs, "cpu");
  b.phi = [gpu_knee](const Features& x, double cpu_knee) {
    const double hg = std::max(0.0, x.gpu - gpu_knee), hc = std::max(0.0, x.cpu - cpu_knee);
    return std::vector<double>{
        1.0,         x.tpcs * x.gpu,    x.cores,      x.emc, x.cores * x.cpu, x.tpcs, x.tpcs * hg * hg,
        x.tpcs * hg, x.cores * hc * hc, x.emc * x.emc};
  };
  return b;
}

double rel_sigma_of(double value, const std::optional<Interval>& ci, bool log_scale) {
  if (!ci || !(value > 0.0)) return 0.0;
  if (log_scale) return ci->lo > 0.0 ? (std::log(ci->hi) - std::log(ci->lo)) / 3.92 : 0.0;
  return (ci->hi - ci->lo) / (3.92 * value);
}

}  // namespace

struct ModeSpaceModel::Impl {
  Space space;
  std::map<std::string, std::pair<double, double>> range;  // knob → measured [lo, hi]
  std::map<std::string, PowerLawFit> compute, bandwidth;
  struct Energy {
    std::map<std::string, BasisFit> eps_flop, eps_byte;
    std::optional<BasisFit> static_W;
    std::optional<double> idle_power_W;
  };
  std::map<std::string, Energy> energy;
  std::map<std::string, std::string> context;  // what every measured mode's context shares
};

namespace {

using Impl = ModeSpaceModel::Impl;

// Observations of one figure over the measured modes that have it.
template <typename Get>
std::vector<Observation> observations(const Rooflines& measured, const Space& space, Get get) {
  std::vector<Observation> obs;
  for (const auto& m : measured.modes) {
    if (const auto o = get(m)) obs.push_back({space.features(knobs_of(m)), o->first, o->second});
  }
  return obs;
}

std::string backend_of(const std::string& key) { return key.substr(0, key.find('/')); }

std::set<std::string> figure_keys(const Rooflines& measured, bool compute) {
  std::set<std::string> keys;
  for (const auto& m : measured.modes) {
    for (const auto& [k, c] : compute ? m.compute_flops_per_s : m.bandwidth_bytes_per_s) keys.insert(k);
  }
  return keys;
}

// Ceilings: a power law in the backend's clock and units; DRAM the smooth minimum of that (what
// the compute side pulls) and a power law in the EMC clock.
void fit_ceilings(Impl& impl, const Rooflines& measured, std::vector<ParameterModel>& out) {
  for (const bool compute : {true, false}) {
    for (const auto& key : figure_keys(measured, compute)) {
      const auto obs = observations(measured, impl.space, [&](const RooflineMode& m) {
        const auto& table = compute ? m.compute_flops_per_s : m.bandwidth_bytes_per_s;
        const auto it = table.find(key);
        return it == table.end()
                   ? std::optional<std::pair<double, double>>()
                   : std::make_pair(it->second.value, rel_sigma_of(it->second.value, it->second.ci95, true));
      });
      if (obs.size() < 3) continue;
      std::vector<PowerTerm> terms = {driver_term(backend_of(key))};
      // A compute ceiling is the best of an intensity sweep: where the EMC clock is low even its
      // densest kernel waits on memory, so the memory side bounds it too.
      const bool dram = !compute && key.size() >= 5 && key.compare(key.size() - 5, 5, "/dram") == 0;
      const bool emc_varies = detail::levels_of(obs, [](const Features& x) { return x.emc; }).size() > 1;
      if (dram || (compute && emc_varies)) terms.push_back(memory_term());
      auto& table = compute ? impl.compute : impl.bandwidth;
      const auto& fit = table.emplace(key, PowerLawFit(obs, terms)).first->second;
      out.push_back({std::string(compute ? "compute_flops_per_s/" : "bandwidth_bytes_per_s/") + key, fit.form(),
                     obs.size(), fit.rms_relative()});
    }
  }
}

template <typename Get>
std::vector<Observation> energy_observations(const Rooflines& measured, const Space& space, const std::string& backend,
                                             Get get) {
  return observations(measured, space, [&](const RooflineMode& m) -> std::optional<std::pair<double, double>> {
    const auto e = m.energy.find(backend);
    if (e == m.energy.end()) return std::nullopt;
    return get(e->second);
  });
}

std::set<std::string> energy_keys(const Rooflines& measured, const std::string& backend, bool flop) {
  std::set<std::string> keys;
  for (const auto& m : measured.modes) {
    const auto e = m.energy.find(backend);
    if (e == m.energy.end()) continue;
    for (const auto& [k, v] : flop ? e->second.eps_flop_J : e->second.eps_byte_J) keys.insert(k);
  }
  return keys;
}

// One ε of a mode's fit (by dtype or level) with the relative standard error of its interval.
std::optional<std::pair<double, double>> per_key(const std::map<std::string, double>& values,
                                                 const std::map<std::string, Interval>& cis, const std::string& key) {
  const auto it = values.find(key);
  if (it == values.end() || !(it->second > 0.0)) return std::nullopt;
  const auto ci = cis.find(key);
  return std::make_pair(it->second,
                        rel_sigma_of(it->second, ci == cis.end() ? std::nullopt : std::optional(ci->second), false));
}

// Per-backend ε by dtype/level and π0. The GPU voltage knee found for ε_flop (fp32 first) is
// shared by the terms of ε_byte and π0 that follow the same voltage.
void fit_energy_backend(Impl& impl, const Rooflines& measured, const std::string& backend,
                        std::vector<ParameterModel>& out) {
  Impl::Energy energy;
  double knee = 0.0;
  auto figure = [&](const std::string& name, const BasisFit& fit, std::size_t n) {
    out.push_back({"energy/" + backend + "/" + name, fit.form(), n, fit.rms_relative()});
  };
  for (const auto& dtype : energy_keys(measured, backend, true)) {
    const auto obs = energy_observations(measured, impl.space, backend, [&](const EnergyFit& e) {
      return per_key(e.eps_flop_J, e.eps_flop_ci95, dtype);
    });
    if (obs.size() < 3) continue;
    const auto& fit = energy.eps_flop.emplace(dtype, BasisFit(obs, dynamic_basis(backend, obs))).first->second;
    if (dtype == "fp32" || knee == 0.0) knee = fit.knee();
    figure("eps_flop_J/" + dtype, fit, obs.size());
  }
  for (const auto& level : energy_keys(measured, backend, false)) {
    const auto obs = energy_observations(measured, impl.space, backend, [&](const EnergyFit& e) {
      return per_key(e.eps_byte_J, e.eps_byte_ci95, level);
    });
    if (obs.size() < 3) continue;
    Basis basis = level == "dram" ? dram_byte_basis(backend, knee) : dynamic_basis(backend, obs);
    const auto& fit = energy.eps_byte.emplace(level, BasisFit(obs, std::move(basis))).first->second;
    figure("eps_byte_J/" + level, fit, obs.size());
  }
  const auto obs = energy_observations(measured, impl.space, backend, [&](const EnergyFit& e) {
    if (!(e.static_W > 0.0)) return std::optional<std::pair<double, double>>();
    return std::make_optional(std::make_pair(e.static_W, rel_sigma_of(e.static_W, e.static_ci95, false)));
  });
  if (obs.size() >= 3) {
    energy.static_W.emplace(obs, static_basis(knee, obs));
    figure("static_W", *energy.static_W, obs.size());
  }
  impl.energy.emplace(backend, std::move(energy));
}

// What a modeled mode's context says: the device and software keys every measured mode shares
// (derived peaks and the report read them), not the host's or a run's. Thousands of modes carry it.
std::map<std::string, std::string> shared_context(const Rooflines& measured) {
  static const std::vector<std::string> prefixes = {"device.", "edgeroof.", "l4t.", "cuda.", "cudnn.", "sensor."};
  std::map<std::string, std::string> shared;
  for (const auto& entry : measured.modes.front().context) {
    const std::string& k = entry.first;  // C++17 lambdas cannot capture structured bindings
    const std::string& v = entry.second;
    const bool wanted =
        std::any_of(prefixes.begin(), prefixes.end(), [&](const auto& p) { return k.rfind(p, 0) == 0; });
    const bool same = std::all_of(measured.modes.begin(), measured.modes.end(), [&](const RooflineMode& m) {
      const auto it = m.context.find(k);
      return it != m.context.end() && it->second == v;
    });
    if (wanted && same) shared[k] = v;
  }
  return shared;
}

}  // namespace

ModeSpaceModel ModeSpaceModel::fit(const Rooflines& measured, const std::vector<ModeKnobs>& targets) {
  if (measured.modes.size() < 3) {
    throw InputError("the mode-space model needs at least 3 measured modes; " + std::to_string(measured.modes.size()) +
                     " measured");
  }
  std::vector<ModeKnobs> measured_knobs, all = targets;
  for (const auto& m : measured.modes) measured_knobs.push_back(knobs_of(m));
  check_knobs(measured_knobs, targets);
  all.insert(all.end(), measured_knobs.begin(), measured_knobs.end());
  auto impl = std::make_shared<Impl>();
  impl->context = shared_context(measured);
  impl->space = space_of(all, impl->context);
  for (const auto& def : knob_defs()) {
    for (const auto& m : measured_knobs) {
      if (const auto v = def.get(m)) {
        auto [it, added] = impl->range.emplace(def.name, std::make_pair(*v, *v));
        it->second = {std::min(it->second.first, *v), std::max(it->second.second, *v)};
      }
    }
  }
  ModeSpaceModel model;
  fit_ceilings(*impl, measured, model.m_parameters);
  std::set<std::string> backends;
  for (const auto& m : measured.modes) {
    for (const auto& [b, e] : m.energy) backends.insert(b);
  }
  for (const auto& b : backends) fit_energy_backend(*impl, measured, b, model.m_parameters);
  for (const auto& m : measured.modes) {
    for (const auto& [b, e] : m.energy) {
      if (e.idle_power_W) impl->energy[b].idle_power_W = e.idle_power_W;
    }
  }
  model.m_impl = std::move(impl);
  return model;
}

namespace {

template <typename Fit>
Ceiling modeled_ceiling(const Fit& fit, const Features& x) {
  return {fit.predict(x), "mode-space model", fit.interval(x)};
}

EnergyFit modeled_energy(const Impl::Energy& e, const Features& x) {
  EnergyFit fit;
  for (const auto& [dtype, f] : e.eps_flop) {
    fit.eps_flop_J[dtype] = f.predict(x);
    fit.eps_flop_ci95[dtype] = f.interval(x);
  }
  for (const auto& [level, f] : e.eps_byte) {
    fit.eps_byte_J[level] = f.predict(x);
    fit.eps_byte_ci95[level] = f.interval(x);
  }
  if (e.static_W) {
    fit.static_W = e.static_W->predict(x);
    fit.static_ci95 = e.static_W->interval(x);
  }
  fit.idle_power_W = e.idle_power_W;
  fit.r2 = std::numeric_limits<double>::quiet_NaN();  // no fit of its own
  return fit;
}

}  // namespace

RooflineMode ModeSpaceModel::predict(const ModeKnobs& mode) const {
  const Impl& impl = *m_impl;
  RooflineMode out;
  out.key = mode.key;
  out.name = mode.name.empty() ? mode.key : mode.name;
  out.id = mode.id;
  out.cpu_online = mode.cpu_online;
  out.cpu_khz = mode.cpu_khz;
  out.gpu_hz = mode.gpu_hz;
  out.emc_hz = mode.emc_hz;
  out.tpc_pg_mask = mode.tpc_pg_mask;
  out.source = "modeled";
  for (const auto& def : knob_defs()) {
    const auto v = def.get(mode);
    const auto r = impl.range.find(def.name);
    if (v && r != impl.range.end() && (*v < r->second.first || *v > r->second.second))
      out.extrapolated.push_back(def.name);
  }
  const Features x = impl.space.features(mode);
  for (const auto& [key, fit] : impl.compute) out.compute_flops_per_s[key] = modeled_ceiling(fit, x);
  for (const auto& [key, fit] : impl.bandwidth) out.bandwidth_bytes_per_s[key] = modeled_ceiling(fit, x);
  for (const auto& [backend, e] : impl.energy) {
    if (e.static_W) out.energy[backend] = modeled_energy(e, x);
  }
  out.context = impl.context;
  out.context["power_mode.key"] = out.key;
  out.context["power_mode.name"] = out.name;
  return out;
}

Rooflines predict_modes(const Rooflines& measured, const std::vector<ModeKnobs>& targets) {
  const auto model = ModeSpaceModel::fit(measured, targets);
  std::map<std::string, const RooflineMode*> by_key;
  for (const auto& m : measured.modes) by_key[m.key] = &m;
  Rooflines out;
  out.warnings = measured.warnings;
  std::map<std::string, std::size_t> extrapolated;
  for (const auto& t : targets) {
    if (const auto it = by_key.find(t.key); it != by_key.end()) {
      out.modes.push_back(*it->second);
      out.modes.back().source = "measured";
      out.modes.back().modeled = std::make_shared<const RooflineMode>(model.predict(t));
      continue;
    }
    out.modes.push_back(model.predict(t));
    for (const auto& knob : out.modes.back().extrapolated) ++extrapolated[knob];
  }
  for (const auto& [knob, n] : extrapolated) {
    out.warnings.push_back(std::to_string(n) + " modeled mode(s) have " + knob +
                           " outside the measured range: their figures are extrapolated");
  }
  return out;
}

namespace {

// The precision-weighted mean of a measurement and a prediction, each with its 95% interval (in
// log space for rates, which are multiplicative, in joules otherwise). Without both intervals the
// measurement stays.
void combine(double& value, std::optional<Interval>& ci, double model, const std::optional<Interval>& model_ci,
             bool log_scale) {
  if (!ci || !model_ci || !(value > 0.0) || !(model > 0.0)) return;
  auto to = [&](double v) { return log_scale ? std::log(std::max(v, 1e-300)) : v; };
  auto from = [&](double v) { return log_scale ? std::exp(v) : v; };
  const double sm = (to(ci->hi) - to(ci->lo)) / 3.92, sp = (to(model_ci->hi) - to(model_ci->lo)) / 3.92;
  if (!(sm > 0.0) || !(sp > 0.0)) return;
  const double wm = 1.0 / (sm * sm), wp = 1.0 / (sp * sp);
  const double mean = (wm * to(value) + wp * to(model)) / (wm + wp), sigma = 1.0 / std::sqrt(wm + wp);
  value = from(mean);
  ci = Interval{std::max(0.0, from(mean - 1.96 * sigma)), from(mean + 1.96 * sigma)};
}

void combine_table(std::map<std::string, Ceiling>& table, const std::map<std::string, Ceiling>& model) {
  for (auto& [key, c] : table) {
    if (const auto it = model.find(key); it != model.end())
      combine(c.value, c.ci95, it->second.value, it->second.ci95, true);
  }
}

void combine_map(std::map<std::string, double>& values, std::map<std::string, Interval>& cis,
                 const std::map<std::string, double>& model, const std::map<std::string, Interval>& model_cis) {
  for (auto& [key, v] : values) {
    const auto m = model.find(key);
    const auto mc = model_cis.find(key);
    auto c = cis.find(key);
    if (m == model.end() || mc == model_cis.end() || c == cis.end()) continue;
    std::optional<Interval> ci = c->second;
    combine(v, ci, m->second, mc->second, false);
    c->second = *ci;
  }
}

}  // namespace

Rooflines decision_rooflines(const Rooflines& rooflines) {
  Rooflines out = rooflines;
  for (auto& m : out.modes) {
    if (!m.modeled) continue;
    const RooflineMode& p = *m.modeled;
    combine_table(m.compute_flops_per_s, p.compute_flops_per_s);
    combine_table(m.bandwidth_bytes_per_s, p.bandwidth_bytes_per_s);
    for (auto& [backend, e] : m.energy) {
      const auto pe = p.energy.find(backend);
      if (pe == p.energy.end()) continue;
      combine_map(e.eps_flop_J, e.eps_flop_ci95, pe->second.eps_flop_J, pe->second.eps_flop_ci95);
      combine_map(e.eps_byte_J, e.eps_byte_ci95, pe->second.eps_byte_J, pe->second.eps_byte_ci95);
      combine(e.static_W, e.static_ci95, pe->second.static_W, pe->second.static_ci95, false);
    }
  }
  return out;
}

}  // namespace edgeroof::reports
