// Maps of a figure over two knobs of the power modes: the modes of one slice (the other knobs
// fixed) are the cells of a heat map over the two knobs that vary most, coloured by the figure;
// measured modes are circled, so what the mode-space model filled in is told apart from what was
// measured.
//
// The cells sit at the index of their knob value, not at the frequency itself: Orin's EMC table
// (204 MHz to 3.2 GHz in four steps) would otherwise give cells of wildly different widths. The
// tics name the frequencies. Each cell is a filled box (boxxyerror), so a slice that lacks some
// modes leaves their cells blank, where gnuplot's image would need every one.
#include "plot_internal.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace edgeroof::reports::detail {

namespace {

struct Knob {
  GpText name, axis_label, slice_label, slice_unit;
  double unit;  // knob value times unit = the number shown
  std::optional<std::int64_t> (*get)(const RooflineMode&);
};

std::optional<std::int64_t> knob_value(const RooflineMode& m, const Knob& k) { return k.get(m); }

// In the order ties are broken: the clocks that move the rooflines most first.
std::vector<Knob> knobs() {
  using V = std::optional<std::int64_t>;
  return {{"GPU clock", "GPU clock [MHz]", "GPU ", " MHz", 1e-6, [](const RooflineMode& m) { return m.gpu_hz; }},
          {"EMC clock", "EMC clock [MHz]", "EMC ", " MHz", 1e-6, [](const RooflineMode& m) { return m.emc_hz; }},
          {"CPU clock", "CPU clock [MHz]", "CPU ", " MHz", 1e-3, [](const RooflineMode& m) { return m.cpu_khz; }},
          {"CPU cores", "CPU cores online", "cores ", "", 1.0,
           [](const RooflineMode& m) { return m.cpu_online ? V(*m.cpu_online) : V(); }}};
}

// ", " between the parts of a list of generated text.
GpText joined(const GpText& list, const GpText& item) { return list.str().empty() ? item : list + ", " + item; }

std::vector<std::int64_t> values_of(const Rooflines& r, const Knob& k) {
  std::vector<std::int64_t> out;
  for (const auto& m : r.modes) {
    if (const auto v = knob_value(m, k)) out.push_back(*v);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The value a fixed knob takes in the slice: the primary mode's, else the most common one (the
// highest of equally common ones); absent where no mode has the knob.
std::optional<std::int64_t> slice_value(const Rooflines& r, const RooflineMode& primary, const Knob& k) {
  if (const auto v = knob_value(primary, k)) return v;
  std::map<std::int64_t, std::size_t> counts;
  for (const auto& m : r.modes) {
    if (const auto v = knob_value(m, k)) ++counts[*v];
  }
  std::optional<std::int64_t> best;
  for (const auto& [v, n] : counts) {
    if (!best || n >= counts[*best]) best = v;
  }
  return best;
}

struct Layout {
  Knob x, y;
  std::vector<std::int64_t> xs, ys;
  std::vector<std::pair<Knob, std::optional<std::int64_t>>> fixed;
  [[nodiscard]] bool in_slice(const RooflineMode& m) const {
    return std::all_of(fixed.begin(), fixed.end(), [&](const auto& f) { return knob_value(m, f.first) == f.second; });
  }
  [[nodiscard]] GpText slice_text() const {
    GpText s = "";
    for (const auto& [k, v] : fixed) {
      if (v) s = joined(s, k.slice_label + GpText::number(static_cast<double>(*v) * k.unit) + k.slice_unit);
    }
    return s.str().empty() ? GpText("every mode") : "slice " + s;
  }
};

// The two knobs with the most values (two at least each) among those that drive the mapped
// backend's rooflines (GPU and EMC clocks for a GPU; CPU clock, cores and EMC for a CPU), else among
// all: on the full Orin grid the CPU clock has the most values but moves no GPU figure. The other
// knobs are fixed at one slice.
std::optional<Layout> layout_of(const Rooflines& r, const RooflineMode& primary, const std::string& backend) {
  auto ks = knobs();
  const auto drives = [&](const Knob& k) {
    const bool gpu_side = k.name.str() == "GPU clock", emc = k.name.str() == "EMC clock";
    return emc || (backend == "cpu" ? !gpu_side : gpu_side);
  };
  const auto varies = [&](const Knob& k) { return values_of(r, k).size() >= 2; };
  const bool driven = std::count_if(ks.begin(), ks.end(), [&](const Knob& k) { return drives(k) && varies(k); }) >= 2;
  std::stable_sort(ks.begin(), ks.end(), [&](const Knob& a, const Knob& b) {
    if (driven && drives(a) != drives(b)) return drives(a);
    return values_of(r, a).size() > values_of(r, b).size();
  });
  if (!varies(ks[1])) return std::nullopt;
  Layout l{ks[0], ks[1], values_of(r, ks[0]), values_of(r, ks[1]), {}};
  for (std::size_t i = 2; i < ks.size(); ++i) l.fixed.emplace_back(ks[i], slice_value(r, primary, ks[i]));
  return l;
}

double index_of(const std::vector<std::int64_t>& values, std::int64_t v) {
  return static_cast<double>(std::lower_bound(values.begin(), values.end(), v) - values.begin());
}

GpText tics(const std::vector<std::int64_t>& values, double unit) {
  GpText s = "";
  for (std::size_t i = 0; i < values.size(); ++i)
    s = joined(s, "'" + GpText::number(static_cast<double>(values[i]) * unit) + "' " + GpText::count(i));
  return "(" + s + ")";
}

// One figure to map: the chart, its title and colour scale, and the figure of a mode (none where
// the mode lacks it).
struct MapFigure {
  GpText name, title;
  std::string subject;  // text from the file (a ceiling key, a model name): data only
  GpText cb_label, cb_format;
  std::function<std::optional<double>(const RooflineMode&)> value;
};

// The modes of the slice by their cell; a mode whose cell another took first is counted in `shared`.
std::vector<std::pair<std::pair<double, double>, const RooflineMode*>> cells_of(const Rooflines& r, const Layout& l,
                                                                                std::size_t& shared) {
  std::vector<std::pair<std::pair<double, double>, const RooflineMode*>> out;
  std::map<std::pair<double, double>, bool> seen;
  for (const auto& m : r.modes) {
    const auto x = knob_value(m, l.x), y = knob_value(m, l.y);
    if (!x || !y || !l.in_slice(m)) continue;
    const std::pair<double, double> at{index_of(l.xs, *x), index_of(l.ys, *y)};
    if (!seen.emplace(at, true).second) {
      ++shared;
      continue;
    }
    out.emplace_back(at, &m);
  }
  return out;
}

Chart knob_map(const Layout& l, const std::vector<std::pair<std::pair<double, double>, const RooflineMode*>>& cells,
               const MapFigure& f) {
  Chart c(f.name, f.title, f.subject,
          " over " + l.x.name + " and " + l.y.name + "; " + l.slice_text() + "; circles: measured modes");
  DataBlock cells_block("", "knob map " + f.name.str() + ": cells", Axes::linear);
  DataBlock measured("measured modes", "knob map " + f.name.str() + ": measured modes", Axes::linear);
  for (const auto& [at, m] : cells) {
    const auto v = f.value(*m);
    if (!v) continue;
    cells_block.cell(at.first, at.second, *v);
    if (m->source != "modeled") measured.row(at.first, at.second);
  }
  c.plot(cells_block, "with boxxyerror fs solid 1.0 noborder lc palette", "1:2:(0.5):(0.5):3");
  c.plot(measured, "with points pt 6 ps 2.5 lw 2 lc rgb 'black'");
  c.set("set xrange [-0.5:" + GpText::number(static_cast<double>(l.xs.size()) - 0.5) + "]");
  c.set("set yrange [-0.5:" + GpText::number(static_cast<double>(l.ys.size()) - 0.5) + "]");
  c.set("set xtics " + tics(l.xs, l.x.unit));
  c.set("set ytics " + tics(l.ys, l.y.unit));
  c.set("set xlabel '" + l.x.axis_label + "'");
  c.set("set ylabel '" + l.y.axis_label + "'");
  c.set("set cblabel '" + f.cb_label + "'");
  c.set("set format cb '" + f.cb_format + "'");
  c.set("set palette rgbformulae 33,13,10");
  c.set("set grid noxtics noytics");
  c.set("set key below");
  return c;
}

std::string backend_of(const std::string& key) { return key.substr(0, key.find('/')); }

template <class Map>
std::optional<double> found(const Map& map, const std::string& key) {
  const auto it = map.find(key);
  return it == map.end() ? std::nullopt : std::optional<double>(it->second);
}

std::vector<MapFigure> map_figures(const ReportInputs& in) {
  std::vector<MapFigure> out;
  const auto ckey = overlay_ceiling(in.primary);
  if (!ckey) return out;
  const std::string backend = backend_of(*ckey), dram = backend + "/dram";
  out.push_back({"map_compute", "Compute ceiling ", *ckey, "FLOP/s", "%.1s %c", [ckey](const RooflineMode& m) {
                   const auto it = m.compute_flops_per_s.find(*ckey);
                   return it == m.compute_flops_per_s.end() ? std::nullopt : std::optional<double>(it->second.value);
                 }});
  out.push_back({"map_bandwidth", "Bandwidth ", dram, "B/s", "%.1s %c", [dram](const RooflineMode& m) {
                   const auto it = m.bandwidth_bytes_per_s.find(dram);
                   return it == m.bandwidth_bytes_per_s.end() ? std::nullopt : std::optional<double>(it->second.value);
                 }});
  const auto fit = [backend](const RooflineMode& m) {
    const auto it = m.energy.find(backend);
    return it == m.energy.end() ? nullptr : &it->second;
  };
  out.push_back({"map_static_W", "Constant power pi0 of ", backend, "W", "%.1s %c", [fit](const RooflineMode& m) {
                   const auto* e = fit(m);
                   return e ? std::optional<double>(e->static_W) : std::nullopt;
                 }});
  out.push_back({"map_eps_byte", "Energy per DRAM byte of ", backend, "J/B", "%.1s %c", [fit](const RooflineMode& m) {
                   const auto* e = fit(m);
                   return e ? found(e->eps_byte_J, "dram") : std::nullopt;
                 }});
  return out;
}

// The predicted latency and energy of the workload, where one was given and costed.
void add_workload_figures(const ReportInputs& in, std::vector<MapFigure>& out) {
  if (!in.workload || in.costs.empty()) return;
  auto by_key = std::make_shared<std::map<std::string, ModeCost>>();
  for (const auto& c : in.costs) by_key->emplace(c.key, c);
  out.push_back(
      {"map_latency", "Predicted latency of ", in.workload->model, "s", "%.1s %c", [by_key](const RooflineMode& m) {
         const auto it = by_key->find(m.key);
         return it == by_key->end() ? std::nullopt : std::optional<double>(it->second.latency_s);
       }});
  out.push_back(
      {"map_energy", "Predicted energy of ", in.workload->model, "J", "%.1s %c", [by_key](const RooflineMode& m) {
         const auto it = by_key->find(m.key);
         return it == by_key->end() ? std::nullopt : it->second.energy_J;
       }});
}

}  // namespace

std::vector<Chart> knob_maps(const ReportInputs& in, std::vector<std::string>& notes) {
  std::vector<Chart> out;
  if (in.rooflines.modes.size() < 2) return out;
  const bool modeled = std::any_of(in.rooflines.modes.begin(), in.rooflines.modes.end(),
                                   [](const RooflineMode& m) { return m.source == "modeled"; });
  const auto ckey = overlay_ceiling(in.primary);
  const auto layout = layout_of(in.rooflines, in.primary, ckey ? backend_of(*ckey) : std::string("cuda"));
  if (!layout) {
    if (modeled) notes.push_back("knob maps left out: fewer than two knobs vary among the modes");
    return out;
  }
  auto figures = map_figures(in);
  add_workload_figures(in, figures);
  std::size_t shared = 0;
  const auto cells = cells_of(in.rooflines, *layout, shared);
  for (const auto& f : figures) out.push_back(knob_map(*layout, cells, f));
  if (shared > 0) {
    notes.push_back("knob maps: " + std::to_string(shared) +
                    " mode(s) of the slice share their cell with another (a knob not mapped differs); the first is "
                    "drawn");
  }
  return out;
}

}  // namespace edgeroof::reports::detail
