#include "commands.hpp"
#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/reports/plot.hpp"
#include "model_args.hpp"

#include <csignal>
#include <iostream>

namespace edgeroof::cli {
namespace {

// Every line of a note or warning is printable() already: text from files cannot break a line.
void print_report(const reports::PlotReport& report) {
  for (const auto& w : report.warnings) std::cerr << "edgeroof plot: warning: " << w << "\n";
  for (const auto& note : report.notes) std::cout << "note: " << note << "\n";
  std::cout << "charts:";
  for (const auto& c : report.charts) std::cout << " " << c;
  std::cout << "\nreport written to " << (report.dir / "index.html").string() << " (" << report.files.size()
            << " files; the .gp scripts re-render a chart after restyling)\n";
}

int run(const Args& args) {
  if (args.positional.empty()) throw UsageError("name the rooflines.json written by 'edgeroof fit'");
  reports::PlotOptions options;
  options.out_dir = args.get_or("--out", "report");
  if (options.out_dir.empty()) throw UsageError("--out names no folder");
  (void)reports::check_report_target(options.out_dir);  // before any work
  const auto rooflines = reports::load_rooflines(args.positional.front());
  options.gnuplot = args.get_or("--gnuplot", options.gnuplot);
  options.results = load_results_paths({args.positional.begin() + 1, args.positional.end()});
  if (args.has("--model") || args.has("--workload")) options.workload = workload_of(args);
  options.predict = predict_options_of(args, rooflines);
  if (args.has("--calibrate") && !options.workload) throw UsageError("--calibrate needs --model or --workload");
  if (options.workload) calibrate_of(args, *options.workload, rooflines, options.predict);
  options.constraint.value = args.percent("--max-slowdown").value_or(0.05);
  if (const auto n = args.integer("--overlay")) {
    if (*n < 1) throw UsageError("--overlay takes a positive number of modes");
    options.overlay_modes = static_cast<std::size_t>(*n);
  }
  options.render = !args.has("--no-render");
  power::StopSignals signals;
  options.stop_requested = [] { return power::StopSignals::requested(); };
  try {
    print_report(reports::write_report(rooflines, options));
  } catch (const reports::PlotInterrupted& e) {
    const int sig = power::StopSignals::signal_number() != 0 ? power::StopSignals::signal_number() : SIGINT;
    std::cerr << "edgeroof plot: " << e.what() << " (signal " << sig << ")\n";
    return 128 + sig;
  }
  return 0;
}

}  // namespace

const Command& plot_command() {
  static const Command cmd = [] {
    Command c{"plot",
              "draw the rooflines, power and the latency-energy plane with gnuplot (PNG, SVG, index.html)",
              "edgeroof plot rooflines.json [RESULTS.json|DIR]... [-o report/] [--model NAME --batch N]",
              "Charts: time_roofline and energy_roofline (FLOP/s and FLOP/J over FLOP/byte, a roof per dtype\n"
              "and memory level, ridge points, measured kernels and DNN layers from the results), power over\n"
              "intensity, modes_time and modes_energy (several modes overlaid), and with --model or --workload\n"
              "latency_energy (every mode, the Pareto front, MAXN and the tuned mode). The primary mode is MAXN\n"
              "when present. Each chart is NAME.gp + NAME.dat rendered to NAME.png and NAME.svg by gnuplot; names\n"
              "read from files are only in the .dat files and index.html, never in a script.\n\n"
              "The report is written whole or not at all: into .edgeroof-plot-XXXXXX beside the folder, which\n"
              "replaces it at the end. An existing folder must be empty or an earlier report (it holds\n"
              ".edgeroof-report); anything else is refused. SIGINT or SIGTERM ends gnuplot and writes nothing\n"
              "(exit 130 or 143).\n\n"
              "--calibrate FILE|DIR calibrates the predicted layer points, latency_energy and the maps as\n"
              "'edgeroof predict --calibrate' does; index.html then sets the calibrated latency of each mode\n"
              "beside its model benchmark where the calibration files or the results have one.",
              workload_options(),
              false,
              run};
    c.options.insert(c.options.begin(), {"--out|-o", "DIR", "report folder (default report/)"});
    c.options.push_back(
        {"--max-slowdown", "PCT", "constraint of the tuned mode marked in latency_energy (default 5%)"});
    c.options.push_back(calibrate_option);
    c.options.push_back({"--overlay", "N", "modes drawn in the overlay charts (default 8)"});
    c.options.push_back({"--gnuplot", "PATH", "the gnuplot to run (default: gnuplot on PATH)"});
    c.options.push_back({"--no-render", "", "write the scripts, data and index.html only"});
    return c;
  }();
  return cmd;
}

}  // namespace edgeroof::cli
