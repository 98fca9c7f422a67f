// The charts of a report: the time and energy rooflines of the primary mode, its power over
// intensity, several modes overlaid, and a workload's latency-energy plane.
//
// The curves are RooflineModel's (roofline_model.hpp), the formulas predict charges layers by, per
// byte moved: FLOP/s = min(F, I·B), E/Q = I·ε_flop + ε_byte + π0·max(I/F, 1/B).
#include "edgeroof/reports/roofline_model.hpp"
#include "plot_internal.hpp"

#include <algorithm>
#include <cmath>

namespace edgeroof::reports::detail {

namespace {

std::string backend_of(const std::string& key) { return key.substr(0, key.find('/')); }
std::string rest_of(const std::string& key) { return key.substr(key.find('/') + 1); }
std::string where(const RooflineMode& m, const std::string& what) { return "mode " + m.key + ": " + what; }

// The bandwidth a backend's roofs slope with: DRAM where measured, else its lowest level.
std::optional<std::pair<std::string, double>> roof_bandwidth(const RooflineMode& m, const std::string& backend) {
  std::optional<std::pair<std::string, double>> out;
  for (const auto& [key, c] : m.bandwidth_bytes_per_s) {
    if (backend_of(key) != backend) continue;
    if (rest_of(key) == "dram") return std::make_pair(rest_of(key), c.value);
    if (!out || c.value < out->second) out = std::make_pair(rest_of(key), c.value);
  }
  return out;
}

// The intensity axis in whole powers of two: 1/16 to 1024 FLOP/byte, widened to what is drawn but
// never beyond 2^-30 to 2^40, so that an absurd figure cannot stretch it past what a double holds.
struct Range {
  int lo_exp = -4, hi_exp = 10;
  void include(double ai) {
    if (!positive_finite(ai)) return;
    const double e = std::log2(ai);
    lo_exp = std::clamp(static_cast<int>(std::floor(e)) - 1, -30, lo_exp);
    hi_exp = std::clamp(static_cast<int>(std::ceil(e)) + 1, hi_exp, 40);
  }
  [[nodiscard]] std::vector<double> grid(int n = 97) const {
    std::vector<double> out;
    for (int i = 0; i < n; ++i) out.push_back(std::exp2(lo_exp + (hi_exp - lo_exp) * static_cast<double>(i) / (n - 1)));
    return out;
  }
};

void intensity_axis(Chart& c, const Range& range, GpText ylabel, GpText y_format) {
  c.set("set logscale x 2");
  c.set("set xrange [" + GpText::number(std::exp2(range.lo_exp)) + ":" + GpText::number(std::exp2(range.hi_exp)) + "]");
  c.set("set xlabel 'arithmetic intensity [FLOP/byte]'");
  c.set("set ylabel '" + ylabel + "'");
  if (!y_format.str().empty()) {
    c.set("set logscale y 10");
    c.set("set format y '" + y_format + "'");
  }
}

template <class Y>
DataBlock curve(const std::vector<double>& grid, std::string title, std::string where, Y y, Axes axes = Axes::log_log) {
  DataBlock b(std::move(title), std::move(where), axes);
  for (double i : grid) b.row(i, y(i));
  return b;
}

// The measured benchmarks of a mode that have a y value, one point style per family.
template <class Y>
void add_measured(Chart& c, const RooflineMode& m, const std::vector<Point>& points, Y y, Axes axes = Axes::log_log) {
  struct Family {
    const char* name;
    const char* title;
    GpText style;
  };
  const Family families[] = {{"compute", "compute kernels (measured)", "with points pt 1 ps 1.2 lc rgb 'black'"},
                             {"memory", "memory kernels (measured)", "with points pt 2 ps 1.2 lc rgb 'red'"},
                             {"layer", "DNN layers (measured)", "with points pt 5 ps 1.0 lc rgb 'dark-orange'"},
                             {"model", "whole models (measured)", "with points pt 9 ps 2.0 lc rgb 'dark-violet'"}};
  for (const auto& f : families) {
    DataBlock b(f.title, where(m, std::string("measured ") + f.name + " benchmarks"), axes);
    for (const auto& p : points) {
      if (p.family != f.name) continue;
      if (const std::optional<double> v = y(p)) b.row(p.ai(), *v, p.name);
    }
    c.plot(b, f.style);
  }
}

void add_layers(Chart& c, const RooflineMode& m, const Prediction& layers) {
  if (layers.modes.empty()) return;
  DataBlock b(layers.model + " layers (predicted)", where(m, "predicted layers of " + layers.model));
  for (const auto& l : layers.modes.front().layers) {
    if (l.flops > 0.0 && l.bytes > 0.0) b.row(l.flops / l.bytes, l.flops / l.time_s, l.name);
  }
  c.plot(b, "with points pt 4 ps 0.9 lc rgb 'dark-magenta'");
}

Chart time_roofline(const RooflineMode& m, const std::vector<Point>& points, const std::optional<Prediction>& layers) {
  Chart c("time_roofline", "Time roofline of mode ", mode_label(m), ": FLOP/s = min(F, I x B), measured points");
  Range range;
  for (const auto& p : points) range.include(p.ai());
  for (const auto& [key, ai] : finite_ridge_points(m)) range.include(ai);
  const auto grid = range.grid();
  DataBlock ridges("ridge points", where(m, "ridge points"));
  for (const auto& [ckey, ceiling] : m.compute_flops_per_s) {
    const auto bw = roof_bandwidth(m, backend_of(ckey));
    if (!bw) continue;
    const RooflineModel roof{ceiling.value, bw->second, {}, {}, {}};
    c.plot(curve(grid, ckey + " roof (" + si(ceiling.value, "FLOP/s") + ")",
                 where(m, "roof " + ckey + " over " + bw->first),
                 [&](double i) { return roof.attainable_flops_per_s(i); }),
           "with lines lw 2");
    const double ridge = roof.ridge_point();
    if (positive_finite(ridge)) ridges.row(ridge, ceiling.value, ckey + "@" + bw->first);  // else drawable() warned
  }
  for (const auto& [bkey, bw] : m.bandwidth_bytes_per_s) {
    double top = 0.0;
    for (const auto& [ckey, ceiling] : m.compute_flops_per_s) {
      if (backend_of(ckey) == backend_of(bkey)) top = std::max(top, ceiling.value);
    }
    if (top <= 0.0) continue;
    DataBlock b(bkey + " (" + si(bw.value, "B/s") + ")", where(m, "bandwidth " + bkey));
    for (double i : grid) {
      if (i * bw.value <= top) b.row(i, i * bw.value);
    }
    c.plot(b, "with lines dt 2 lw 1.5");
  }
  c.labels(c.plot(ridges, "with points pt 7 ps 1.6 lc rgb 'black'"), "left offset 0.8,-0.8 font ',8'");
  add_measured(c, m, points, [](const Point& p) { return std::optional<double>(p.flops / p.time_s); });
  if (layers) add_layers(c, m, *layers);
  intensity_axis(c, range, "performance [FLOP/s]", "%.0s %cFLOP/s");
  return c;
}

// An energy roof: "<backend>/<dtype>" over the level its time roof slopes with.
struct EnergyCurve {
  std::string label;
  RooflineModel model;  // has_energy()
};

std::vector<EnergyCurve> energy_curves(const RooflineMode& m) {
  std::vector<EnergyCurve> out;
  for (const auto& [backend, fit] : m.energy) {
    const auto bw = roof_bandwidth(m, backend);
    if (!bw) continue;
    for (const auto& [dtype, eps_f] : fit.eps_flop_J) {
      const auto model = roofline_model(m, backend, dtype, bw->first);
      if (model && model->has_energy()) out.push_back({backend + "/" + dtype, *model});
    }
  }
  return out;
}

// One curve per backend and dtype of the mode's energy fit, over the intensities of its points.
template <class Y>
Range add_energy_curves(Chart& c, const RooflineMode& m, const std::vector<Point>& points, const std::string& what, Y y,
                        Axes axes) {
  Range range;
  for (const auto& p : points) range.include(p.ai());
  const auto grid = range.grid();
  for (const auto& e : energy_curves(m)) {
    c.plot(curve(
               grid, e.label + " (fit)", where(m, what + " " + e.label), [&](double i) { return y(e, i); }, axes),
           "with lines lw 2");
  }
  return range;
}

Chart energy_roofline(const RooflineMode& m, const std::vector<Point>& points) {
  Chart c("energy_roofline", "Energy roofline of mode ", mode_label(m),
          ": FLOP/J = I / (I eps_flop + eps_byte + pi0 max(I/F, 1/B))");
  const Range range = add_energy_curves(
      c, m, points, "energy roof", [](const EnergyCurve& e, double i) { return e.model.flops_per_J(i); },
      Axes::log_log);
  if (c.empty()) return c;
  add_measured(c, m, points,
               [](const Point& p) { return p.energy_J ? std::optional<double>(p.flops / *p.energy_J) : std::nullopt; });
  intensity_axis(c, range, "energy efficiency [FLOP/J]", "%.0s %cFLOP/J");
  return c;
}

// A horizontal line at `watts` over the intensity range, titled from the data.
void add_level(Chart& c, const Range& range, double watts, std::string title, std::string what, GpText style) {
  DataBlock b(std::move(title), std::move(what), Axes::log_x);
  b.row(std::exp2(range.lo_exp), watts);
  b.row(std::exp2(range.hi_exp), watts);
  c.plot(b, style);
}

Chart power_chart(const RooflineMode& m, const std::vector<Point>& points) {
  Chart c("power", "Power over intensity of mode ", mode_label(m),
          ": P = (I eps_flop + eps_byte) / max(I/F, 1/B) + pi0");
  const Range range = add_energy_curves(
      c, m, points, "power", [](const EnergyCurve& e, double i) { return e.model.power_W(i); }, Axes::log_x);
  if (c.empty()) return c;
  for (const auto& [backend, fit] : m.energy) {
    add_level(c, range, fit.static_W, backend + " pi0 = " + si(fit.static_W, "W") + " (fit)",
              where(m, "energy." + backend + ".static_W"), "with lines dt 2 lc rgb 'gray40'");
    if (fit.idle_power_W) {
      add_level(c, range, *fit.idle_power_W, "idle power " + si(*fit.idle_power_W, "W") + " (measured)",
                where(m, "energy." + backend + ".idle_power_W"), "with lines dt 3 lc rgb 'black'");
    }
  }
  add_measured(
      c, m, points, [](const Point& p) { return p.power_W; }, Axes::log_x);
  intensity_axis(c, range, "power [W]", "");
  c.set("set yrange [0:*]");
  return c;
}

Chart modes_time(const std::vector<const RooflineMode*>& modes, const std::string& ckey) {
  Chart c("modes_time", "Time rooflines of " + GpText::count(modes.size()) + " power modes, ", ckey, "");
  c.set("set key below");  // mode keys are long: keep the width for the chart
  Range range;
  for (const auto* m : modes) {
    for (const auto& [key, ai] : finite_ridge_points(*m)) range.include(ai);
  }
  const auto grid = range.grid();
  for (const auto* m : modes) {
    const auto f = m->compute_flops_per_s.find(ckey);
    const auto bw = roof_bandwidth(*m, backend_of(ckey));
    if (f == m->compute_flops_per_s.end() || !bw) continue;
    const RooflineModel roof{f->second.value, bw->second, {}, {}, {}};
    c.plot(curve(grid, mode_label(*m), where(*m, "roof " + ckey),
                 [&](double i) { return roof.attainable_flops_per_s(i); }),
           "with lines lw 2");
  }
  intensity_axis(c, range, "performance [FLOP/s]", "%.0s %cFLOP/s");
  return c;
}

Chart modes_energy(const std::vector<const RooflineMode*>& modes, const std::string& ckey) {
  Chart c("modes_energy", "Energy rooflines of the same power modes, ", ckey, "");
  c.set("set key below");
  const Range range;
  const auto grid = range.grid();
  for (const auto* m : modes) {
    for (const auto& e : energy_curves(*m)) {
      if (e.label != ckey) continue;
      c.plot(curve(grid, mode_label(*m), where(*m, "energy roof " + ckey),
                   [&](double i) { return e.model.flops_per_J(i); }),
             "with lines lw 2");
    }
  }
  intensity_axis(c, range, "energy efficiency [FLOP/J]", "%.0s %cFLOP/J");
  return c;
}

Chart latency_energy(const dnn::Workload& w, const std::vector<ModeCost>& costs, const TuneResult& t) {
  Chart c("latency_energy", "Latency and energy of ", w.model,
          " (batch " + GpText::count(static_cast<std::size_t>(std::max<std::int64_t>(w.batch, 0))) + ") in " +
              GpText::count(t.modes) + " power modes (predicted)");
  const std::string model = "workload " + w.model;
  auto block = [&](std::string title, const std::vector<ModeCost>& modes) {
    DataBlock b(std::move(title), model + ": " + (modes.size() == 1 ? "mode " + modes.front().key : "modes"),
                Axes::linear);
    for (const auto& m : modes) {
      if (m.energy_J) b.row(m.latency_s * 1e3, *m.energy_J, m.key);
    }
    return b;
  };
  c.plot(block("power modes", costs), "with points pt 7 ps 0.8 lc rgb 'gray50'");
  c.plot(block("Pareto front", t.pareto), "with linespoints lw 2 pt 6 lc rgb 'blue'");
  c.plot(block("tuned: " + t.chosen.key + " (" + t.constraint + ")", {t.chosen}),
         "with points pt 5 ps 2.2 lc rgb 'dark-green'");
  if (t.maxn) {  // drawn open and last: visible where MAXN is also the chosen mode
    c.plot(block("MAXN: " + t.maxn->key, {*t.maxn}), "with points pt 8 ps 3.5 lw 2 lc rgb 'red'");
  }
  c.set("set xlabel 'latency [ms]'");
  c.set("set ylabel 'energy [J]'");
  c.set("set key below");
  return c;
}

}  // namespace

std::optional<std::string> overlay_ceiling(const RooflineMode& primary) {
  std::optional<std::string> best;
  double best_value = 0.0;
  for (const auto& [key, c] : primary.compute_flops_per_s) {
    if (key.find("-tensor") != std::string::npos || c.value <= best_value) continue;
    best = key;
    best_value = c.value;
  }
  if (!best && !primary.compute_flops_per_s.empty()) best = primary.compute_flops_per_s.begin()->first;
  return best;
}

std::vector<Chart> build_charts(const ReportInputs& in, std::vector<std::string>& notes) {
  std::vector<Chart> charts;
  charts.push_back(time_roofline(in.primary, in.points, in.layers));
  if (auto c = energy_roofline(in.primary, in.points); !c.empty()) {
    charts.push_back(std::move(c));
    charts.push_back(power_chart(in.primary, in.points));
  } else {
    notes.push_back("energy_roofline and power left out: mode " + printable(in.primary.key) +
                    " has no energy fit (measured without a sensor)");
  }
  if (const auto ckey = overlay_ceiling(in.primary); ckey && in.rooflines.modes.size() > 1) {
    charts.push_back(modes_time(in.shown, *ckey));
    if (auto c = modes_energy(in.shown, *ckey); !c.empty()) charts.push_back(std::move(c));
  }
  if (in.tuned) charts.push_back(latency_energy(*in.workload, in.costs, *in.tuned));
  for (auto& c : knob_maps(in, notes)) charts.push_back(std::move(c));
  // A chart with nothing to draw would be a gnuplot error: say so instead.
  std::vector<Chart> drawable;
  for (auto& c : charts) {
    if (c.empty()) {
      notes.push_back(c.name() + " left out: no ceilings or points to draw");
    } else {
      drawable.push_back(std::move(c));
    }
  }
  return drawable;
}

}  // namespace edgeroof::reports::detail
