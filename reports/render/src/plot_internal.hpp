// The rooms of `edgeroof plot` (plot.hpp): text that is safe where it goes and the chart model
// with its gnuplot script and data (plot_chart.cpp), the charts of a report (plot_charts.cpp) and
// index.html (plot_html.cpp). plot.cpp checks the report folder, stages it and renders it.
#pragma once

#include "edgeroof/reports/findings.hpp"
#include "edgeroof/reports/plot.hpp"
#include "edgeroof/reports/si.hpp"

#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports::detail {

// ---- text from files, made safe for where it goes ------------------------------------------

// `text` with '?' for every byte that is not printable UTF-8: control characters, DEL, C1
// controls, malformed or overlong sequences, surrogates and bidirectional overrides. What is left
// fits on one line of a message, a terminal or an XML document.
[[nodiscard]] std::string printable(const std::string& text);
// printable() with HTML's five special characters escaped: for text and attribute values.
[[nodiscard]] std::string html(const std::string& text);
// A double-quoted string of a gnuplot data file, which ends at the next '"' whatever precedes it
// and is never evaluated: printable(), '"' shown as '\'', "]]>" broken up (it would end an SVG's
// XML), at most max_chars characters.
[[nodiscard]] std::string data_string(const std::string& text, std::size_t max_chars = 80);

// "%.9g" of a finite number; std::logic_error otherwise (callers leave out what is not finite).
[[nodiscard]] std::string num(double v);
// "5.1 TFLOP/s": the one formatter of tables, charts and pages.
using reports::si;
[[nodiscard]] inline bool positive_finite(double v) { return v > 0.0 && std::isfinite(v); }

// ---- the chart model ---------------------------------------------------------------------------

// Text of a gnuplot script. Only string literals, numbers formatted here and concatenations of
// them make one, so text read from a file cannot reach a script: it goes into the data (DataBlock,
// Chart::subject), which gnuplot never evaluates.
class GpText {
public:
  template <std::size_t N>
  GpText(const char (&literal)[N]) : m_text(literal) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] static GpText number(double v) { return GpText(num(v)); }
  [[nodiscard]] static GpText count(std::size_t n) { return GpText(std::to_string(n)); }
  friend GpText operator+(const GpText& a, const GpText& b) { return GpText(a.m_text + b.m_text); }
  [[nodiscard]] const std::string& str() const { return m_text; }

private:
  explicit GpText(std::string text) : m_text(std::move(text)) {}
  std::string m_text;
};

// Which axes are logarithmic, where a value must be positive to be drawn.
enum class Axes { log_log, log_x, linear };

// Rows "x y [label]" of one curve or point set, with its legend entry as the block's column
// header. Rows that are not finite, or not positive on a logarithmic axis, are left out and
// counted, never written as inf or nan.
class DataBlock {
public:
  // title: the legend entry (any text; empty for none). where: names the block in a warning,
  // e.g. "mode maxn: roof cuda/fp32".
  DataBlock(std::string title, std::string where, Axes axes = Axes::log_log);
  void row(double x, double y, const std::string& label = {});
  // A row "x y z" of a map (linear axes): left out and counted unless all three are finite.
  void cell(double x, double y, double z);
  [[nodiscard]] bool empty() const { return m_rows.empty(); }
  [[nodiscard]] std::size_t left_out() const { return m_left_out; }
  [[nodiscard]] const std::string& title() const { return m_title; }
  [[nodiscard]] const std::string& where() const { return m_where; }
  [[nodiscard]] const std::vector<std::string>& rows() const { return m_rows; }

private:
  std::string m_title, m_where;
  Axes m_axes;
  std::vector<std::string> m_rows;
  std::size_t m_left_out = 0;
};

// One chart: NAME.dat (blocks chosen with `index N`) and NAME.gp, which plots them.
class Chart {
public:
  // The title is title_before + subject + title_after; the subject (a mode's or model's name) is
  // data, read back by the script with `stats ... strcol`.
  Chart(GpText name, GpText title_before, std::string subject, GpText title_after);
  void set(GpText line);
  // Draws the block `using COLUMNS STYLE`, titled by its legend entry; an empty block is left out.
  // Returns the block's index, or -1.
  int plot(const DataBlock& block, GpText style, GpText columns = "1:2");
  // Writes the labels of block `index` (from plot()) beside its points.
  void labels(int index, GpText style);
  void plot_function(GpText spec);
  [[nodiscard]] bool empty() const { return m_plots.empty(); }
  [[nodiscard]] const std::string& name() const { return m_name.str(); }
  [[nodiscard]] std::string data() const { return m_data; }
  [[nodiscard]] std::string script() const;
  // One line per block whose rows were left out, naming the mode and the field.
  [[nodiscard]] const std::vector<std::string>& warnings() const { return m_warnings; }

private:
  GpText m_name, m_title_before, m_title_after;
  bool m_has_subject;
  std::string m_data;
  std::vector<std::string> m_settings, m_plots, m_warnings;
  int m_blocks = 0;
};

// ---- the charts and the page -------------------------------------------------------------------

// The dtype every overlaid mode is drawn with: the primary mode's highest plain (non-tensor)
// ceiling, the one most kernels run at.
[[nodiscard]] std::optional<std::string> overlay_ceiling(const RooflineMode& primary);

// A benchmark of one mode as a point: medians over its repetitions.
struct Point {
  std::string name, family, backend;
  double flops = 0.0, bytes = 0.0, time_s = 0.0;
  std::optional<double> energy_J, power_W;
  [[nodiscard]] double ai() const { return flops / bytes; }
};

// The figures of each mode that can be drawn: ceilings and bandwidths that are positive and
// finite, energy constants that are finite and not negative. Every other one is left out with a
// warning naming the mode and the field.
[[nodiscard]] Rooflines drawable(const Rooflines& rooflines, std::vector<std::string>& warnings);
[[nodiscard]] const RooflineMode& primary_mode(const Rooflines& r);
// `only_mode`: the rooflines hold one mode, which a file naming no power mode belongs to.
[[nodiscard]] std::vector<Point> measured_points(const std::vector<ResultsFile>& files, const std::string& mode_key,
                                                 bool only_mode, std::vector<std::string>& warnings);
[[nodiscard]] std::string mode_label(const RooflineMode& m);
// Up to n modes, spread over the list in its order, the primary one always among them.
[[nodiscard]] std::vector<const RooflineMode*> overlay_modes(const Rooflines& r, const RooflineMode& primary,
                                                             std::size_t n);
// The mode's ridge points that are positive and finite.
[[nodiscard]] std::map<std::string, double> finite_ridge_points(const RooflineMode& m);

struct ReportInputs {
  const Rooflines& rooflines;  // drawable() already
  const RooflineMode& primary;
  const std::vector<Point>& points;
  const std::optional<dnn::Workload>& workload;
  const std::optional<Prediction>& layers;
  const std::vector<ModeCost>& costs;
  const std::optional<TuneResult>& tuned;
  const std::optional<Findings>& findings;  // with tuned
  std::vector<const RooflineMode*> shown;   // in the overlay charts and the parameters table
};
// Every chart that has something to draw; notes say which were left out and why.
[[nodiscard]] std::vector<Chart> build_charts(const ReportInputs& in, std::vector<std::string>& notes);

// Maps of key figures over the two knobs that vary most (plot_maps.cpp), where the rooflines hold
// modeled modes or two knobs vary: map_compute, map_bandwidth, map_static_W, map_eps_byte and, with
// a workload, map_latency and map_energy. Notes say which were left out and why.
[[nodiscard]] std::vector<Chart> knob_maps(const ReportInputs& in, std::vector<std::string>& notes);

// The "Findings" section of index.html (plot_findings.cpp); empty without findings.
[[nodiscard]] std::string findings_html(const std::optional<Findings>& findings);
[[nodiscard]] std::string tune_text(const dnn::Workload& w, const TuneResult& t);
[[nodiscard]] std::string index_html(const ReportInputs& in, const std::vector<std::string>& charts,
                                     const std::vector<std::string>& notes, const std::string& tune_text,
                                     bool rendered);

// ---- the report folder ------------------------------------------------------------------------

// A hidden folder beside the target that the report is written into; commit() puts it in the
// target's place (an earlier report there is replaced), otherwise the destructor removes it.
class Staging {
public:
  explicit Staging(const std::filesystem::path& target);  // check_report_target()'s result
  ~Staging();
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }
  void commit();

private:
  std::filesystem::path m_target, m_dir;
  bool m_committed = false;
};

// The file that marks a folder as an edgeroof report, which the next report may replace.
inline constexpr const char* kReportMarker = ".edgeroof-report";

}  // namespace edgeroof::reports::detail
