// The report: gnuplot scripts (.gp) and their data (.dat), rendered to PNG and SVG, and an
// index.html that shows the charts with the fitted parameters. The scripts stay in the report
// folder so a chart can be restyled and rendered again by hand.
#pragma once

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/predict.hpp"
#include "edgeroof/reports/results.hpp"
#include "edgeroof/reports/tune.hpp"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeroof::reports {

// gnuplot missing or failing; what() is one line.
class PlotError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct PlotOptions {
  std::filesystem::path out_dir = "report";
  // gnuplot: a path (contains '/') or a name looked up in search_path (default: $PATH).
  std::string gnuplot = "gnuplot";
  std::optional<std::string> search_path;
  std::vector<ResultsFile> results;       // measured points
  std::optional<dnn::Workload> workload;  // DNN layer points and the latency-energy plane
  PredictOptions predict;
  TuneConstraint constraint;
  std::size_t overlay_modes = 8;  // modes drawn in the overlay charts
  bool render = true;             // false: write scripts and data only
};

struct PlotReport {
  std::vector<std::string> charts;           // chart names: time_roofline, energy_roofline, ...
  std::vector<std::filesystem::path> files;  // everything written
  std::vector<std::string> notes;            // charts left out and why
};

// The executable gnuplot would run as; throws PlotError naming how to install it.
[[nodiscard]] std::string find_gnuplot(const PlotOptions& options);

// Writes the report. Throws PlotError (gnuplot absent or failing) before writing anything when
// gnuplot cannot be found; InputError for rooflines without modes.
PlotReport write_report(const Rooflines& rooflines, const PlotOptions& options);

}  // namespace edgeroof::reports
