// The convergence benchmark (convergence.hpp).
#include "convergence.hpp"

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "edgeroof/reports/plan.hpp"
#include "edgeroof/reports/predict.hpp"
#include "edgeroof/reports/tune.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

namespace edgeroof::standin {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

reports::RooflineMode measure_one(const ConvergenceOptions& o, const power::PowerMode& m) {
  const auto file = results::parse_results(results_json(o.board, m, o.seed, o.noise), m.key + ".json");
  return reports::fit_rooflines({file}).modes.at(0);
}

// Every mode measured, one file at a time (a full grid's texts would not fit in memory together);
// fitting files one by one is fitting them together, since the fit groups them by mode.
reports::Rooflines truth_of(const ConvergenceOptions& o, const std::vector<power::PowerMode>& modes) {
  reports::Rooflines truth;
  for (const auto& m : modes) truth.modes.push_back(measure_one(o, m));
  return truth;
}

// The measured modes' results read and fitted together, as `edgeroof fit results/` does.
// Returns the seconds that took, not counting making the files.
double measure(const ConvergenceOptions& o, const std::vector<const power::PowerMode*>& modes,
               reports::Rooflines& fitted) {
  std::vector<std::string> texts, origins;
  for (const auto* m : modes) {
    texts.push_back(results_json(o.board, *m, o.seed, o.noise));
    origins.push_back(m->key + ".json");
  }
  const auto t0 = Clock::now();
  fitted = reports::fit_rooflines(results::parse_results(texts, origins));
  return seconds_since(t0);
}

struct Workload {
  std::string label;
  dnn::Workload workload;
};

std::vector<Workload> watched() {
  dnn::WorkloadOptions resnet;
  resnet.batch = 16;
  return {{"resnet50:16", dnn::build_workload("resnet50", resnet)},
          {"bert_large:1", dnn::build_workload("bert_large", dnn::WorkloadOptions{})}};
}

std::map<std::string, reports::ModeCost> costs_by_key(const dnn::Workload& w, const reports::Rooflines& r) {
  std::map<std::string, reports::ModeCost> out;
  for (auto& c : reports::cost_modes(w, r, reports::PredictOptions{}).costs) out[c.key] = c;
  return out;
}

struct Mape {
  double latency = 0, energy = 0;
};
Mape mape(const std::map<std::string, reports::ModeCost>& got, const std::map<std::string, reports::ModeCost>& truth) {
  Mape m;
  std::size_t n = 0, ne = 0;
  for (const auto& [key, t] : truth) {
    const auto it = got.find(key);
    if (it == got.end()) throw std::runtime_error("mode " + key + " has no prediction");
    m.latency += std::abs(it->second.latency_s - t.latency_s) / t.latency_s;
    ++n;
    if (t.energy_J && it->second.energy_J) {
      m.energy += std::abs(*it->second.energy_J - *t.energy_J) / *t.energy_J;
      ++ne;
    }
  }
  m.latency /= std::max<std::size_t>(n, 1);
  m.energy /= std::max<std::size_t>(ne, 1);
  return m;
}

std::vector<reports::ModeCost> values(const std::map<std::string, reports::ModeCost>& m) {
  std::vector<reports::ModeCost> out;
  for (const auto& [k, c] : m) out.push_back(c);
  return out;
}

struct Choice {
  std::string key, optimum, fastest;
  double slowdown = 0, over_optimum = 0;
};
// tune on `got`, its choice judged on the truth.
Choice judge(const std::map<std::string, reports::ModeCost>& got, const std::map<std::string, reports::ModeCost>& truth,
             const reports::TuneConstraint& bound) {
  const auto picked = reports::tune(values(got), bound);
  // The truth is known: its optimum needs no margin, so its intervals go.
  auto exact = values(truth);
  for (auto& c : exact) c.latency_ci95.reset(), c.energy_ci95.reset(), c.power_ci95.reset();
  const auto best = reports::tune(exact, bound);
  const auto& chosen = truth.at(picked.chosen.key);
  return {picked.chosen.key, best.chosen.key, best.fastest.key, chosen.latency_s / best.fastest.latency_s - 1.0,
          *chosen.energy_J / *best.chosen.energy_J - 1.0};
}

// The knobs of a mode on a common scale: log clocks and core counts over the grid's range.
std::vector<double> scaled(const reports::ModeKnobs& k, const std::vector<std::pair<double, double>>& range) {
  const double raw[] = {static_cast<double>(k.cpu_online.value_or(1)), static_cast<double>(k.cpu_khz.value_or(1)),
                        static_cast<double>(k.gpu_hz.value_or(1)), static_cast<double>(k.emc_hz.value_or(1))};
  std::vector<double> out;
  for (std::size_t i = 0; i < 4; ++i) {
    const double span = std::log(range[i].second) - std::log(range[i].first);
    out.push_back(span > 0 ? (std::log(raw[i]) - std::log(range[i].first)) / span : 0.0);
  }
  return out;
}

// The baseline: every mode gets the rooflines of the measured mode nearest in its knobs.
reports::Rooflines nearest_copy(const reports::Rooflines& measured, const std::vector<reports::ModeKnobs>& targets) {
  std::vector<std::pair<double, double>> range(4, {std::numeric_limits<double>::max(), 0.0});
  for (const auto& t : targets) {
    const double raw[] = {static_cast<double>(t.cpu_online.value_or(1)), static_cast<double>(t.cpu_khz.value_or(1)),
                          static_cast<double>(t.gpu_hz.value_or(1)), static_cast<double>(t.emc_hz.value_or(1))};
    for (std::size_t i = 0; i < 4; ++i)
      range[i] = {std::min(range[i].first, raw[i]), std::max(range[i].second, raw[i])};
  }
  std::vector<std::vector<double>> at;
  for (const auto& m : measured.modes) at.push_back(scaled(reports::knobs_of(m), range));
  reports::Rooflines out;
  for (const auto& t : targets) {
    const auto x = scaled(t, range);
    std::size_t best = 0;
    double best_d = std::numeric_limits<double>::max();
    for (std::size_t j = 0; j < at.size(); ++j) {
      double d = 0;
      for (std::size_t i = 0; i < 4; ++i) d += (x[i] - at[j][i]) * (x[i] - at[j][i]);
      if (d < best_d) best_d = d, best = j;
    }
    reports::RooflineMode copy = measured.modes[best];
    copy.key = t.key;
    copy.name = t.name;
    out.modes.push_back(std::move(copy));
  }
  return out;
}

// Per figure of the modeled modes: how often the truth lies in the ci95, and the mean relative error.
struct Coverage {
  std::map<std::string, FigureScore> figures;
  void add(const std::string& figure, double truth, double predicted, const std::optional<reports::Interval>& ci) {
    auto& f = figures[figure];
    f.modes += 1;
    f.mape += std::abs(predicted - truth) / std::abs(truth);
    if (!ci) return;
    ++f.intervals;
    if (truth >= ci->lo && truth <= ci->hi) ++f.covered;
  }
};

void cover_ceilings(Coverage& c, const std::string& kind, const std::map<std::string, reports::Ceiling>& got,
                    const std::map<std::string, reports::Ceiling>& truth) {
  for (const auto& [k, t] : truth) {
    if (auto it = got.find(k); it != got.end() && t.value > 0)
      c.add(kind + "/" + k, t.value, it->second.value, it->second.ci95);
  }
}

void cover_map(Coverage& c, const std::string& kind, const std::map<std::string, double>& truth,
               const std::map<std::string, double>& got, const std::map<std::string, reports::Interval>& ci) {
  for (const auto& [k, v] : truth) {
    const auto g = got.find(k);
    if (g == got.end() || v <= 0) continue;
    const auto it = ci.find(k);
    c.add(kind + "/" + k, v, g->second, it == ci.end() ? std::nullopt : std::optional<reports::Interval>(it->second));
  }
}

Coverage coverage(const reports::Rooflines& predicted,
                  const std::map<std::string, const reports::RooflineMode*>& truth) {
  Coverage c;
  for (const auto& p : predicted.modes) {
    if (p.source != "modeled") continue;
    const auto& t = *truth.at(p.key);
    cover_ceilings(c, "compute_flops_per_s", p.compute_flops_per_s, t.compute_flops_per_s);
    cover_ceilings(c, "bandwidth_bytes_per_s", p.bandwidth_bytes_per_s, t.bandwidth_bytes_per_s);
    for (const auto& [backend, te] : t.energy) {
      const auto it = p.energy.find(backend);
      if (it == p.energy.end()) continue;
      const auto& pe = it->second;
      cover_map(c, "energy/" + backend + "/eps_flop_J", te.eps_flop_J, pe.eps_flop_J, pe.eps_flop_ci95);
      cover_map(c, "energy/" + backend + "/eps_byte_J", te.eps_byte_J, pe.eps_byte_J, pe.eps_byte_ci95);
      if (te.static_W > 0) c.add("energy/" + backend + "/static_W", te.static_W, pe.static_W, pe.static_ci95);
    }
  }
  for (auto& [name, f] : c.figures) f.mape /= static_cast<double>(std::max<std::size_t>(f.modes, 1));
  return c;
}

struct Truth {
  reports::Rooflines rooflines;
  std::map<std::string, const reports::RooflineMode*> by_key;
  std::vector<std::map<std::string, reports::ModeCost>> costs;  // per watched workload
};

BudgetScore score(const ConvergenceOptions& o, const Truth& truth, const std::vector<Workload>& workloads,
                  const reports::Rooflines& measured, const std::vector<reports::ModeKnobs>& targets) {
  BudgetScore s;
  auto t0 = Clock::now();
  const auto predicted = reports::predict_modes(measured, targets);
  s.predict_s = seconds_since(t0);
  const auto baseline = nearest_copy(measured, targets);
  // tune decides by each measured mode's measurement and prediction combined (decision_rooflines).
  const auto decide = reports::decision_rooflines(predicted);
  const reports::TuneConstraint bound{reports::TuneConstraint::Kind::max_slowdown, o.max_slowdown};
  for (std::size_t w = 0; w < workloads.size(); ++w) {
    const auto& real = truth.costs[w];
    const auto got = costs_by_key(workloads[w].workload, predicted),
               copied = costs_by_key(workloads[w].workload, baseline);
    WorkloadScore ws;
    ws.model = workloads[w].label;
    const Mape m = mape(got, real), b = mape(copied, real);
    ws.latency_mape = m.latency, ws.energy_mape = m.energy;
    ws.baseline_latency_mape = b.latency, ws.baseline_energy_mape = b.energy;
    t0 = Clock::now();
    const Choice c = judge(costs_by_key(workloads[w].workload, decide), real, bound);
    s.tune_s += seconds_since(t0);
    const Choice cb = judge(copied, real, bound);
    ws.optimum = c.optimum, ws.fastest = c.fastest;
    ws.chosen = c.key, ws.true_slowdown = c.slowdown, ws.energy_over_optimum = c.over_optimum;
    ws.baseline_chosen = cb.key, ws.baseline_true_slowdown = cb.slowdown,
    ws.baseline_energy_over_optimum = cb.over_optimum;
    s.workloads.push_back(std::move(ws));
  }
  s.figures = coverage(predicted, truth.by_key).figures;
  for (const auto& [name, f] : s.figures) s.covered += f.covered, s.intervals += f.intervals;
  return s;
}

void check(const ConvergenceOptions& o, std::size_t modes) {
  if (o.budgets.empty()) throw std::invalid_argument("no budgets");
  for (std::size_t i = 0; i < o.budgets.size(); ++i) {
    if (o.budgets[i] == 0 || o.budgets[i] > modes || (i > 0 && o.budgets[i] <= o.budgets[i - 1]))
      throw std::invalid_argument("budgets must ascend from 1 to the " + std::to_string(modes) + " modes of the grid");
  }
  if (o.next == 0) throw std::invalid_argument("next must be positive");
}

}  // namespace

ConvergenceReport run_convergence(const ConvergenceOptions& o) {
  const auto modes = grid_modes(o.board, o.grid);
  check(o, modes.size());
  ConvergenceReport report{o.board.name, modes.size(), 0, {}};
  const auto targets = reports::modes_from_json(nlohmann::json::parse(modes_json(modes)), "modes.json");
  std::map<std::string, const power::PowerMode*> mode_by_key;
  for (const auto& m : modes) mode_by_key[m.key] = &m;
  auto t0 = Clock::now();
  Truth truth{truth_of(o, modes), {}, {}};
  for (const auto& m : truth.rooflines.modes) truth.by_key[m.key] = &m;
  const auto workloads = watched();
  for (const auto& w : workloads) truth.costs.push_back(costs_by_key(w.workload, truth.rooflines));
  report.truth_s = seconds_since(t0);

  std::vector<const power::PowerMode*> chosen;
  reports::Rooflines measured;
  for (const std::size_t budget : o.budgets) {
    double plan_s = 0, fit_s = 0;
    while (chosen.size() < budget) {
      t0 = Clock::now();
      const auto plan = reports::plan_modes(targets, measured, {budget, std::min(o.next, budget - chosen.size())});
      plan_s += seconds_since(t0);
      if (plan.measure.empty()) break;
      for (const auto& key : plan.measure) chosen.push_back(mode_by_key.at(key));
      fit_s += measure(o, chosen, measured);
    }
    BudgetScore s = score(o, truth, workloads, measured, targets);
    s.budget = budget, s.measured = chosen.size(), s.plan_s = plan_s, s.fit_s = fit_s;
    report.budgets.push_back(std::move(s));
  }
  return report;
}

nlohmann::json to_json(const ConvergenceReport& r) {
  nlohmann::json budgets = nlohmann::json::array();
  for (const auto& b : r.budgets) {
    nlohmann::json w = nlohmann::json::array();
    for (const auto& s : b.workloads) {
      w.push_back(
          {{"model", s.model},
           {"latency_mape", s.latency_mape},
           {"energy_mape", s.energy_mape},
           {"baseline_latency_mape", s.baseline_latency_mape},
           {"baseline_energy_mape", s.baseline_energy_mape},
           {"tune",
            {{"chosen", s.chosen}, {"true_slowdown", s.true_slowdown}, {"energy_over_optimum", s.energy_over_optimum}}},
           {"baseline_tune",
            {{"chosen", s.baseline_chosen},
             {"true_slowdown", s.baseline_true_slowdown},
             {"energy_over_optimum", s.baseline_energy_over_optimum}}}});
    }
    budgets.push_back(
        {{"budget", b.budget},
         {"measured", b.measured},
         {"workloads", w},
         {"coverage", {{"covered", b.covered}, {"intervals", b.intervals}, {"share", b.coverage()}}},
         {"seconds", {{"fit", b.fit_s}, {"predict", b.predict_s}, {"plan", b.plan_s}, {"tune", b.tune_s}}}});
  }
  return {{"board", r.board},
          {"modes", r.modes},
          {"truth_s", r.truth_s},
          {"budgets", budgets},
          {"note", "stand-in board (tests/support/standin/README.md): simulated results, not measurements"}};
}

std::string to_table(const ConvergenceReport& r) {
  std::string out = "stand-in " + r.board + ", " + std::to_string(r.modes) +
                    " modes (simulated, not measured); errors against rooflines fitted from every mode\n";
  char line[320];
  std::snprintf(line, sizeof(line), "%6s %-13s %8s %8s %8s %8s %9s %9s %9s %9s %8s %7s %7s %7s\n", "budget", "model",
                "lat%", "energy%", "base-lat", "base-en", "slowdown", "over-opt", "b-slow", "b-over", "cover%", "fit_s",
                "pred_s", "plan_s");
  out += line;
  for (const auto& b : r.budgets) {
    for (const auto& s : b.workloads) {
      std::snprintf(line, sizeof(line),
                    "%6zu %-13s %8.2f %8.2f %8.2f %8.2f %9.2f %9.2f %9.2f %9.2f %8.1f %7.3f %7.3f %7.3f\n", b.measured,
                    s.model.c_str(), 100 * s.latency_mape, 100 * s.energy_mape, 100 * s.baseline_latency_mape,
                    100 * s.baseline_energy_mape, 100 * s.true_slowdown, 100 * s.energy_over_optimum,
                    100 * s.baseline_true_slowdown, 100 * s.baseline_energy_over_optimum, 100 * b.coverage(), b.fit_s,
                    b.predict_s, b.plan_s);
      out += line;
    }
  }
  if (r.budgets.empty()) return out;
  const auto& last = r.budgets.back();
  out += "figures of the modeled modes at " + std::to_string(last.measured) + " measured: mean error, ci95 coverage\n";
  for (const auto& [name, f] : last.figures) {
    std::snprintf(line, sizeof(line), "  %-44s %7.2f%% %7.1f%% of %zu\n", name.c_str(), 100 * f.mape,
                  f.intervals ? 100.0 * f.covered / f.intervals : 0.0, f.intervals);
    out += line;
  }
  return out;
}

}  // namespace edgeroof::standin
