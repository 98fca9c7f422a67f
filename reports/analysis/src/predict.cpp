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
  for (const auto& layer : workload.layers) {
    const std::string dtype = layer.dtype.empty() ? workload.dtype : layer.dtype;
    auto it = std::find_if(m_groups.begin(), m_groups.end(),
                           [&](const Group& g) { return g.dtype == dtype && g.tensor_op == layer.tensor_op; });
    if (it == m_groups.end()) {
      m_groups.push_back({dtype, layer.tensor_op, {}, {}});
      it = std::prev(m_groups.end());
    }
    it->flops.push_back(layer.flops);
    it->bytes.push_back(layer.bytes);
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
    out.push_back(std::move(c));
  }
  return out;
}

ModeCost WorkloadCoster::cost(const RooflineMode& mode) const {
  const auto charge = charges(mode);
  ModeCost out{mode.key, mode.name, mode.id, 0.0, std::nullopt};
  bool energy = true;
  double work_J = 0.0;
  for (std::size_t g = 0; g < m_groups.size(); ++g) {
    const RooflineModel& model = charge[g].model;
    double time_s = 0.0, flops = 0.0, bytes = 0.0;
    const auto& grp = m_groups[g];
    for (std::size_t i = 0; i < grp.flops.size(); ++i) {
      time_s += model.time_s(grp.flops[i], grp.bytes[i]);
      flops += grp.flops[i];
      bytes += grp.bytes[i];
    }
    out.latency_s += time_s;
    if (model.has_energy()) {
      work_J += model.work_energy_J(flops, bytes);
    } else {
      energy = false;
    }
  }
  // π0 is one per backend, so it is charged once for the whole latency.
  if (energy && !charge.empty()) out.energy_J = work_J + *charge.front().model.static_W * out.latency_s;
  if (energy && charge.empty()) out.energy_J = 0.0;
  check_finite(mode, m_options, charge, out.latency_s, out.energy_J);
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

Prediction predict(const dnn::Workload& workload, const Rooflines& rooflines, const PredictOptions& options,
                   const std::vector<std::string>& only) {
  Prediction out{workload.model, workload.dtype, workload.phase, options.backend, workload.batch, {}};
  const WorkloadCoster coster(workload, options);
  for (const auto& mode : rooflines.modes) {
    if (!only.empty() && std::find(only.begin(), only.end(), mode.key) == only.end()) continue;
    const auto charge = coster.charges(mode);
    ModePrediction mp{mode.key, mode.name, 0.0, std::nullopt, "", {}};
    bool energy = true;
    double energy_J = 0.0;
    for (std::size_t i = 0; i < workload.layers.size(); ++i) {
      const auto& layer = workload.layers[i];
      const auto& c = charge[coster.group_of(i)];
      const RooflineModel& model = c.model;
      LayerPrediction lp;
      lp.name = layer.name;
      lp.op = layer.op;
      lp.phase = layer.phase;
      lp.flops = layer.flops;
      lp.bytes = layer.bytes;
      lp.ceiling = c.ceiling;
      lp.time_s = model.time_s(layer.flops, layer.bytes);
      lp.bound = model.compute_bound(layer.flops, layer.bytes) ? "compute" : "memory";
      if (model.has_energy()) {
        lp.energy_J = model.energy_J(layer.flops, layer.bytes);
        energy_J += *lp.energy_J;
      } else {
        energy = false;
      }
      mp.latency_s += lp.time_s;
      mp.layers.push_back(std::move(lp));
    }
    check_finite(mode, options, charge, mp.latency_s, energy ? std::optional<double>(energy_J) : std::nullopt);
    if (energy) {
      mp.energy_J = energy_J;
    } else {
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

json to_json(const Prediction& p) {
  json modes = json::array();
  for (const auto& m : p.modes) {
    json layers = json::array();
    for (const auto& l : m.layers) {
      json j = {{"name", l.name},   {"op", l.op},           {"phase", l.phase},   {"flops", l.flops},
                {"bytes", l.bytes}, {"ceiling", l.ceiling}, {"time_s", l.time_s}, {"bound", l.bound}};
      j["energy_J"] = l.energy_J ? json(*l.energy_J) : json(nullptr);
      if (l.measured_s) {
        j["measured_s"] = *l.measured_s;
        j["error"] = *l.error();
      }
      layers.push_back(std::move(j));
    }
    json j = {{"key", m.key}, {"name", m.name}, {"latency_s", m.latency_s}, {"layers", layers}};
    j["energy_J"] = m.energy_J ? json(*m.energy_J) : json(nullptr);
    if (!m.note.empty()) j["note"] = m.note;
    modes.push_back(std::move(j));
  }
  return {{"model", p.model}, {"batch", p.batch},     {"dtype", p.dtype},
          {"phase", p.phase}, {"backend", p.backend}, {"modes", modes}};
}

}  // namespace edgeroof::reports
