// The planner (plan.hpp): a space-filling start in rank coordinates of the knobs, then the modes
// whose watched predictions the mode-space model is least sure of, weighted by how likely they are
// to lie on the predicted latency-energy front.
#include "edgeroof/reports/plan.hpp"

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/predict.hpp"
#include "modespace_knobs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <set>

namespace edgeroof::reports {

namespace {

using Point = std::vector<double>;

// Each knob the candidates vary, as its rank among the candidates' values scaled to [0, 1]: the
// four EMC clocks of an Orin are as far apart as its thirteen GPU clocks.
std::vector<Point> rank_coordinates(const std::vector<ModeKnobs>& candidates) {
  std::vector<Point> points(candidates.size());
  for (const auto& def : detail::knob_defs()) {
    std::set<double> values;
    for (const auto& c : candidates) values.insert(def.get(c).value_or(-1.0));
    if (values.size() < 2) continue;
    const std::vector<double> sorted(values.begin(), values.end());
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const double v = def.get(candidates[i]).value_or(-1.0);
      const auto rank = std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin();
      points[i].push_back(static_cast<double>(rank) / static_cast<double>(sorted.size() - 1));
    }
  }
  return points;
}

double distance2(const Point& a, const Point& b) {
  double d = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) d += (a[k] - b[k]) * (a[k] - b[k]);
  return d;
}

// The unselected candidate nearest to `p` (ties: the first in the list).
std::size_t nearest_free(const std::vector<Point>& points, const std::vector<bool>& taken, const Point& p) {
  std::size_t best = points.size();
  double best_d = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (taken[i]) continue;
    const double d = distance2(points[i], p);
    if (d < best_d) best_d = d, best = i;
  }
  return best;
}

double min_distance2(const std::vector<Point>& points, const std::vector<std::size_t>& chosen, std::size_t i) {
  double d = std::numeric_limits<double>::infinity();
  for (std::size_t j : chosen) {
    if (j != i) d = std::min(d, distance2(points[i], points[j]));
  }
  return d;
}

struct Picker {
  const std::vector<ModeKnobs>& candidates;
  std::vector<Point> points;
  std::vector<bool> taken;
  std::vector<std::size_t> chosen;  // measured first, then the picks
  Plan& plan;
  std::size_t want;

  [[nodiscard]] bool full() const { return plan.measure.size() >= want; }
  void take(std::size_t i, const std::string& reason) {
    if (i >= candidates.size() || taken[i] || full()) return;
    taken[i] = true;
    chosen.push_back(i);
    plan.measure.push_back(candidates[i].key);
    plan.reasons.push_back(reason);
  }
};

// The corners of the knob box, farthest first from what is chosen (the all-top corner first when
// nothing is), at most `limit` of them.
void pick_corners(Picker& p, std::size_t limit) {
  const std::size_t d = p.points.empty() ? 0 : p.points.front().size();
  if (d == 0 || d > 16) return;
  std::vector<Point> corners;
  for (std::size_t bits = (std::size_t{1} << d); bits-- > 0;) {
    Point c(d);
    for (std::size_t k = 0; k < d; ++k) c[k] = (bits >> k) & 1 ? 1.0 : 0.0;
    corners.push_back(c);
  }
  std::vector<bool> used(corners.size(), false);
  for (std::size_t n = 0; n < limit && !p.full(); ++n) {
    std::size_t best = corners.size();
    double best_d = -1.0;
    for (std::size_t c = 0; c < corners.size(); ++c) {
      if (used[c]) continue;
      double dist = std::numeric_limits<double>::infinity();
      for (std::size_t j : p.chosen) dist = std::min(dist, distance2(corners[c], p.points[j]));
      if (p.chosen.empty()) dist = c == 0 ? 1.0 : 0.0;
      if (dist > best_d) best_d = dist, best = c;
    }
    if (best == corners.size() || best_d < 1e-12) break;
    used[best] = true;
    p.take(nearest_free(p.points, p.taken, corners[best]), "corner of the knob box");
  }
}

// mt19937's raw output is fixed by the standard; std::shuffle's use of it is not.
void shuffle(std::vector<std::size_t>& v, std::mt19937& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

// A maximin Latin hypercube of `m` points, the best of 32 seeded draws once snapped to free modes.
void pick_latin_hypercube(Picker& p, std::size_t m) {
  const std::size_t d = p.points.empty() ? 0 : p.points.front().size();
  if (m == 0 || d == 0) return;
  std::vector<std::size_t> best_design;
  double best_score = -1.0;
  for (unsigned draw = 0; draw < 32; ++draw) {
    std::mt19937 rng(20261201u + draw);
    std::vector<std::vector<std::size_t>> strata(d);
    for (auto& s : strata) {
      for (std::size_t i = 0; i < m; ++i) s.push_back(i);
      shuffle(s, rng);
    }
    auto taken = p.taken;
    std::vector<std::size_t> design, all = p.chosen;
    for (std::size_t i = 0; i < m; ++i) {
      Point q(d);
      for (std::size_t k = 0; k < d; ++k) q[k] = (static_cast<double>(strata[k][i]) + 0.5) / static_cast<double>(m);
      const std::size_t j = nearest_free(p.points, taken, q);
      if (j == p.points.size()) break;
      taken[j] = true;
      design.push_back(j);
      all.push_back(j);
    }
    double score = std::numeric_limits<double>::infinity();
    for (std::size_t j : design) score = std::min(score, min_distance2(p.points, all, j));
    if (score > best_score) best_score = score, best_design = design;
  }
  for (std::size_t j : best_design) p.take(j, "space-filling (Latin hypercube)");
}

// The farthest free mode from everything chosen: the fallback while nothing can be modeled.
void pick_farthest(Picker& p) {
  while (!p.full()) {
    std::size_t best = p.points.size();
    double best_d = -1.0;
    for (std::size_t i = 0; i < p.points.size(); ++i) {
      if (p.taken[i]) continue;
      const double d = p.chosen.empty() ? 0.0 : min_distance2(p.points, p.chosen, i);
      if (d > best_d) best_d = d, best = i;
    }
    if (best == p.points.size()) return;
    p.take(best, "space-filling (farthest from the measured)");
  }
}

const std::vector<std::pair<std::string, dnn::Workload>>& watched_workloads() {
  static const auto list = [] {
    std::vector<std::pair<std::string, dnn::Workload>> w;
    dnn::WorkloadOptions resnet;
    resnet.batch = 16;
    w.emplace_back("resnet50:16", dnn::build_workload("resnet50", resnet));
    w.emplace_back("bert_large:1", dnn::build_workload("bert_large", dnn::WorkloadOptions{}));
    return w;
  }();
  return list;
}

// The mode with every figure at the optimistic (or pessimistic) end of its interval.
RooflineMode bound(RooflineMode m, bool optimistic) {
  auto ceiling = [&](std::map<std::string, Ceiling>& t) {
    for (auto& [k, c] : t) {
      if (c.ci95) c.value = optimistic ? c.ci95->hi : std::max(c.ci95->lo, 1e-3 * c.value);
    }
  };
  ceiling(m.compute_flops_per_s);
  ceiling(m.bandwidth_bytes_per_s);
  for (auto& [b, e] : m.energy) {
    for (auto& [k, v] : e.eps_flop_J) {
      if (auto it = e.eps_flop_ci95.find(k); it != e.eps_flop_ci95.end())
        v = optimistic ? it->second.lo : it->second.hi;
    }
    for (auto& [k, v] : e.eps_byte_J) {
      if (auto it = e.eps_byte_ci95.find(k); it != e.eps_byte_ci95.end())
        v = optimistic ? it->second.lo : it->second.hi;
    }
    if (e.static_ci95) e.static_W = optimistic ? e.static_ci95->lo : e.static_ci95->hi;
  }
  return m;
}

struct Outlook {
  std::vector<double> latency, energy, spread;  // per watched workload: point values; summed spread
};

// Point predictions and interval widths of the watched workloads in one modeled mode.
std::optional<Outlook> outlook(const RooflineMode& mode, const std::vector<WorkloadCoster>& costers) {
  Outlook o;
  double spread = 0.0;
  try {
    const auto lo = bound(mode, true), hi = bound(mode, false);
    for (const auto& c : costers) {
      const auto mid = c.cost(mode), fast = c.cost(lo), slow = c.cost(hi);
      o.latency.push_back(mid.latency_s);
      o.energy.push_back(mid.energy_J.value_or(0.0));
      spread += (slow.latency_s - fast.latency_s) / mid.latency_s;
      if (mid.energy_J && fast.energy_J && slow.energy_J && *mid.energy_J > 0.0)
        spread += (*slow.energy_J - *fast.energy_J) / *mid.energy_J;
    }
  } catch (const InputError&) {
    return std::nullopt;
  }
  o.spread = {spread};
  return o;
}

// How far a mode's energy lies above the predicted front at its latency, relative (0 on it).
std::vector<double> front_gaps(const std::vector<std::optional<Outlook>>& looks, std::size_t w) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < looks.size(); ++i) {
    if (looks[i]) order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return looks[a]->latency[w] < looks[b]->latency[w]; });
  std::vector<double> gap(looks.size(), 1.0);
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t i : order) {
    const double e = looks[i]->energy[w];
    best = std::min(best, e);
    gap[i] = e > 0.0 ? (e - best) / e : 1.0;
  }
  return gap;
}

// Uncertain modes near the predicted fronts, spread out: each pick damps the scores around it.
void pick_uncertain(Picker& p, const Rooflines& measured) {
  const auto model = ModeSpaceModel::fit(measured, p.candidates);
  std::vector<WorkloadCoster> costers;
  PredictOptions options;
  options.backend = default_backend(measured);
  for (const auto& [name, w] : watched_workloads()) costers.emplace_back(w, options);
  std::vector<std::optional<Outlook>> looks(p.candidates.size());
  for (std::size_t i = 0; i < p.candidates.size(); ++i) {
    if (!p.taken[i]) looks[i] = outlook(model.predict(p.candidates[i]), costers);
  }
  std::vector<double> score(p.candidates.size(), 0.0);
  for (std::size_t w = 0; w < costers.size(); ++w) {
    const auto gap = front_gaps(looks, w);
    for (std::size_t i = 0; i < looks.size(); ++i) {
      if (!looks[i]) continue;
      const double spread = looks[i]->spread[0];
      score[i] = std::max(score[i], spread * (0.25 + std::exp(-gap[i] / (0.5 * spread / costers.size() + 0.01))));
    }
  }
  while (!p.full()) {
    const auto best = std::max_element(score.begin(), score.end()) - score.begin();
    if (!(score[best] > 0.0)) break;
    char reason[96];
    std::snprintf(reason, sizeof(reason), "uncertain: watched predictions spread %.1f%%",
                  100.0 * looks[best]->spread[0]);
    p.take(static_cast<std::size_t>(best), reason);
    for (std::size_t i = 0; i < score.size(); ++i) {
      score[i] *= 1.0 - std::exp(-distance2(p.points[i], p.points[best]) / (0.15 * 0.15));
    }
    score[best] = 0.0;
  }
}

}  // namespace

Plan plan_modes(const std::vector<ModeKnobs>& candidates, const Rooflines& measured, const PlanOptions& options) {
  if (options.budget == 0) throw InputError("the budget is 0: nothing may be measured");
  if (candidates.empty()) throw InputError("the modes list is empty");
  Plan plan;
  plan.budget = options.budget;
  std::set<std::string> done;
  for (const auto& m : measured.modes) done.insert(m.key);
  Picker p{candidates, rank_coordinates(candidates), std::vector<bool>(candidates.size(), false), {}, plan, 0};
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (done.count(candidates[i].key)) p.taken[i] = true, p.chosen.push_back(i);
  }
  plan.measured = p.chosen.size();
  const std::size_t remaining = options.budget > plan.measured ? options.budget - plan.measured : 0;
  p.want = std::min({options.next.value_or(remaining), remaining, candidates.size() - plan.measured});
  const std::size_t start = std::min(options.budget, std::max<std::size_t>(3, (options.budget + 1) / 2));
  if (plan.measured < start) {
    pick_corners(p, start / 2 > plan.measured ? start / 2 - plan.measured : 0);
    pick_latin_hypercube(p, start > p.chosen.size() ? start - p.chosen.size() : 0);
  }
  if (!p.full() && plan.measured >= 3) {
    try {
      pick_uncertain(p, measured);
    } catch (const InputError&) {
      // A knob not yet varied by the measured modes: keep filling the space until it is.
    }
  }
  pick_farthest(p);
  return plan;
}

nlohmann::json to_json(const Plan& plan) {
  return {{"measure", plan.measure}, {"measured", plan.measured}, {"budget", plan.budget}, {"reasons", plan.reasons}};
}

std::vector<WatchedPrediction> watched_predictions(const Rooflines& rooflines) {
  std::vector<WatchedPrediction> out;
  PredictOptions options;
  options.backend = default_backend(rooflines);
  for (const auto& [name, w] : watched_workloads()) {
    const WorkloadCoster coster(w, options);
    for (const auto& m : rooflines.modes) {
      try {
        const auto c = coster.cost(m);
        out.push_back({m.key, name, c.latency_s, c.energy_J});
      } catch (const InputError&) {
        // A mode without the ceilings the workload needs has nothing to watch.
      }
    }
  }
  return out;
}

double largest_change(const std::vector<WatchedPrediction>& before, const std::vector<WatchedPrediction>& after) {
  std::map<std::pair<std::string, std::string>, const WatchedPrediction*> old;
  for (const auto& b : before) old[{b.mode, b.model}] = &b;
  double change = -1.0;
  for (const auto& a : after) {
    const auto it = old.find({a.mode, a.model});
    if (it == old.end()) continue;
    change = std::max(change, std::abs(a.latency_s - it->second->latency_s) / it->second->latency_s);
    if (a.energy_J && it->second->energy_J && *it->second->energy_J > 0.0)
      change = std::max(change, std::abs(*a.energy_J - *it->second->energy_J) / *it->second->energy_J);
  }
  return change < 0.0 ? std::numeric_limits<double>::infinity() : change;
}

}  // namespace edgeroof::reports
