#include "edgeroof/reports/findings.hpp"

#include "edgeroof/reports/si.hpp"
#include "edgeroof/reports/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace edgeroof::reports {

using nlohmann::json;

namespace {

// The baseline tune measured its saving against: --baseline, else MAXN or its grid equivalent.
std::optional<ModeCost> baseline_of(const TuneResult& t) {
  if (t.baseline) return t.baseline->mode;
  return std::nullopt;
}

Provenance provenance_of(const ModeCost& m) { return m.modeled() ? "modeled" : "derived"; }
Provenance provenance_of(const ModeCost& a, const std::optional<ModeCost>& b) {
  return a.modeled() || (b && b->modeled()) ? "modeled" : "derived";
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * fraction);
  return buf;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

bool positive_finite(double v) { return v > 0.0 && std::isfinite(v); }

// Less energy first; at equal energy the faster; then the key, as tune ranks modes.
bool less_energy(const ModeCost& a, const ModeCost& b) {
  if (*a.energy_J != *b.energy_J) return *a.energy_J < *b.energy_J;
  if (a.latency_s != b.latency_s) return a.latency_s < b.latency_s;
  return a.key < b.key;
}

// The files of each power mode; a file naming none belongs to the only mode of one-mode rooflines.
std::map<std::string, std::vector<const ResultsFile*>> files_by_mode(const std::vector<ResultsFile>& files,
                                                                     const Rooflines& rooflines) {
  std::map<std::string, std::vector<const ResultsFile*>> out;
  const bool only_mode = rooflines.modes.size() == 1;
  for (const auto& f : files) {
    const bool unnamed = only_mode && !f.context_value("power_mode.key");
    out[unnamed ? rooflines.modes.front().key : mode_key_of(f)].push_back(&f);
  }
  return out;
}

// FLOP/s and FLOP/J of one benchmark from the medians of its repetitions that carry energy_J;
// nullopt for a benchmark without FLOPs or energy, and, with a warning, for impossible figures.
std::optional<std::pair<double, double>> rates_of(const ResultsFile& file, const std::string& name,
                                                  const std::vector<const BenchmarkRecord*>& reps,
                                                  std::vector<std::string>& warnings) {
  std::vector<double> flops, time, energy;
  for (const auto* r : reps) {
    const auto e = r->counter("energy_J");
    if (!e) continue;
    if (r->throttled()) {
      warnings.push_back(excerpt(file.path) + ": benchmark " + excerpt(name) +
                         ": throttled; left out of the rank correlation");
      return std::nullopt;
    }
    flops.push_back(r->counter("flops").value_or(0.0));
    time.push_back(r->real_time_s);
    energy.push_back(*e);
  }
  if (energy.empty()) return std::nullopt;
  const double w = median(flops), t = median(time), e = median(energy);
  if (w == 0.0) return std::nullopt;  // a kernel that only moves bytes has no FLOP/J to rank
  for (const auto& [field, v] :
       {std::make_pair("flops", w), std::make_pair("real_time", t), std::make_pair("energy_J", e)}) {
    if (!positive_finite(v)) {
      warnings.push_back(excerpt(file.path) + ": benchmark " + excerpt(name) + ": " + field + " (" + number(v) +
                         ") is not a positive finite number; left out of the rank correlation");
      return std::nullopt;
    }
  }
  if (!positive_finite(w / t) || !positive_finite(w / e)) return std::nullopt;
  return std::make_pair(w / t, w / e);
}

RankCorrelation correlate(const std::vector<const ResultsFile*>& files, const std::string& backend,
                          std::vector<std::string>& warnings) {
  RankCorrelation out;
  if (files.empty()) {
    out.reason = "no results of this mode were given";
    return out;
  }
  std::vector<double> flops_per_s, flops_per_J;
  for (const auto* f : files) {
    for (const auto& [name, reps] : repetitions_by_name(*f)) {
      const auto parts = results::split_name(name);
      // Kernels and layers; a whole-model benchmark sums many layers of both kinds.
      if (!parts || parts->family == "model" || (!backend.empty() && parts->backend != backend)) continue;
      if (const auto rates = rates_of(*f, name, reps, warnings)) {
        flops_per_s.push_back(rates->first);
        flops_per_J.push_back(rates->second);
      }
    }
  }
  out.n = flops_per_s.size();
  const std::string on = backend.empty() ? "" : " on " + backend;
  if (out.n == 0) {
    out.reason = "no benchmark" + on + " carries flops and energy_J (measured without a sensor?)";
  } else if (out.n < kMinCorrelationBenchmarks) {
    out.reason = "only " + std::to_string(out.n) + " benchmark(s)" + on + " with flops and energy_J; " +
                 std::to_string(kMinCorrelationBenchmarks) + " are needed";
  } else if (!(out.rho = spearman_rho(flops_per_s, flops_per_J))) {
    out.reason = "FLOP/s or FLOP/J is the same for every benchmark: there is no ranking to correlate";
  }
  return out;
}

const RooflineMode& mode_of(const Rooflines& r, const std::string& key) {
  for (const auto& m : r.modes) {
    if (m.key == key) return m;
  }
  throw InputError("findings: mode " + key + " is not among the rooflines the costs came from");
}

// The modes with a role, in the order of `roles`, then every other mode of `costs` that has results.
std::vector<std::pair<const ModeCost*, std::vector<std::string>>> modes_to_report(
    const std::vector<ModeCost>& costs, const std::vector<std::pair<std::string, const ModeCost*>>& roles,
    const std::map<std::string, std::vector<const ResultsFile*>>& files) {
  std::vector<std::pair<const ModeCost*, std::vector<std::string>>> out;
  const auto add = [&out](const ModeCost* m, const std::string& role) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first->key == m->key; });
    if (it == out.end()) it = out.insert(out.end(), {m, {}});
    if (!role.empty()) it->second.push_back(role);
  };
  for (const auto& role : roles) add(role.second, role.first);
  for (const auto& m : costs) {
    if (files.count(m.key) != 0) add(&m, "");
  }
  return out;
}

void set_savings(Findings& f, const std::vector<ModeCost>& costs) {
  for (const double s : kFindingSlowdowns) {
    SlowdownSaving saving;
    saving.max_slowdown = s;
    // Under --max-slowdown the fastest mode is always admitted, so this never refuses.
    saving.chosen = tune(costs, {TuneConstraint::Kind::max_slowdown, s}).chosen;
    saving.provenance = provenance_of(saving.chosen, f.baseline);
    if (f.baseline) {
      saving.saving_J = *f.baseline->energy_J - *saving.chosen.energy_J;
      if (*f.baseline->energy_J > 0.0) saving.saving_pct = 100.0 * *saving.saving_J / *f.baseline->energy_J;
    }
    f.savings.push_back(saving);
  }
}

void set_most_efficient(Findings& f, const std::vector<ModeCost>& costs, const ModeCost& fastest) {
  const ModeCost* best = nullptr;
  for (const auto& m : costs) {
    if (m.energy_J && m.latency_s > 0.0 && (best == nullptr || less_energy(m, *best))) best = &m;
  }
  f.most_efficient = *best;  // tune() succeeded, so some mode has energy
  f.most_efficient_slowdown = best->latency_s / fastest.latency_s - 1.0;
  f.most_efficient_provenance = provenance_of(*best, f.baseline);
  if (!f.baseline) return;
  f.baseline_is_most_efficient = f.baseline->key == best->key;
  f.most_efficient_saving_J = *f.baseline->energy_J - *best->energy_J;
  if (*f.baseline->energy_J > 0.0)
    f.most_efficient_saving_pct = 100.0 * *f.most_efficient_saving_J / *f.baseline->energy_J;
}

}  // namespace

ModeBreakdown mode_breakdown(const WorkloadCoster& coster, const dnn::Workload& workload, const RooflineMode& mode) {
  const auto charges = coster.charges(mode);
  ModeBreakdown out;
  double compute_s = 0.0;
  EnergySplit split;
  bool energy = true;
  for (std::size_t i = 0; i < workload.layers.size(); ++i) {
    const auto& layer = workload.layers[i];
    const RooflineModel& model = charges[coster.group_of(i)].model;
    const double t = model.time_s(layer.flops, layer.bytes);
    out.latency_s += t;
    if (model.compute_bound(layer.flops, layer.bytes)) compute_s += t;
    if (!model.has_energy()) {
      energy = false;
      continue;
    }
    split.flops_J += layer.flops * *model.eps_flop_J;
    split.bytes_J += layer.bytes * *model.eps_byte_J;
  }
  if (out.latency_s > 0.0) out.compute_bound_share = compute_s / out.latency_s;
  if (energy && !charges.empty()) {
    // π0 is one per backend, charged once for the whole latency (WorkloadCoster::cost).
    split.static_J = *charges.front().model.static_W * out.latency_s;
    out.energy = split;
  }
  return out;
}

RankCorrelation time_energy_correlation(const std::vector<ResultsFile>& files, const std::string& mode_key,
                                        bool only_mode, std::vector<std::string>& warnings) {
  std::vector<const ResultsFile*> mine;
  for (const auto& f : files) {
    if ((only_mode && !f.context_value("power_mode.key")) || mode_key_of(f) == mode_key) mine.push_back(&f);
  }
  return correlate(mine, "", warnings);
}

Findings headline_findings(const std::vector<ModeCost>& costs, const TuneResult& tuned) {
  Findings f;
  f.baseline = baseline_of(tuned);
  set_most_efficient(f, costs, tuned.fastest);
  set_savings(f, costs);
  return f;
}

Findings compute_findings(const FindingsInputs& in) {
  Findings f = headline_findings(in.costs, in.tuned);
  f.model = in.workload.model;
  f.phase = in.workload.phase;
  f.batch = in.workload.batch;

  std::vector<std::pair<std::string, const ModeCost*>> roles;
  if (f.baseline) roles.emplace_back("baseline", &*f.baseline);
  roles.emplace_back("most_efficient", &f.most_efficient);
  roles.emplace_back("fastest", &in.tuned.fastest);
  for (const auto& s : f.savings) roles.emplace_back("chosen_" + percent(s.max_slowdown), &s.chosen);

  const WorkloadCoster coster(in.workload, in.options);
  const auto files = files_by_mode(in.results, in.rooflines);
  static const std::vector<const ResultsFile*> none;
  for (const auto& [cost, mode_roles] : modes_to_report(in.costs, roles, files)) {
    ModeFinding m;
    m.key = cost->key;
    m.name = cost->name;
    m.source = cost->source;
    m.roles = mode_roles;
    m.energy_J = cost->energy_J;
    m.provenance = provenance_of(*cost);
    const auto b = mode_breakdown(coster, in.workload, mode_of(in.rooflines, cost->key));
    m.latency_s = cost->latency_s;  // as tune ranked it; the breakdown sums the same layers in another order
    m.compute_bound_share = b.compute_bound_share;
    m.energy = b.energy;
    const auto it = files.find(cost->key);
    m.time_vs_energy = correlate(it == files.end() ? none : it->second, in.options.backend, f.warnings);
    f.modes.push_back(std::move(m));
  }
  return f;
}

namespace {

json or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json cost_json(const ModeCost& m) {
  return {{"key", m.key},
          {"name", m.name},
          {"source", m.source},
          {"latency_s", m.latency_s},
          {"energy_J", or_null(m.energy_J)},
          {"provenance", provenance_of(m)}};
}

json mode_json(const ModeFinding& m) {
  json split = nullptr;
  if (m.energy) {
    split = {{"flops_J", m.energy->flops_J},
             {"bytes_J", m.energy->bytes_J},
             {"static_J", m.energy->static_J},
             {"total_J", m.energy->total_J()}};
  }
  const auto& c = m.time_vs_energy;
  json corr = {{"spearman_rho", or_null(c.rho)}, {"n", c.n}, {"provenance", "derived"}, {"inputs", "measured"}};
  if (!c.rho) corr["reason"] = c.reason;
  return {{"key", m.key},
          {"name", m.name},
          {"source", m.source},
          {"roles", m.roles},
          {"latency_s", m.latency_s},
          {"energy_J", or_null(m.energy_J)},
          {"compute_bound_share", m.compute_bound_share},
          {"energy_split", split},
          {"provenance", m.provenance},
          {"time_vs_energy", corr}};
}

}  // namespace

json to_json(const Findings& f) {
  json j = {{"slowdown_reference",
             "the fastest mode's predicted latency, as tune --max-slowdown measures it; the chosen mode is "
             "tune's, its margin included"},
            {"provenance",
             {{"measured", "from the benchmark results (FLOP/s, FLOP/J of each benchmark)"},
              {"derived", "by the roofline formulas from a measured mode's fitted rooflines"},
              {"modeled", "from a mode the mode-space model filled in (source \"modeled\")"}}},
            {"baseline", f.baseline ? cost_json(*f.baseline) : json(nullptr)},
            {"baseline_is_most_efficient",
             f.baseline_is_most_efficient ? json(*f.baseline_is_most_efficient) : json(nullptr)}};
  json best = cost_json(f.most_efficient);
  best["slowdown"] = f.most_efficient_slowdown;
  best["saving_vs_baseline_J"] = or_null(f.most_efficient_saving_J);
  best["saving_vs_baseline_pct"] = or_null(f.most_efficient_saving_pct);
  best["provenance"] = f.most_efficient_provenance;
  j["most_efficient"] = best;
  json savings = json::array();
  for (const auto& s : f.savings) {
    savings.push_back({{"max_slowdown", s.max_slowdown},
                       {"chosen", cost_json(s.chosen)},
                       {"saving_J", or_null(s.saving_J)},
                       {"saving_pct", or_null(s.saving_pct)},
                       {"provenance", s.provenance}});
  }
  j["savings"] = savings;
  json modes = json::array();
  for (const auto& m : f.modes) modes.push_back(mode_json(m));
  j["modes"] = modes;
  j["warnings"] = f.warnings;
  return j;
}

namespace {

std::string label(const std::string& key, const std::string& name) {
  return name == key ? key : name + " (" + key + ")";
}

std::string saving_text(const std::optional<double>& J, const std::optional<double>& pct) {
  if (!J) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), " (%.1f%%)", pct.value_or(0.0));
  return si(*J, "J") + (pct ? buf : "");
}

std::string baseline_line(const Findings& f) {
  const ModeCost& best = f.most_efficient;
  const std::string best_text = label(best.key, best.name) + " at " + si(*best.energy_J, "J") + " and +" +
                                percent(f.most_efficient_slowdown) + " latency over the fastest mode";
  if (!f.baseline) {
    return "no baseline (MAXN) among the modes: no saving to report; the most energy-efficient mode is " + best_text +
           " [" + f.most_efficient_provenance + "]";
  }
  const std::string base = "the baseline " + label(f.baseline->key, f.baseline->name);
  if (*f.baseline_is_most_efficient) {
    return base + " is the most energy-efficient mode (" + si(*best.energy_J, "J") + ") [" +
           f.most_efficient_provenance + "]";
  }
  return base + " (" + si(*f.baseline->energy_J, "J") + ") is not the most energy-efficient mode: " + best_text +
         " is, saving " + saving_text(f.most_efficient_saving_J, f.most_efficient_saving_pct) + " [" +
         f.most_efficient_provenance + "]";
}

std::string roles_text(const std::vector<std::string>& roles) {
  std::string s;
  for (const auto& r : roles) s += (s.empty() ? "" : ", ") + r;
  return s.empty() ? "" : " (" + s + ")";
}

std::string correlation_text(const RankCorrelation& c) {
  if (!c.rho) return "no rank correlation of FLOP/s and FLOP/J: " + c.reason;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "Spearman rho of FLOP/s and FLOP/J %.3f over n = %zu measured benchmarks", *c.rho,
                c.n);
  return buf;
}

std::string mode_line(const ModeFinding& m) {
  std::string s = "mode " + label(m.key, m.name) + roles_text(m.roles) + ": " + percent(m.compute_bound_share) +
                  " of the time compute-bound";
  if (m.energy) {
    s += "; energy " + si(m.energy->total_J(), "J") + " = " + si(m.energy->flops_J, "J") + " FLOPs + " +
         si(m.energy->bytes_J, "J") + " bytes + " + si(m.energy->static_J, "J") + " static";
  } else {
    s += "; energy unknown (no energy fit)";
  }
  s += " [" + m.provenance + "]; " + correlation_text(m.time_vs_energy);
  return m.time_vs_energy.rho ? s + " [derived from measured]" : s;
}

// What the labels mean, only those the lines use: a wholly measured study says nothing of modeling.
std::string legend(const Findings& f) {
  bool modeled = f.most_efficient_provenance == "modeled", rho = false;
  for (const auto& s : f.savings) modeled = modeled || s.provenance == "modeled";
  for (const auto& m : f.modes) {
    modeled = modeled || m.provenance == "modeled";
    rho = rho || m.time_vs_energy.rho.has_value();
  }
  return std::string(" ([derived]: by the roofline formulas from measured modes") +
         (modeled ? "; [modeled]: from modes of the mode-space model" : "") +
         (rho ? "; [derived from measured]: from the benchmark results" : "") + ")";
}

}  // namespace

std::vector<std::string> findings_lines(const Findings& f) {
  std::vector<std::string> lines{"findings for " + f.model + ", batch " + std::to_string(f.batch) + legend(f),
                                 baseline_line(f)};
  for (const auto& s : f.savings) {
    std::string line = "within " + percent(s.max_slowdown) +
                       " of the fastest mode's latency: " + label(s.chosen.key, s.chosen.name) + ", " +
                       si(*s.chosen.energy_J, "J");
    if (s.saving_J) line += ", saving " + saving_text(s.saving_J, s.saving_pct) + " vs the baseline";
    lines.push_back(line + " [" + s.provenance + "]");
  }
  std::size_t others = 0;
  for (const auto& m : f.modes) {
    // Every mode with a role; of a sweep of thousands of measured modes, the first few.
    if (m.roles.empty() && ++others > kFindingLinesOfOtherModes) continue;
    lines.push_back(mode_line(m));
  }
  if (others > kFindingLinesOfOtherModes) {
    lines.push_back(std::to_string(others - kFindingLinesOfOtherModes) +
                    " more mode(s) with results are in the findings of tune --format json");
  }
  for (const auto& w : f.warnings) lines.push_back("warning: " + w);
  return lines;
}

}  // namespace edgeroof::reports
