// The report: gnuplot scripts (.gp) and their data (.dat), rendered to PNG and SVG, and an
// index.html that shows the charts with the fitted parameters. The scripts stay in the report
// folder so a chart can be restyled and rendered again by hand.
//
// Text read from a file (mode keys and names, benchmark, model and layer names) reaches gnuplot
// only as data: the .gp scripts hold text this program generated, nothing else.
//
// The report is written whole or not at all: into a hidden folder beside the target
// (.edgeroof-plot-XXXXXX), which replaces the target once every chart is rendered. A target that
// exists must be an empty folder or an earlier report (it holds .edgeroof-report, or only the
// files a report is made of); anything else is refused, never deleted.
#pragma once

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/predict.hpp"
#include "edgeroof/reports/results.hpp"
#include "edgeroof/reports/tune.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeroof::reports {

// gnuplot missing or failing, or a report folder that cannot be written; what() is one line.
class PlotError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// stop_requested turned true: gnuplot was ended and nothing was written.
class PlotInterrupted : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct PlotOptions {
  std::filesystem::path out_dir = "report";
  // gnuplot: a path (contains '/') or a name looked up in $PATH.
  std::string gnuplot = "gnuplot";
  std::vector<ResultsFile> results;       // measured points
  std::optional<dnn::Workload> workload;  // DNN layer points and the latency-energy plane
  PredictOptions predict;
  TuneConstraint constraint;
  std::size_t overlay_modes = 8;  // modes drawn in the overlay charts
  bool render = true;             // false: write scripts and data only
  double render_timeout_s = 300;  // per gnuplot run
  // Polled while the report is made (gnuplot included): true ends gnuplot's process group,
  // removes the staging folder and throws PlotInterrupted.
  std::function<bool()> stop_requested;
};

struct PlotReport {
  std::filesystem::path dir;                 // the report folder written
  std::vector<std::string> charts;           // chart names: time_roofline, energy_roofline, ...
  std::vector<std::filesystem::path> files;  // everything written
  std::vector<std::string> notes;            // charts left out and why
  std::vector<std::string> warnings;         // figures left out (one line each, naming mode or file and field)
};

// The report folder `out_dir` names, checked before any work: its parent is a writable folder,
// and it is absent, an empty folder or an earlier report. Throws PlotError.
std::filesystem::path check_report_target(const std::filesystem::path& out_dir);

// The executable gnuplot would run as (an absolute path); throws PlotError naming how to install it.
[[nodiscard]] std::string find_gnuplot(const PlotOptions& options);

// Writes the report. Throws PlotError (folder refused, gnuplot absent or failing) and
// InputError (rooflines without modes) with nothing written, and PlotInterrupted.
PlotReport write_report(const Rooflines& rooflines, const PlotOptions& options);

}  // namespace edgeroof::reports
