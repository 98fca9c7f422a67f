#include "edgeroof/reports/predict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

namespace edgeroof::reports {

using nlohmann::json;

namespace {

// Other layers of the same shape share the benchmark: same pass, FLOPs and bytes.
using ShapeKey = std::tuple<std::string, double, double>;

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// Ceilings and constants that pass the reader's checks can still be too small or too large to be
// real (1e-300 FLOP/s): the sums then overflow. Such a mode is refused, never printed as inf.
void check_finite(const RooflineMode& mode, const PredictOptions& options, const std::vector<Charge>& charges,
                  double latency_s, const std::optional<double>& energy_J) {
  if (std::isfinite(latency_s) && (!energy_J || std::isfinite(*energy_J))) return;
  std::string figures;
  for (const auto& c : charges) {
    figures += (figures.empty() ? "" : ", ") + options.backend + "/" + c.ceiling + " = " +
               number_text(c.model.flops_per_s) + " FLOP/s";
  }
  if (!charges.empty()) {
    figures +=
        ", " + options.backend + "/" + options.level + " = " + number_text(charges.front().model.bytes_per_s) + " B/s";
  }
  const bool latency = !std::isfinite(latency_s);
  throw InputError("mode " + mode.key + ": the predicted " + (latency ? "latency" : "energy") +
                   " is not a finite number: its " + (latency ? "ceilings (" + figures + ")" : "energy constants") +
                   " cannot be real");
}

// The bounds are refused as the figures are: an end of the latency, energy or power that is not
// finite (lower ends of ceilings too small to be real) is never returned.
void check_finite_bounds(const RooflineMode& mode, const char* what, const std::optional<Interval>& ci) {
  if (!ci || (std::isfinite(ci->lo) && std::isfinite(ci->hi))) return;
  throw InputError("mode " + mode.key + ": the 95% bounds of the predicted " + what +
                   " are not finite: the intervals of its figures cannot be real");
}

// The interval of one figure, checked where the mode and field are known: finite, holding the
// figure, and with a lower end above 0 (a ceiling: a time divides by it) or at least 0 (an energy
// constant). A figure without an interval is its own interval.
Interval bounds_of(const RooflineMode& mode, const std::string& field, double value, const std::optional<Interval>& ci,
                   bool ceiling, bool& bounded) {
  if (!ci) return {value, value};
  const bool finite = std::isfinite(ci->lo) && std::isfinite(ci->hi);
  const bool holds = ci->lo <= value && value <= ci->hi;
  const bool sign = ceiling ? ci->lo > 0.0 : ci->lo >= 0.0;
  if (!finite || !holds || !sign) {
    const std::string why = !finite  ? "is not finite"
                            : !holds ? "does not hold the figure " + number_text(value)
                                     : (ceiling ? "has a lower end that is not positive" : "has a negative lower end");
    throw InputError("mode " + mode.key + ": " + field + " = [" + number_text(ci->lo) + ", " + number_text(ci->hi) +
                     "] " + why);
  }
  bounded = true;
  return *ci;
}

template <class Map>
std::optional<Interval> interval_in(const Map& map, const std::string& key) {
  const auto it = map.find(key);
  return it == map.end() ? std::nullopt : std::optional<Interval>(it->second);
}

// Charge::low and Charge::high from the intervals of the figures `c.model` was built from.
void bound_charge(const RooflineMode& mode, const std::string& backend, const std::string& level, Charge& c) {
  c.low = c.high = c.model;
  const std::string compute_key = backend + "/" + c.ceiling, memory_key = backend + "/" + level;
  const auto f = bounds_of(mode, "compute_flops_per_s_ci95." + compute_key, c.model.flops_per_s,
                           mode.compute_flops_per_s.at(compute_key).ci95, true, c.bounded);
  const auto b = bounds_of(mode, "bandwidth_bytes_per_s_ci95." + memory_key, c.model.bytes_per_s,
                           mode.bandwidth_bytes_per_s.at(memory_key).ci95, true, c.bounded);
  c.low.flops_per_s = f.hi, c.high.flops_per_s = f.lo;
  c.low.bytes_per_s = b.hi, c.high.bytes_per_s = b.lo;
  const auto fit = mode.energy.find(backend);
  if (!c.model.has_energy() || fit == mode.energy.end()) return;
  const std::string field = "energy." + backend + ".";
  const auto ef = bounds_of(mode, field + "eps_flop_J_ci95." + c.ceiling, *c.model.eps_flop_J,
                            interval_in(fit->second.eps_flop_ci95, c.ceiling), false, c.bounded);
  const auto eb = bounds_of(mode, field + "eps_byte_J_ci95." + level, *c.model.eps_byte_J,
                            interval_in(fit->second.eps_byte_ci95, level), false, c.bounded);
  const auto p0 =
      bounds_of(mode, field + "static_W_ci95", *c.model.static_W, fit->second.static_ci95, false, c.bounded);
  c.low.eps_flop_J = ef.lo, c.high.eps_flop_J = ef.hi;
  c.low.eps_byte_J = eb.lo, c.high.eps_byte_J = eb.hi;
  c.low.static_W = p0.lo, c.high.static_W = p0.hi;
}

// Sums of one set of figures (the point or an end of the intervals) over a workload.
struct Totals {
  double time_s = 0.0, work_J = 0.0;
};

}  // namespace

std::string default_backend(const Rooflines& rooflines) {
  for (const auto& m : rooflines.modes) {
    for (const auto& [key, ceiling] : m.compute_flops_per_s) {
      if (key.rfind("cuda/", 0) == 0) return "cuda";
    }
  }
  return "cpu";
}

WorkloadCoster::WorkloadCoster(const dnn::Workload& workload, PredictOptions options) : m_options(std::move(options)) {
  if (!(workload.total_flops() > 0.0) && !(workload.total_bytes() > 0.0)) {
    throw InputError("the workload" + (workload.model.empty() ? std::string() : " " + workload.model) +
                     " counts no FLOPs and no bytes: nothing to predict");
  }
  const Calibration* cal = m_options.calibration.get();
  if (cal != nullptr && (cal->layers.size() != workload.layers.size() || cal->model != workload.model ||
                         cal->batch != workload.batch || cal->backend != m_options.backend)) {
    throw InputError("the calibration is of " + cal->model + " on " + cal->backend + ", batch " +
                     std::to_string(cal->batch) + ", " + std::to_string(cal->layers.size()) +
                     " layers: not of this workload");
  }
  if (cal != nullptr) m_overhead_s = cal->overhead_s * static_cast<double>(cal->layers.size());
  for (const auto& layer : workload.layers) {
    const std::string dtype = layer.dtype.empty() ? workload.dtype : layer.dtype;
    auto it = std::find_if(m_groups.begin(), m_groups.end(),
                           [&](const Group& g) { return g.dtype == dtype && g.tensor_op == layer.tensor_op; });
    if (it == m_groups.end()) {
      m_groups.push_back({dtype, layer.tensor_op, {}, {}, {}});
      it = std::prev(m_groups.end());
    }
    it->flops.push_back(layer.flops);
    it->bytes.push_back(layer.bytes);
    if (cal != nullptr) it->inv_efficiency.push_back(1.0 / cal->layers[m_group_of.size()].efficiency);
    it->total_flops += layer.flops;
    it->total_bytes += layer.bytes;
    m_group_of.push_back(static_cast<std::size_t>(it - m_groups.begin()));
  }
}

std::vector<Charge> WorkloadCoster::charges(const RooflineMode& mode) const {
  const std::string& backend = m_options.backend;
  const auto bandwidth = mode.bandwidth_bytes_per_s.find(backend + "/" + m_options.level);
  if (bandwidth == mode.bandwidth_bytes_per_s.end() || bandwidth->second.value <= 0.0) {
    throw InputError("mode " + mode.key + " has no bandwidth for " + backend + "/" + m_options.level +
                     " (fit results that measured it, or choose another --backend/--level)");
  }
  std::vector<Charge> out;
  for (const auto& g : m_groups) {
    Charge c;
    c.ceiling = g.dtype;
    // A GEMM-like layer runs on tensor cores where the mode measured a tensor ceiling for its dtype.
    if (g.tensor_op && mode.compute_flops_per_s.count(backend + "/" + g.dtype + "-tensor") != 0) c.ceiling += "-tensor";
    const auto model = roofline_model(mode, backend, c.ceiling, m_options.level);
    if (!model || model->flops_per_s <= 0.0) {
      throw InputError("mode " + mode.key + " has no compute ceiling for " + backend + "/" + c.ceiling +
                       " (fit results that measured it, or choose another --dtype/--backend)");
    }
    c.model = *model;
    bound_charge(mode, backend, m_options.level, c);
    out.push_back(std::move(c));
  }
  return out;
}

ModeCost WorkloadCoster::cost(const RooflineMode& mode) const {
  const auto charge = charges(mode);
  ModeCost out;
  out.key = mode.key;
  out.name = mode.name;
  out.id = mode.id;
  out.source = mode.source;
  out.extrapolated = mode.extrapolated;
  out.calibrated = m_options.calibration != nullptr;
  bool energy = true, bounded = false;
  Totals point, low, high;
  double bound_s = 0.0;
  for (std::size_t g = 0; g < m_groups.size(); ++g) {
    const Charge& c = charge[g];
    const auto& grp = m_groups[g];
    const auto& inv = grp.inv_efficiency;
    for (std::size_t i = 0; i < grp.flops.size(); ++i) {
      const double b = c.model.time_s(grp.flops[i], grp.bytes[i]);
      bound_s += b;
      point.time_s += inv.empty() ? b : b * inv[i];
    }
    if (c.bounded) {  // the ends cost two more passes, only where there are intervals
      for (std::size_t i = 0; i < grp.flops.size(); ++i) {
        const double scale = inv.empty() ? 1.0 : inv[i];
        low.time_s += c.low.time_s(grp.flops[i], grp.bytes[i]) * scale;
        high.time_s += c.high.time_s(grp.flops[i], grp.bytes[i]) * scale;
      }
    }
    bounded = bounded || c.bounded;
    if (!c.model.has_energy()) {
      energy = false;
      continue;
    }
    point.work_J += c.model.work_energy_J(grp.total_flops, grp.total_bytes);
    low.work_J += c.low.work_energy_J(grp.total_flops, grp.total_bytes);
    high.work_J += c.high.work_energy_J(grp.total_flops, grp.total_bytes);
  }
  out.latency_s = point.time_s + m_overhead_s;
  out.bound_latency_s = bound_s;
  low.time_s += m_overhead_s;
  high.time_s += m_overhead_s;
  // π0 is one per backend, so it is charged once for the whole latency.
  if (energy) out.energy_J = point.work_J + *charge.front().model.static_W * out.latency_s;
  check_finite(mode, m_options, charge, out.latency_s, out.energy_J);
  if (!bounded) return out;
  out.latency_ci95 = Interval{low.time_s, high.time_s};
  if (energy) {
    const double p0_lo = *charge.front().low.static_W, p0_hi = *charge.front().high.static_W;
    out.energy_ci95 = Interval{low.work_J + p0_lo * low.time_s, high.work_J + p0_hi * high.time_s};
    out.power_ci95 = Interval{low.work_J / high.time_s + p0_lo, high.work_J / low.time_s + p0_hi};
  }
  check_finite_bounds(mode, "latency", out.latency_ci95);
  check_finite_bounds(mode, "energy", out.energy_ci95);
  check_finite_bounds(mode, "power", out.power_ci95);
  return out;
}

CostedModes cost_modes(const dnn::Workload& workload, const Rooflines& rooflines, const PredictOptions& options) {
  const WorkloadCoster coster(workload, options);
  CostedModes out;
  out.costs.reserve(rooflines.modes.size());
  for (const auto& m : rooflines.modes) {
    try {
      out.costs.push_back(coster.cost(m));
    } catch (const InputError& e) {
      if (out.skipped++ == 0) out.first_reason = e.what();
    }
  }
  if (out.costs.empty())
    throw InputError(out.first_reason.empty() ? "no power modes in the rooflines" : out.first_reason);
  return out;
}

namespace {

// The layer's time from a bound: o + b / η calibrated, b itself otherwise.
double calibrated_s(double bound_s, const LayerPrediction& lp) { return lp.overhead_s + bound_s / lp.efficiency; }

// E = W·ε_flop + Q·ε_byte + π0·t with the layer's (calibrated) time t.
double layer_energy_J(const RooflineModel& model, const LayerPrediction& lp, double time_s) {
  return model.work_energy_J(lp.flops, lp.bytes) + *model.static_W * time_s;
}

LayerPrediction layer_prediction(const dnn::LayerCost& layer, const Charge& c, const Calibration* cal,
                                 std::size_t index) {
  const RooflineModel& model = c.model;
  LayerPrediction lp;
  lp.name = layer.name;
  lp.op = layer.op;
  lp.phase = layer.phase;
  lp.flops = layer.flops;
  lp.bytes = layer.bytes;
  lp.ceiling = c.ceiling;
  if (cal != nullptr) {
    lp.calibration = cal->layers[index].source;
    lp.efficiency = cal->layers[index].efficiency;
    lp.overhead_s = cal->overhead_s;
  }
  lp.bound_s = model.time_s(layer.flops, layer.bytes);
  lp.time_s = calibrated_s(lp.bound_s, lp);
  if (c.bounded) {
    lp.time_ci95 = Interval{calibrated_s(c.low.time_s(layer.flops, layer.bytes), lp),
                            calibrated_s(c.high.time_s(layer.flops, layer.bytes), lp)};
  }
  lp.bound = model.compute_bound(layer.flops, layer.bytes) ? "compute" : "memory";
  if (model.has_energy()) lp.energy_J = layer_energy_J(model, lp, lp.time_s);
  return lp;
}

// The mode's totals over its layers; the bounds are sums of the layers' bounds (π0·t summed over
// the layers is π0 times the whole latency, as WorkloadCoster::cost charges it).
void add_layer(ModePrediction& mp, const LayerPrediction& lp, const Charge& c, bool& energy) {
  mp.latency_s += lp.time_s;
  mp.bound_latency_s += lp.bound_s;
  if (lp.energy_J) {
    mp.energy_J = mp.energy_J.value_or(0.0) + *lp.energy_J;
  } else {
    energy = false;
  }
  if (!lp.time_ci95) return;
  auto& t = mp.latency_ci95.emplace(mp.latency_ci95.value_or(Interval{}));
  t.lo += lp.time_ci95->lo;
  t.hi += lp.time_ci95->hi;
  if (!lp.energy_J) return;
  auto& e = mp.energy_ci95.emplace(mp.energy_ci95.value_or(Interval{}));
  e.lo += layer_energy_J(c.low, lp, lp.time_ci95->lo);
  e.hi += layer_energy_J(c.high, lp, lp.time_ci95->hi);
}

}  // namespace

Prediction predict(const dnn::Workload& workload, const Rooflines& rooflines, const PredictOptions& options,
                   const std::vector<std::string>& only) {
  Prediction out{workload.model,     workload.dtype, workload.phase, options.backend, workload.batch, {},
                 options.calibration};
  const WorkloadCoster coster(workload, options);
  for (const auto& mode : rooflines.modes) {
    if (!only.empty() && std::find(only.begin(), only.end(), mode.key) == only.end()) continue;
    const auto charge = coster.charges(mode);
    ModePrediction mp;
    mp.key = mode.key;
    mp.name = mode.name;
    mp.source = mode.source;
    mp.extrapolated = mode.extrapolated;
    mp.calibrated = options.calibration != nullptr;
    bool energy = true;
    for (std::size_t i = 0; i < workload.layers.size(); ++i) {
      const auto& c = charge[coster.group_of(i)];
      mp.layers.push_back(layer_prediction(workload.layers[i], c, options.calibration.get(), i));
      add_layer(mp, mp.layers.back(), c, energy);
    }
    if (!energy) {
      mp.energy_J.reset();
      mp.energy_ci95.reset();
    }
    check_finite(mode, options, charge, mp.latency_s, mp.energy_J);
    check_finite_bounds(mode, "latency", mp.latency_ci95);
    check_finite_bounds(mode, "energy", mp.energy_ci95);
    if (!energy) {
      mp.note = mode.energy.count(options.backend) == 0
                    ? "no energy fit for " + options.backend + " in this mode (measured without a sensor): latency only"
                    : "the energy fit lacks an epsilon for a dtype or level of this workload: latency only";
      for (auto& lp : mp.layers) lp.energy_J.reset();
    }
    out.modes.push_back(std::move(mp));
  }
  if (!only.empty() && out.modes.empty()) throw InputError("no mode with key " + only.front() + " in the rooflines");
  return out;
}

std::size_t attach_measurements(Prediction& prediction, const std::vector<ResultsFile>& files) {
  struct Measured {
    std::map<std::string, std::vector<double>> by_name;  // "<forward name>/<token>" -> real times
    std::map<ShapeKey, std::vector<double>> by_shape;
  };
  std::map<std::string, Measured> measured;  // by mode key
  for (const auto& file : files) {
    // A file that names no power mode (a plain edgeroof-bench run) belongs to the only mode predicted.
    const bool unnamed = !file.context_value("power_mode.key") && prediction.modes.size() == 1;
    auto& mode = measured[unnamed ? prediction.modes.front().key : mode_key_of(file)];
    for (const auto& [name, reps] : repetitions_by_name(file)) {
      // Layer benchmarks are named after the first forward layer of each distinct shape plus a
      // pass token (results::LayerName); a workload layer's token is read the same way.
      const auto parsed = results::parse_name(name);
      const auto* named = parsed ? std::get_if<results::LayerName>(&*parsed) : nullptr;
      if (named == nullptr || named->backend != prediction.backend || named->model != prediction.model ||
          named->batch != prediction.batch)
        continue;
      const std::string& layer = named->layer;
      const std::string& token = named->token;
      std::vector<double> flops, bytes;
      for (const auto* r : reps) {
        mode.by_name[layer + "/" + token].push_back(r->real_time_s);
        flops.push_back(r->counter("flops").value_or(0.0));
        bytes.push_back(r->counter("bytes").value_or(0.0));
      }
      auto& shape = mode.by_shape[{token, median(flops), median(bytes)}];
      for (const auto* r : reps) shape.push_back(r->real_time_s);
    }
  }
  std::size_t matched = 0;
  for (auto& mode : prediction.modes) {
    const auto it = measured.find(mode.key);
    if (it == measured.end()) continue;
    for (auto& layer : mode.layers) {
      const auto [base, token] = results::split_layer_token(layer.name);
      const std::vector<double>* times = nullptr;
      if (const auto n = it->second.by_name.find(base + "/" + token); n != it->second.by_name.end()) {
        times = &n->second;
      } else if (const auto s = it->second.by_shape.find({token, layer.flops, layer.bytes});
                 s != it->second.by_shape.end()) {
        times = &s->second;
      }
      if (times == nullptr || times->empty()) continue;
      layer.measured_s = median(*times);
      ++matched;
    }
  }
  return matched;
}

std::size_t attach_model_measurements(Prediction& prediction, const dnn::Workload& workload, const Rooflines& rooflines,
                                      const std::vector<ResultsFile>& files) {
  const auto measured = model_measurements(workload, prediction.backend, rooflines, files);
  std::size_t matched = 0;
  for (auto& mode : prediction.modes) {
    const auto it = measured.find(mode.key);
    if (it == measured.end() || !it->second.complete()) continue;
    mode.measured_s = it->second.time_s;
    ++matched;
  }
  return matched;
}

namespace {

json interval_json(const Interval& ci) { return json::array({ci.lo, ci.hi}); }

}  // namespace

json interval_json_or_null(const std::optional<Interval>& ci) { return ci ? interval_json(*ci) : json(nullptr); }

json to_json(const Prediction& p) {
  json modes = json::array();
  for (const auto& m : p.modes) {
    json layers = json::array();
    for (const auto& l : m.layers) {
      json j = {{"name", l.name},
                {"op", l.op},
                {"phase", l.phase},
                {"flops", l.flops},
                {"bytes", l.bytes},
                {"ceiling", l.ceiling},
                {"time_s", l.time_s},
                {"bound", l.bound},
                {"bound_s", l.bound_s},
                {"calibration", l.calibration},
                {"efficiency", l.efficiency},
                {"overhead_s", l.overhead_s}};
      j["energy_J"] = l.energy_J ? json(*l.energy_J) : json(nullptr);
      if (l.time_ci95) j["time_s_ci95"] = interval_json(*l.time_ci95);
      if (l.measured_s) {
        j["measured_s"] = *l.measured_s;
        j["error"] = *l.error();
      }
      layers.push_back(std::move(j));
    }
    json j = {{"key", m.key},
              {"name", m.name},
              {"source", m.source},
              {"latency_s", m.latency_s},
              {"bound_latency_s", m.bound_latency_s},
              {"calibrated", m.calibrated},
              {"latency_s_ci95", interval_json_or_null(m.latency_ci95)},
              {"layers", layers}};
    if (!m.extrapolated.empty()) j["extrapolated"] = m.extrapolated;
    if (m.measured_s) {
      j["measured_s"] = *m.measured_s;
      j["error"] = (m.latency_s - *m.measured_s) / *m.measured_s;
    }
    j["energy_J"] = m.energy_J ? json(*m.energy_J) : json(nullptr);
    j["energy_J_ci95"] = interval_json_or_null(m.energy_ci95);
    if (!m.note.empty()) j["note"] = m.note;
    modes.push_back(std::move(j));
  }
  json out = {{"model", p.model}, {"batch", p.batch},     {"dtype", p.dtype},
              {"phase", p.phase}, {"backend", p.backend}, {"modes", modes}};
  if (p.calibration) out["calibration"] = calibration_json(*p.calibration);
  return out;
}

json calibration_json(const Calibration& c) {
  json model = nullptr;
  if (c.model_run) {
    model = {{"name", c.model_run->name},
             {"measured_s", c.model_run->time_s},
             {"coverage", c.model_run->coverage},
             {"used", c.model_used}};
  }
  return {{"mode", c.mode_key},
          {"files", c.files},
          {"overhead_s", c.overhead_s},
          {"scale", c.scale},
          {"layer_sum_s", c.layer_sum_s},
          {"layers", {{"layer", c.count("layer")}, {"op", c.count("op")}, {"none", c.count("none")}}},
          {"model_benchmark", model},
          {"notes", c.notes}};
}

}  // namespace edgeroof::reports
