#include "commands.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "edgeroof/reports/peaks.hpp"
#include "model_args.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

namespace edgeroof::cli {
namespace {

namespace fs = std::filesystem;

std::vector<reports::ResultsFile> load_all(const std::vector<std::string>& paths) {
  if (paths.empty()) throw UsageError("name at least one results file or directory");
  auto files = load_results_paths(paths);
  if (files.empty()) throw reports::InputError(echo(paths.front()) + ": no .json results files in it");
  return files;
}

// "lo .. hi" of a 95% interval, or "" where the figure has none.
std::string interval_text(const std::optional<reports::Interval>& i, const char* unit) {
  return i ? si(i->lo, unit) + " .. " + si(i->hi, unit) : std::string();
}

std::string interval_text(const std::map<std::string, reports::Interval>& table, const std::string& key,
                          const char* unit) {
  const auto it = table.find(key);
  return it == table.end() ? std::string() : interval_text(it->second, unit);
}

void add_energy_rows(Table& t, const reports::RooflineMode& m) {
  for (const auto& [backend, e] : m.energy) {
    char fit[160];
    std::snprintf(fit, sizeof(fit), "weighted NNLS (relative residuals) over %zu benchmarks, R^2 = %.4f",
                  e.benchmarks.size(), e.r2);
    std::string how = fit;
    if (e.condition) {
      std::snprintf(fit, sizeof(fit), ", condition %.3g", *e.condition);
      how += fit;
    }
    for (const auto& [dtype, v] : e.eps_flop_J) {
      t.add({m.key, "eps_flop " + backend + "/" + dtype, si(v, "J/FLOP"),
             interval_text(e.eps_flop_ci95, dtype, "J/FLOP"), how});
    }
    for (const auto& [level, v] : e.eps_byte_J) {
      t.add({m.key, "eps_byte " + backend + "/" + level, si(v, "J/B"), interval_text(e.eps_byte_ci95, level, "J/B"),
             how});
    }
    std::string idle = how;
    if (e.idle_power_W) {
      idle += "; idle power " + si(*e.idle_power_W, "W") +
              " (measured, a soft prior on pi0), pi0 - idle = " + si(*e.static_vs_idle_W(), "W");
    }
    t.add({m.key, "pi0 " + backend, si(e.static_W, "W"), interval_text(e.static_ci95, "W"), idle});
  }
}

std::string summary(const reports::Rooflines& r) {
  Table t({"mode", "ceiling", "value", "95% interval", "measured by"});
  for (const auto& m : r.modes) {
    for (const auto& [key, c] : m.compute_flops_per_s)
      t.add({m.key, key, si(c.value, "FLOP/s"), interval_text(c.ci95, "FLOP/s"), c.source});
    for (const auto& [key, c] : m.bandwidth_bytes_per_s)
      t.add({m.key, key, si(c.value, "B/s"), interval_text(c.ci95, "B/s"), c.source});
    for (const auto& [key, ai] : m.ridge_points())
      t.add({m.key, "ridge " + key, si(ai, "FLOP/B"), "", "derived: FLOP/s / B/s"});
    for (const auto& [key, peak] : reports::derived_peaks(m.context)) {
      const auto& measured = key == "cuda/dram" ? m.bandwidth_bytes_per_s : m.compute_flops_per_s;
      std::string row = "derived, not measured: " + peak.formula;
      if (const auto it = measured.find(key); it != measured.end()) {
        char pct[32];
        std::snprintf(pct, sizeof(pct), "; measured = %.1f%%", 100.0 * it->second.value / peak.value);
        row += pct;
      }
      t.add({m.key, "peak " + key, si(peak.value, key == "cuda/dram" ? "B/s" : "FLOP/s"), "", row});
    }
    add_energy_rows(t, m);
    for (const auto& [reason, names] : m.excluded) {
      t.add({m.key, "left out (" + reason + ")", std::to_string(names.size()) + " benchmark(s)", "",
             names.front() + (names.size() > 1 ? ", ..." : "")});
    }
  }
  return t.render(Format::table);
}

// With --predict-modes: the measured modes as summary() shows them, then one line of counts for
// the modeled ones, so that a list of thousands stays readable (every figure is in the JSON).
std::string mode_space_summary(const reports::Rooflines& r, const std::string& modes_file) {
  reports::Rooflines measured;
  std::size_t extrapolated = 0;
  std::map<std::string, std::size_t> by_knob;
  for (const auto& m : r.modes) {
    if (m.source != "modeled") {
      measured.modes.push_back(m);
      continue;
    }
    if (!m.extrapolated.empty()) ++extrapolated;
    for (const auto& knob : m.extrapolated) ++by_knob[knob];
  }
  std::string text = measured.modes.empty() ? std::string() : summary(measured);
  text += std::to_string(r.modes.size()) + " modes of " + modes_file + ": " + std::to_string(measured.modes.size()) +
          " measured, " + std::to_string(r.modes.size() - measured.modes.size()) +
          " modeled (mode-space model, 95% intervals in the JSON), " + std::to_string(extrapolated) +
          " of them extrapolated beyond the measured range";
  std::string knobs;
  for (const auto& [knob, n] : by_knob) knobs += (knobs.empty() ? "" : ", ") + knob + " " + std::to_string(n);
  return text + (knobs.empty() ? "" : " (" + knobs + ")") + "\n";
}

constexpr std::size_t kIndentedModes = 100;

int run(const Args& args) {
  const Format format = format_of(args);
  check_output(args, "--out");
  // The modes file first: a list that does not parse is refused before any results are read.
  const auto modes_file = args.get("--predict-modes");
  std::optional<std::vector<reports::ModeKnobs>> targets;
  if (modes_file) targets = reports::load_modes_file(*modes_file);
  auto rooflines = reports::fit_rooflines(load_all(args.positional));
  if (targets) rooflines = reports::predict_modes(rooflines, *targets);
  const auto doc = reports::to_json(rooflines);
  // What fit writes, predict, tune and plot must read: the same checks, before anything is written.
  (void)reports::rooflines_from_json(doc, "the fitted rooflines");
  for (const auto& w : rooflines.warnings) std::cerr << "edgeroof fit: warning: " << w << "\n";
  // Thousands of modes (--predict-modes) go out without indentation: a third of the bytes is
  // whitespace otherwise, and tune reads the file each time it runs.
  const std::string text = rooflines.modes.size() > kIndentedModes ? doc.dump() + "\n" : json_text(doc);
  if (const auto out = args.get("--out")) power::atomic_write(*out, text);
  if (format == Format::json)
    std::cout << text;
  else
    std::cout << (modes_file ? mode_space_summary(rooflines, *modes_file) : summary(rooflines));
  if (const auto out = args.get("--out")) std::cout << "rooflines written to " << *out << "\n";
  return 0;
}

}  // namespace

const Command& fit_command() {
  static const Command cmd{
      "fit",
      "fit the time (and energy) rooflines of each power mode from benchmark results",
      "edgeroof fit RESULTS.json|DIR... [--predict-modes modes.json] [-o rooflines.json] [--format table|json]",
      "Files are grouped into power modes by their context's power_mode.key (else the file name); a\n"
      "mode found in several files (boards of one kind that split a sweep with --shard, or a rerun)\n"
      "pools their repetitions, with one warning per such mode naming the files.\n"
      "Per benchmark the median of its repetitions counts; a compute ceiling is the best FLOP/s of\n"
      "its backend and dtype, a bandwidth the best B/s of the benchmarks labelled with that level.\n"
      "A benchmark with only aggregates (--benchmark_report_aggregates_only) counts by its median\n"
      "aggregate, else its mean. Left out, with a warning on standard error: rates or energies that\n"
      "cannot be real (not finite, not positive), benchmarks whose clocks throttled (counter\n"
      "throttled = 1 or label token throttled; listed under \"excluded\" in rooflines.json), and\n"
      "files with nothing to fit. When no file has anything to fit, nothing is written (exit 1).\n\n"
      "--predict-modes FILE (the output of 'edgeroof modes --format json') writes one entry per mode\n"
      "of that list, in its order: a mode with results keeps its fitted figures (\"source\":\n"
      "\"measured\"), every other mode is predicted by the mode-space model fitted to the measured\n"
      "ones (\"source\": \"modeled\", a 95% interval beside each figure, and \"extrapolated\" naming\n"
      "the knobs outside the measured range, with a warning). Measured modes not in the list are\n"
      "left out. A list that does not parse, or a knob the list varies but the measured modes never\n"
      "did (\"gpu_hz cannot be predicted: ...\"), is one error line and nothing is written (exit 1).\n"
      "The table then shows the measured modes and one line of counts for the modeled ones.",
      {{"--predict-modes", "FILE", "every mode of FILE (modes --format json), measured or modeled"},
       output_option,
       format_option},
      false,
      run};
  return cmd;
}

}  // namespace edgeroof::cli
