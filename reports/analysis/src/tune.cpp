#include "edgeroof/reports/tune.hpp"

#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <bitset>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <set>

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
            {"source", m.source},
            {"latency_s", m.latency_s},
            {"bound_latency_s", m.bound_latency_s},
            {"calibrated", m.calibrated},
            {"energy_J", *m.energy_J},
            {"power_W", *m.energy_J / m.latency_s},
            {"latency_s_ci95", interval_json_or_null(m.latency_ci95)},
            {"energy_J_ci95", interval_json_or_null(m.energy_ci95)},
            {"power_W_ci95", interval_json_or_null(m.power_ci95)}};
  if (m.id) j["id"] = *m.id;
  if (!m.extrapolated.empty()) j["extrapolated"] = m.extrapolated;
  return j;
}

double power_W(const ModeCost& m) { return *m.energy_J / m.latency_s; }
double power_high_W(const ModeCost& m) { return m.power_ci95 ? m.power_ci95->hi : power_W(m); }

// The chosen mode, the one the predictions alone would have chosen, and how many modes the
// margin held back.
struct Choice {
  const ModeCost* chosen = nullptr;
  const ModeCost* by_prediction = nullptr;
  std::size_t held_back = 0;
};

// The best mode by `better` among those `by_prediction` admits, once with the margin (`surely`
// admits it too) and once without.
template <class Predicted, class Surely, class Better>
Choice choose(const std::vector<ModeCost>& modes, Predicted by_prediction, Surely surely, Better better) {
  Choice c;
  for (const auto& m : modes) {
    if (!by_prediction(m)) continue;
    if (c.by_prediction == nullptr || better(m, *c.by_prediction)) c.by_prediction = &m;
    if (!surely(m)) {
      ++c.held_back;
    } else if (c.chosen == nullptr || better(m, *c.chosen)) {
      c.chosen = &m;
    }
  }
  return c;
}

// Energy is the objective, not a bound: it is judged by the prediction, the model's best estimate
// of each mode. Ranking by the upper ends instead would favour the modes next to measured ones
// (narrow intervals) over modes the model predicts to be cheaper, spending energy on average to
// guard against an error nobody asked to be guarded against; the latency bound is what the user
// asked to keep, and that is where the margin goes.
Choice under_latency(const std::vector<ModeCost>& modes, const ModeCost& fastest, double bound_s, bool relative) {
  // Under --max-slowdown the fastest mode is the reference the bound is measured from: it always
  // keeps it as the user sees it, and where its own interval is wider than the slowdown no other
  // mode could be shown to keep it, so it is the surest choice there.
  //
  // The reference is the fastest mode's prediction, not the lowest lower end of all intervals:
  // the least of many predictions already errs low (the minimum of noisy estimates lies below the
  // true minimum more often than above it), which tightens the bound; and the lowest lower end
  // would let the widest interval of any one unsure mode (an extrapolated corner) set the bound
  // of every other. The margin goes on the candidate, whose own error the bound does not cancel.
  //
  // The upper end may pass the bound by kMarginShare of the slack the bound grants: an upper end
  // of a 95% interval is a pessimistic figure, and holding it to the bound itself would hold back
  // every mode within two standard errors of it, most of the front near a 5% bound when
  // latencies are known to ±1%. A mode the model is unsure of (a wide interval) is still held back.
  const double reach_s = bound_s + kMarginShare * std::max(0.0, bound_s - fastest.latency_s);
  const auto surely = [&](const ModeCost& m) {
    return (relative && m.key == fastest.key) || m.latency_high_s() <= reach_s;
  };
  return choose(
      modes, [&](const ModeCost& m) { return m.latency_s <= bound_s; }, surely, less_energy);
}

Choice under_power(const std::vector<ModeCost>& modes, double cap_W) {
  return choose(
      modes, [&](const ModeCost& m) { return power_W(m) <= cap_W; },
      [&](const ModeCost& m) { return power_high_W(m) <= cap_W; }, less_latency);
}

[[noreturn]] void refuse_power(const std::vector<ModeCost>& modes, const Choice& c, double cap_W) {
  if (c.by_prediction != nullptr) {
    const auto surest = std::min_element(modes.begin(), modes.end(), [](const ModeCost& a, const ModeCost& b) {
      return power_high_W(a) < power_high_W(b);
    });
    throw InputError("no mode surely stays under " + format("%g", cap_W) + " W: " + std::to_string(c.held_back) +
                     " do by their prediction, but the upper ends of their 95% intervals do not (the lowest is " +
                     format("%.3g", power_high_W(*surest)) + " W, mode " + surest->key + "): measure them");
  }
  const auto low = std::min_element(modes.begin(), modes.end(),
                                    [](const ModeCost& a, const ModeCost& b) { return power_W(a) < power_W(b); });
  throw InputError("no mode stays under " + format("%g", cap_W) + " W (the lowest is " + format("%.3g", power_W(*low)) +
                   " W, mode " + low->key + ")");
}

[[noreturn]] void refuse_latency(const std::vector<ModeCost>& modes, const Choice& c, const ModeCost& fastest,
                                 double bound_s) {
  if (c.by_prediction != nullptr) {
    const auto surest = std::min_element(modes.begin(), modes.end(), [](const ModeCost& a, const ModeCost& b) {
      return a.latency_high_s() < b.latency_high_s();
    });
    const double reach_s = bound_s + kMarginShare * std::max(0.0, bound_s - fastest.latency_s);
    throw InputError("no mode is surely faster than " + format("%g", bound_s * 1e3) +
                     " ms: " + std::to_string(c.held_back) +
                     " are by their prediction, but the upper ends of their 95% intervals pass " +
                     format("%g", reach_s * 1e3) + " ms (the lowest is " +
                     format("%.4g", surest->latency_high_s() * 1e3) + " ms, mode " + surest->key + "): measure them");
  }
  throw InputError("no mode is faster than " + format("%g", bound_s * 1e3) + " ms (the fastest is " +
                   format("%.4g", fastest.latency_s * 1e3) + " ms, mode " + fastest.key + ")");
}

// MAXN by name or nvpmodel id 0, else the grid equivalent among the knobs of `modes`.
void set_maxn(TuneResult& out, const std::vector<ModeCost>& modes, const std::vector<ModeKnobs>& knobs) {
  const auto maxn = std::find_if(modes.begin(), modes.end(), is_maxn);
  const auto id0 = std::find_if(modes.begin(), modes.end(), [](const ModeCost& m) { return m.id && *m.id == 0; });
  if (maxn != modes.end()) {
    out.maxn = *maxn;
  } else if (id0 != modes.end()) {
    out.maxn = *id0;
  } else if (!knobs.empty()) {
    std::set<std::string> considered;
    for (const auto& m : modes) considered.insert(m.key);
    std::vector<ModeKnobs> among;
    for (const auto& k : knobs) {
      if (considered.count(k.key) != 0) among.push_back(k);
    }
    const auto grid = grid_maxn(among);
    if (grid.key) {
      out.maxn = *std::find_if(modes.begin(), modes.end(), [&grid](const ModeCost& m) { return m.key == *grid.key; });
      out.maxn_reason = BaselineReason::grid_max;
    } else {
      out.no_baseline = "no mode is MAXN (name or key MAXN, or nvpmodel id 0) and " + grid.why_none;
    }
  } else {
    out.no_baseline = "no MAXN mode (name or key MAXN, or nvpmodel id 0) among the modes";
  }
  if (out.maxn) {
    out.saving_vs_maxn_J = *out.maxn->energy_J - *out.chosen.energy_J;
    out.saving_vs_maxn_pct = 100.0 * *out.saving_vs_maxn_J / *out.maxn->energy_J;
  }
}

// --baseline KEY, else MAXN or its grid equivalent.
void set_baseline(TuneResult& out, const std::vector<ModeCost>& modes, const TuneBaselineOptions& options) {
  set_maxn(out, modes, options.knobs);
  TuneBaseline b;
  if (options.key) {
    const auto it = std::find_if(modes.begin(), modes.end(), [&](const ModeCost& m) { return m.key == *options.key; });
    if (it == modes.end())
      throw InputError("--baseline " + *options.key +
                       ": the mode has no energy prediction (no energy fit, or a ceiling "
                       "the workload needs is missing)");
    b.mode = *it;
    b.reason = BaselineReason::given;
  } else if (out.maxn) {
    b.mode = *out.maxn;
    b.reason = out.maxn_reason;
  } else {
    return;
  }
  b.saving_J = *b.mode.energy_J - *out.chosen.energy_J;
  b.saving_pct = 100.0 * b.saving_J / *b.mode.energy_J;
  out.baseline = b;
  out.no_baseline.clear();
}

// The largest value of one knob over the modes, and the first mode that has it.
struct KnobTop {
  const char* name;
  std::optional<std::int64_t> (*get)(const ModeKnobs&);
  bool fewest;  // the top is the least value (TPCs off), not the largest
};

std::optional<std::int64_t> tpcs_off(const ModeKnobs& m) {
  return static_cast<std::int64_t>(std::bitset<64>(static_cast<std::uint64_t>(m.tpc_pg_mask.value_or(0))).count());
}

const KnobTop kKnobTops[] = {
    {"cpu_online",
     [](const ModeKnobs& m) { return m.cpu_online ? std::optional<std::int64_t>(*m.cpu_online) : std::nullopt; },
     false},
    {"cpu_khz", [](const ModeKnobs& m) { return m.cpu_khz; }, false},
    {"gpu_hz", [](const ModeKnobs& m) { return m.gpu_hz; }, false},
    {"emc_hz", [](const ModeKnobs& m) { return m.emc_hz; }, false},
    {"TPCs off", tpcs_off, true},
};

}  // namespace

const char* baseline_token(BaselineReason reason) {
  switch (reason) {
  case BaselineReason::maxn:
    return "maxn";
  case BaselineReason::grid_max:
    return "grid_max";
  case BaselineReason::given:
    return "given";
  }
  return "";
}

const char* baseline_text(BaselineReason reason) {
  switch (reason) {
  case BaselineReason::maxn:
    return "MAXN";
  case BaselineReason::grid_max:
    return "every knob at its maximum (grid equivalent of MAXN)";
  case BaselineReason::given:
    return "--baseline";
  }
  return "";
}

GridMaxn grid_maxn(const std::vector<ModeKnobs>& modes) {
  GridMaxn out;
  std::vector<const ModeKnobs*> candidates;
  for (const auto& m : modes) candidates.push_back(&m);
  std::string tops;
  bool any = false;
  for (const auto& knob : kKnobTops) {
    std::optional<std::int64_t> top;
    const ModeKnobs* holder = nullptr;
    for (const auto& m : modes) {
      const auto v = knob.get(m);
      if (v && (!top || (knob.fewest ? *v < *top : *v > *top))) top = v, holder = &m;
    }
    if (!top) continue;
    any = any || !knob.fewest;
    tops += (tops.empty() ? "" : ", ") + std::string(knob.name) + " " + std::to_string(*top) + " in " + holder->key;
    candidates.erase(
        std::remove_if(candidates.begin(), candidates.end(), [&](const ModeKnobs* m) { return knob.get(*m) != top; }),
        candidates.end());
  }
  if (!any) {
    out.why_none = "the modes record no knobs";
  } else if (candidates.empty()) {
    out.why_none = "no single mode has every knob at its maximum (" + tops + ")";
  } else {
    out.key = candidates.front()->key;
  }
  return out;
}

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

TuneResult tune(const std::vector<ModeCost>& all, const TuneConstraint& constraint,
                const TuneBaselineOptions& baseline) {
  std::vector<ModeCost> modes;
  for (const auto& m : all) {
    if (m.energy_J && m.latency_s > 0.0) modes.push_back(m);
  }
  if (modes.empty()) throw InputError("no mode has an energy prediction (fit results measured with a sensor)");
  TuneResult out;
  out.modes = modes.size();
  out.constraint = constraint.describe();
  out.fastest = *std::min_element(modes.begin(), modes.end(), less_latency);

  Choice c;
  if (constraint.kind == TuneConstraint::Kind::max_power) {
    c = under_power(modes, constraint.value);
    if (c.chosen == nullptr) refuse_power(modes, c, constraint.value);
  } else {
    const bool relative = constraint.kind == TuneConstraint::Kind::max_slowdown;
    out.bound_s = relative ? out.fastest.latency_s * (1.0 + constraint.value) : constraint.value;
    c = under_latency(modes, out.fastest, out.bound_s, relative);
    if (c.chosen == nullptr) refuse_latency(modes, c, out.fastest, out.bound_s);
  }
  out.chosen = *c.chosen;
  out.held_back = c.held_back;
  if (c.by_prediction != c.chosen) out.without_margin = *c.by_prediction;
  set_baseline(out, modes, baseline);
  out.pareto = pareto_front(std::move(modes));
  return out;
}

std::optional<std::string> sweep_modes_argument(const RooflineMode& mode) {
  if (mode.id) return "nvpmodel:" + std::to_string(*mode.id);
  std::string grid;
  const auto add = [&grid](const char* axis, const auto& v) {
    if (v) grid += (grid.empty() ? "" : ";") + std::string(axis) + "=" + std::to_string(*v);
  };
  add("cores", mode.cpu_online);
  add("cpu", mode.cpu_khz);
  add("gpu", mode.gpu_hz);
  add("emc", mode.emc_hz);
  if (grid.empty()) return std::nullopt;
  return "'grid:" + grid + "'";
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
            {"fastest", cost_json(r.fastest)},
            {"held_back_by_margin", r.held_back}};
  if (r.bound_s > 0.0) j["bound_s"] = r.bound_s;
  if (r.without_margin) j["without_margin"] = cost_json(*r.without_margin);
  if (r.baseline) {
    auto b = cost_json(r.baseline->mode);
    b["reason"] = baseline_token(r.baseline->reason);
    b["why"] = baseline_text(r.baseline->reason);
    j["baseline"] = b;
    j["saving_vs_baseline_J"] = r.baseline->saving_J;
    j["saving_vs_baseline_pct"] = r.baseline->saving_pct;
  } else {
    j["baseline"] = nullptr;
    j["no_baseline"] = r.no_baseline;
  }
  if (r.maxn) {
    j["maxn"] = cost_json(*r.maxn);
    j["maxn_reason"] = baseline_token(r.maxn_reason);
    j["saving_vs_maxn_J"] = *r.saving_vs_maxn_J;
    j["saving_vs_maxn_pct"] = *r.saving_vs_maxn_pct;
  }
  json pareto = json::array();
  for (const auto& m : r.pareto) pareto.push_back(cost_json(m));
  j["pareto"] = pareto;
  return j;
}

}  // namespace edgeroof::reports
