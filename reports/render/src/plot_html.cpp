// index.html: the charts and the fitted parameters of the modes shown. Every name read from a
// file is HTML-escaped here, shown whole, where the charts' legends shorten it.
#include "plot_internal.hpp"

#include <algorithm>
#include <cstdio>

namespace edgeroof::reports::detail {

namespace {

std::string frequencies(const RooflineMode& m) {
  std::string s;
  if (m.gpu_hz) s += "GPU " + si(static_cast<double>(*m.gpu_hz), "Hz") + "<br>";
  if (m.emc_hz) s += "EMC " + si(static_cast<double>(*m.emc_hz), "Hz") + "<br>";
  if (m.cpu_khz) s += "CPU " + si(1e3 * static_cast<double>(*m.cpu_khz), "Hz");
  if (m.cpu_online) s += " x " + std::to_string(*m.cpu_online);
  return s;
}

std::string energy_cell(const RooflineMode& m) {
  std::string s;
  for (const auto& [backend, e] : m.energy) {
    s += "<b>" + html(backend) + "</b>: ";
    for (const auto& [d, v] : e.eps_flop_J) s += "&epsilon;<sub>flop</sub>(" + html(d) + ") " + si(v, "J") + ", ";
    for (const auto& [l, v] : e.eps_byte_J) s += "&epsilon;<sub>byte</sub>(" + html(l) + ") " + si(v, "J") + ", ";
    s += "&pi;<sub>0</sub> " + si(e.static_W, "W");
    if (e.idle_power_W) s += " (idle " + si(*e.idle_power_W, "W") + " measured)";
    if (std::isfinite(e.r2)) {
      char r2[32];
      std::snprintf(r2, sizeof(r2), ", R&sup2; %.4f", e.r2);
      s += r2;
    }
    s += ", " + std::to_string(e.benchmarks.size()) + " benchmarks<br>";
  }
  return s.empty() ? "not measured (no sensor)" : s;
}

std::string parameters_table(const Rooflines& r, const std::vector<const RooflineMode*>& shown) {
  std::string s =
      "<table>\n<tr><th>mode</th><th>frequencies</th><th>compute ceilings</th><th>bandwidths</th>"
      "<th>ridge points</th><th>energy fit</th></tr>\n";
  for (const auto* m : shown) {
    std::string compute, bandwidth, ridges;
    for (const auto& [k, c] : m->compute_flops_per_s) compute += html(k) + ": " + si(c.value, "FLOP/s") + "<br>";
    for (const auto& [k, c] : m->bandwidth_bytes_per_s) bandwidth += html(k) + ": " + si(c.value, "B/s") + "<br>";
    for (const auto& [k, v] : finite_ridge_points(*m)) ridges += html(k) + ": " + si(v, "FLOP/B") + "<br>";
    s += "<tr><td>" + html(mode_label(*m)) + "</td><td>" + frequencies(*m) + "</td><td>" + compute + "</td><td>" +
         bandwidth + "</td><td>" + ridges + "</td><td>" + energy_cell(*m) + "</td></tr>\n";
  }
  s += "</table>\n";
  if (shown.size() < r.modes.size()) {
    s += "<p>" + std::to_string(shown.size()) + " of " + std::to_string(r.modes.size()) +
         " modes shown; every mode is in rooflines.json.</p>\n";
  }
  return s;
}

std::string cost_line(const char* what, const ModeCost& m) {
  return std::string(what) + " " + m.key + ": " + si(m.latency_s, "s") + ", " +
         (m.energy_J ? si(*m.energy_J, "J") : std::string("energy unknown")) + "\n";
}

}  // namespace

std::string tune_text(const dnn::Workload& w, const TuneResult& t) {
  std::string s = w.model + ", batch " + std::to_string(w.batch) + ": " + t.constraint + " over " +
                  std::to_string(t.modes) + " modes\n" + cost_line("chosen ", t.chosen) +
                  cost_line("fastest", t.fastest);
  if (t.maxn) {
    s += cost_line("MAXN   ", *t.maxn);
    if (t.saving_vs_maxn_J && t.saving_vs_maxn_pct && std::isfinite(*t.saving_vs_maxn_pct)) {
      char pct[32];
      std::snprintf(pct, sizeof(pct), " (%.1f%%)\n", *t.saving_vs_maxn_pct);
      s += "saving vs MAXN: " + si(*t.saving_vs_maxn_J, "J") + pct;
    }
  }
  return s;
}

std::string index_html(const ReportInputs& in, const std::vector<std::string>& charts,
                       const std::vector<std::string>& notes, const std::string& tune_text, bool rendered) {
  std::string s =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>edgeroof report</title>\n"
      "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}img{max-width:100%;border:1px solid #ccc}"
      "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #bbb;padding:4px;vertical-align:top}"
      "</style></head><body>\n<h1>edgeroof report</h1>\n";
  s += "<p>" + std::to_string(in.rooflines.modes.size()) +
       " power mode(s). Ceilings and bandwidths are measured (best benchmark of their kind); ridge points, "
       "energy constants and DNN predictions are derived from them by the formulas in each chart's title. "
       "The single-mode charts show mode <b>" +
       html(mode_label(in.primary)) + "</b>";
  if (in.workload) s += "; the workload is <b>" + html(in.workload->model) + "</b>";
  s += ".</p>\n";
  for (const auto& n : notes) s += "<p><i>" + html(n) + "</i></p>\n";
  s += "<h2>Fitted parameters</h2>\n" + parameters_table(in.rooflines, in.shown);
  if (!tune_text.empty()) {
    s += "<h2>Tuning</h2>\n<pre>";
    for (std::size_t at = 0, end = 0; at < tune_text.size(); at = end + 1) {
      end = std::min(tune_text.find('\n', at), tune_text.size());
      s += html(tune_text.substr(at, end - at)) + "\n";
    }
    s += "</pre>\n";
  }
  s += findings_html(in.findings);
  if (std::any_of(charts.begin(), charts.end(), [](const std::string& c) { return c.rfind("map_", 0) == 0; })) {
    s += "<p>The map_ charts show one figure of every power mode over the two knobs that vary most, the other "
         "knobs fixed at one slice (named in each title). A circle marks a measured mode; the other cells are "
         "modeled by the mode-space model.</p>\n";
  }
  for (const auto& c : charts) {  // chart names are the program's own
    s += "<h2>" + c + "</h2>\n";
    if (rendered) s += "<p><a href=\"" + c + ".svg\"><img src=\"" + c + ".png\" alt=\"" + c + "\"></a></p>\n";
    s += "<p><a href=\"" + c + ".svg\">SVG</a> &middot; <a href=\"" + c +
         ".gp\">gnuplot script</a> &middot; <a href=\"" + c + ".dat\">data</a></p>\n";
  }
  return s + "</body></html>\n";
}

}  // namespace edgeroof::reports::detail
