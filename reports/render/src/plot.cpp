// write_report: checks and stages the report folder, builds the charts, renders them with
// gnuplot (power::ChildProcess: no shell, its own process group, ended on a stop request) and
// puts the folder in place only when everything succeeded.
#include "edgeroof/reports/plot.hpp"

#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "plot_internal.hpp"

#include "edgeroof/reports/modespace.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace edgeroof::reports {

namespace fs = std::filesystem;
using detail::printable;

namespace {

void check_stop(const PlotOptions& options) {
  if (options.stop_requested && options.stop_requested()) throw PlotInterrupted("interrupted; no report written");
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t^") != std::string::npos) last = line;
  }
  return printable(last);
}

// One gnuplot run in the staging folder; its exit status, and the last line it wrote on stderr.
int run_gnuplot(const std::string& exe, const fs::path& dir, const std::vector<std::string>& args,
                const PlotOptions& options, std::string& last_error) {
  const fs::path err = dir / ".gnuplot-stderr";
  std::vector<std::string> argv{exe};
  argv.insert(argv.end(), args.begin(), args.end());
  std::optional<power::ChildProcess> child;
  try {
    child.emplace(argv, power::ChildOptions{dir.string(), "/dev/null", err.string(), true});
  } catch (const power::ModeError& e) {
    throw PlotError(e.what());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options.render_timeout_s);
  bool late = false;
  const auto status = child->wait(
      [&] {
        late = std::chrono::steady_clock::now() > deadline;
        return late || (options.stop_requested && options.stop_requested());
      },
      0.02, 2.0);
  std::error_code ec;
  std::ostringstream text;
  text << std::ifstream(err).rdbuf();
  last_error = last_line(text.str());
  fs::remove(err, ec);
  if (!status && late) {
    throw PlotError("gnuplot did not finish within " + detail::num(options.render_timeout_s) + " s; no report written");
  }
  if (!status) throw PlotInterrupted("interrupted; no report written");
  return *status;
}

void render(const std::string& exe, const fs::path& dir, const std::vector<std::string>& charts,
            const PlotOptions& options) {
  std::string ignored;
  // pngcairo draws antialiased lines; the libgd png terminal is the fallback gnuplot-nox may have.
  const bool cairo = run_gnuplot(exe, dir, {"-e", "set terminal pngcairo"}, options, ignored) == 0;
  const std::string png = cairo ? "pngcairo size 1100,750 font 'Sans,10'" : "png size 1100,750";
  const std::string svg = "svg size 1100,750 dynamic font 'Sans,10'";
  for (const auto& c : charts) {  // chart names are the program's own: safe inside the quotes
    for (const auto& [terminal, ext] : {std::make_pair(png, ".png"), std::make_pair(svg, ".svg")}) {
      std::string error;
      const int status = run_gnuplot(
          exe, dir, {"-e", "set terminal " + terminal + "; set output '" + c + ext + "'", c + ".gp"}, options, error);
      if (status != 0) {
        throw PlotError("gnuplot failed on " + c + ".gp (" +
                        (error.empty() ? "exit status " + std::to_string(status) : error) + "); no report written");
      }
    }
  }
}

struct Predictions {
  std::optional<Prediction> layers;
  std::vector<ModeCost> costs;
  std::optional<TuneResult> tuned;
  std::optional<Findings> findings;
};

Predictions predictions(const Rooflines& rooflines, const RooflineMode& primary, const PlotOptions& options,
                        std::vector<std::string>& notes) {
  Predictions out;
  if (!options.workload) {
    notes.push_back("latency_energy left out: no --model or --workload given");
    return out;
  }
  try {
    out.layers = predict(*options.workload, rooflines, options.predict, {primary.key});
  } catch (const InputError& e) {
    notes.push_back("predicted layer points left out: " + printable(e.what()));
  }
  try {
    out.costs = cost_modes(*options.workload, rooflines, options.predict).costs;
    // The baseline as tune takes it without --baseline: MAXN, else a grid's all-maximum mode.
    TuneBaselineOptions baseline;
    for (const auto& m : rooflines.modes) baseline.knobs.push_back(knobs_of(m));
    out.tuned = tune(out.costs, options.constraint, baseline);
  } catch (const InputError& e) {
    notes.push_back("latency_energy left out: " + printable(e.what()));
  }
  if (!out.tuned) notes.push_back("findings left out: they need every mode's energy (results measured with a sensor)");
  try {
    if (out.tuned)
      out.findings =
          compute_findings({*options.workload, rooflines, options.predict, out.costs, *out.tuned, options.results});
  } catch (const InputError& e) {
    notes.push_back("findings left out: " + printable(e.what()));
  }
  return out;
}

std::string percent_text(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%+.1f%%", 100.0 * fraction);
  return buf;
}

// With a calibration: what it did, and the calibrated prediction of each mode beside the model
// benchmark measured in that mode (the calibration's own, and those among the results).
void calibration_notes(const Rooflines& rooflines, const PlotOptions& options, const std::vector<ModeCost>& costs,
                       std::vector<std::string>& notes, std::vector<std::string>& warnings) {
  const auto& cal = options.predict.calibration;
  if (!cal || !options.workload) return;
  notes.push_back("predictions calibrated in mode " + printable(cal->mode_key) +
                  ": t = o + max(W/F, Q/B) / efficiency (the layer points, latency_energy and the maps)");
  for (const auto& n : cal->notes) notes.push_back("calibration: " + printable(n));
  std::map<std::string, ModelMeasurement> measured;
  try {
    measured = model_measurements(*options.workload, options.predict.backend, rooflines, options.results);
  } catch (const InputError& e) {
    warnings.push_back("model benchmarks of the results left out: " + printable(e.what()));
  }
  if (cal->model_run) measured.emplace(cal->mode_key, *cal->model_run);
  std::size_t compared = 0;
  for (const auto& c : costs) {
    const auto m = measured.find(c.key);
    if (m == measured.end()) continue;
    ++compared;
    notes.push_back("calibrated prediction vs measured model, mode " + printable(c.key) + ": " + si(c.latency_s, "s") +
                    " (bound " + si(c.bound_latency_s, "s") + ") vs " + si(m->second.time_s, "s") + " measured (" +
                    percent_text((c.latency_s - m->second.time_s) / m->second.time_s) + ")" +
                    (!m->second.complete()                       ? ", the model benchmark skipped layers"
                     : c.key == cal->mode_key && cal->model_used ? ", the calibration mode: equal by construction"
                                                                 : ""));
  }
  if (compared == 0) notes.push_back("no model benchmark to compare the calibrated prediction with");
}

// The staged report's files: the marker, each chart's data and script, rendered, and the page.
std::vector<std::string> write_staged(const detail::Staging& staging, const detail::ReportInputs& in,
                                      PlotReport& report, const std::string& exe, const PlotOptions& options) {
  std::vector<std::string> names{detail::kReportMarker};
  auto write = [&](const std::string& name, const std::string& text) {
    power::atomic_write(staging.dir() / name, text);
    names.push_back(name);
  };
  write(detail::kReportMarker, "An edgeroof plot report: the next 'edgeroof plot -o' here replaces this folder.\n");
  names.pop_back();
  const auto charts = detail::build_charts(in, report.notes);
  for (const auto& c : charts) {
    report.warnings.insert(report.warnings.end(), c.warnings().begin(), c.warnings().end());
    write(c.name() + ".dat", c.data());
    write(c.name() + ".gp", c.script());
    report.charts.push_back(c.name());
  }
  check_stop(options);
  if (options.render) {
    render(exe, staging.dir(), report.charts, options);
    for (const auto& c : report.charts) names.insert(names.end(), {c + ".png", c + ".svg"});
  }
  std::vector<std::string> lines = report.notes;
  for (const auto& w : report.warnings) lines.push_back("warning: " + w);
  const std::string tuned = in.tuned ? detail::tune_text(*in.workload, *in.tuned) : std::string();
  write("index.html", detail::index_html(in, report.charts, lines, tuned, options.render));
  return names;
}

}  // namespace

std::string find_gnuplot(const PlotOptions& options) {
  const std::string& name = options.gnuplot;
  if (name.find('/') != std::string::npos) {
    struct stat st {};
    if (::stat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(name.c_str(), X_OK) == 0)
      return fs::absolute(name).string();  // it runs in the staging folder
    throw PlotError("gnuplot not found at " + printable(name) + " (install gnuplot-nox, or pass --gnuplot PATH)");
  }
  if (const auto found = power::find_in_path(name)) return fs::absolute(*found).string();
  throw PlotError(
      printable(name) +
      " not found on PATH (install gnuplot-nox, e.g. 'sudo apt-get install gnuplot-nox', or pass --gnuplot PATH)");
}

PlotReport write_report(const Rooflines& input, const PlotOptions& options) {
  PlotReport report;
  report.dir = check_report_target(options.out_dir);
  if (input.modes.empty()) throw InputError("no power modes to plot");
  const std::string exe = options.render ? find_gnuplot(options) : std::string();
  const Rooflines rooflines = detail::drawable(input, report.warnings);
  const auto& primary = detail::primary_mode(rooflines);
  const auto points =
      detail::measured_points(options.results, primary.key, rooflines.modes.size() == 1, report.warnings);
  const auto p = predictions(rooflines, primary, options, report.notes);
  calibration_notes(rooflines, options, p.costs, report.notes, report.warnings);
  const detail::ReportInputs in{
      rooflines,        primary,    points,
      options.workload, p.layers,   p.costs,
      p.tuned,          p.findings, detail::overlay_modes(rooflines, primary, options.overlay_modes)};
  check_stop(options);
  detail::Staging staging(report.dir);
  const auto names = write_staged(staging, in, report, exe, options);
  check_stop(options);
  staging.commit();
  for (const auto& n : names) report.files.push_back(report.dir / n);
  return report;
}

}  // namespace edgeroof::reports
