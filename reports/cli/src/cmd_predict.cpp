#include "commands.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "model_args.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace edgeroof::cli {
namespace {

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%+.1f%%", 100.0 * fraction);
  return buf;
}

std::string energy_cell(const std::optional<double>& e) { return e ? si(*e, "J") : "-"; }

// "[lo, hi]" of a bound, "-" where the mode's figures have no intervals.
std::string interval_cell(const std::optional<reports::Interval>& ci, const char* unit) {
  return ci ? "[" + si(ci->lo, unit) + ", " + si(ci->hi, unit) + "]" : "-";
}

// "modeled (gpu_hz extrapolated)" for a modeled mode outside the measured range.
std::string source_cell(const reports::ModePrediction& m) {
  std::string knobs;
  for (const auto& k : m.extrapolated) knobs += (knobs.empty() ? "" : ", ") + k;
  return knobs.empty() ? m.source : m.source + " (" + knobs + " extrapolated)";
}

// "layer", "op" or "none"; "layer*" where the layer beat its bound (efficiency above 1).
std::string calib_cell(const reports::LayerPrediction& l) {
  return l.calibration + (l.calibration == "layer" && l.efficiency > 1.0 ? "*" : "");
}

std::string efficiency_cell(double efficiency) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", efficiency);
  return buf;
}

// A calibrated table has the pure bound, the calibration and the efficiency beside the time.
std::string layer_table(const reports::ModePrediction& m, Format format) {
  std::vector<std::string> head{"layer", "op", "phase", "FLOP", "bytes", "ceiling", "bound", "time", "time 95%"};
  if (m.calibrated) head.insert(head.end(), {"bound time", "calib", "efficiency"});
  head.insert(head.end(), {"energy", "measured", "error"});
  Table t(head);
  for (const auto& l : m.layers) {
    std::vector<std::string> row{l.name,
                                 l.op,
                                 l.phase,
                                 si(l.flops, ""),
                                 si(l.bytes, "B"),
                                 l.ceiling,
                                 l.bound,
                                 si(l.time_s, "s"),
                                 interval_cell(l.time_ci95, "s")};
    if (m.calibrated) row.insert(row.end(), {si(l.bound_s, "s"), calib_cell(l), efficiency_cell(l.efficiency)});
    row.insert(row.end(), {energy_cell(l.energy_J), l.measured_s ? si(*l.measured_s, "s") : "-",
                           l.error() ? percent(*l.error()) : "-"});
    t.add(row);
  }
  return t.render(format);
}

std::string modes_table(const reports::Prediction& p, Format format) {
  const bool calibrated = p.calibration != nullptr;
  const bool measured =
      std::any_of(p.modes.begin(), p.modes.end(), [](const reports::ModePrediction& m) { return m.measured_s; });
  std::vector<std::string> head{"mode", "source", "latency"};
  if (calibrated) head.push_back("bound latency");
  if (measured) head.insert(head.end(), {"measured", "error"});
  head.insert(head.end(), {"latency 95%", "energy", "energy 95%", "power", "compute-bound layers", "note"});
  Table t(head);
  for (const auto& m : p.modes) {
    std::size_t compute = 0;
    for (const auto& l : m.layers) compute += l.bound == "compute" ? 1 : 0;
    const bool power = m.energy_J && m.latency_s > 0.0;
    std::vector<std::string> row{m.key, source_cell(m), si(m.latency_s, "s")};
    if (calibrated) row.push_back(si(m.bound_latency_s, "s"));
    if (measured && m.measured_s) {
      row.insert(row.end(), {si(*m.measured_s, "s"), percent((m.latency_s - *m.measured_s) / *m.measured_s)});
    } else if (measured) {
      row.insert(row.end(), {"-", "-"});
    }
    row.insert(row.end(), {interval_cell(m.latency_ci95, "s"), energy_cell(m.energy_J),
                           interval_cell(m.energy_ci95, "J"), power ? si(*m.energy_J / m.latency_s, "W") : "-",
                           std::to_string(compute) + "/" + std::to_string(m.layers.size()), m.note});
    t.add(row);
  }
  return t.render(format);
}

// What the calibration did, one line each (the notes of reports::calibrate).
std::string calibration_text(const reports::Calibration& c) {
  std::string text = "calibrated: t = o + max(W/F, Q/B)/eta, eta = bound/measured in mode " + c.mode_key +
                     " (calib: layer = its benchmark, op = its op's median, none = the pure bound; * = eta above 1)\n";
  for (const auto& n : c.notes) text += "  " + n + "\n";
  return text;
}

// The table's first lines: what was predicted, from what, and which modes are modeled.
std::string header_text(const reports::Prediction& prediction, const dnn::Workload& workload) {
  std::string text = "model " + prediction.model + ", batch " + std::to_string(prediction.batch) + ", " +
                     prediction.dtype + ", " + prediction.phase + " on " + prediction.backend +
                     " -- derived from the fitted rooflines: t = max(W/F, Q/B), e = W*eps_flop + Q*eps_byte + pi0*t\n";
  std::size_t modeled = 0;
  for (const auto& m : prediction.modes) modeled += m.source == "modeled" ? 1 : 0;
  if (modeled > 0) {
    text += std::to_string(modeled) + " of " + std::to_string(prediction.modes.size()) +
            " mode(s) modeled by the mode-space model, not measured; bounds from the 95% intervals of their "
            "figures beside them\n";
  }
  if (prediction.calibration) text += calibration_text(*prediction.calibration);
  if (!workload.complete()) text += "warning: ops not counted (totals incomplete):";
  for (const auto& op : workload.unsupported) text += " " + op;
  if (!workload.complete()) text += "\n";
  return text;
}

int run(const Args& args) {
  const Format format = format_of(args);
  check_output(args, "--out");
  const auto workload = workload_of(args);
  const auto rooflines = rooflines_of(args);
  auto options = predict_options_of(args, rooflines);
  calibrate_of(args, workload, rooflines, options);
  auto prediction = reports::predict(workload, rooflines, options, args.all("--mode"));
  if (args.has("--results")) {
    const auto results = load_results_paths(args.all("--results"));
    (void)reports::attach_measurements(prediction, results);
    (void)reports::attach_model_measurements(prediction, workload, rooflines, results);
  }

  std::string text;
  if (format == Format::json) {
    text = json_text(reports::to_json(prediction));
  } else {
    const bool layers = prediction.modes.size() == 1 || args.has("--layers");
    if (format == Format::table) {
      text = header_text(prediction, workload);
    }
    if (layers) {
      for (const auto& m : prediction.modes) {
        if (format == Format::table)
          text += "\nmode " + m.key + (m.source == "modeled" ? " [modeled, not measured]" : "") +
                  (m.note.empty() ? "" : " (" + m.note + ")") + "\n";
        text += layer_table(m, format);
      }
      if (format == Format::table) text += "\n";
    }
    text += modes_table(prediction, format);
  }
  emit(args, text);
  return 0;
}

}  // namespace

const Command& predict_command() {
  static const Command cmd = [] {
    Command c{
        "predict",
        "predict per-layer and total latency and energy of a model in each power mode",
        "edgeroof predict --model NAME|FILE.onnx --batch N --rooflines FILE [--mode KEY]... [--results FILE|DIR]... "
        "[--calibrate FILE|DIR]...",
        "Each layer takes t = max(W/F, Q/B) with F the compute ceiling of its dtype on the backend (the\n"
        "<dtype>-tensor ceiling for GEMM-like layers where the mode measured one) and B the bandwidth of\n"
        "--level; its energy is W*eps_flop + Q*eps_byte + pi0*t from the mode's energy fit. A mode fitted\n"
        "without energy data predicts latency only and says so. --results adds the measured time of layer\n"
        "benchmarks (layer/<backend>/<model>/<layer>/<phase>/bs:<batch>) and the prediction's error, and the\n"
        "model benchmark's (model/<backend>/<model>/<phase>/bs:<batch>) beside each mode's latency.\n"
        "Modes the mode-space model filled in are marked modeled; where a mode's figures carry 95%\n"
        "intervals, latency and energy get bounds from the ends of those intervals (latency_s_ci95,\n"
        "energy_J_ci95 in JSON).\n\n"
        "--calibrate FILE|DIR (layer benchmarks and the model benchmark model/<backend>/<model>/<phase>/bs:<batch>\n"
        "of one mode m0) calibrates every mode: t = o + max(W/F, Q/B)/eta, eta = the bound in m0 / the layer's\n"
        "measured time (else the median of its op, else 1), o = (model time - sum of the layers) / layers\n"
        "where the model benchmark says so. The pure bound stays beside it (bound_s, bound_latency_s).",
        workload_options(),
        false,
        run};
    c.options.push_back(rooflines_option);
    c.options.push_back({"--mode", "KEY", "only this power mode (repeatable)", true});
    c.options.push_back({"--results", "FILE|DIR", "measured layer benchmarks to compare with (repeatable)", true});
    c.options.push_back(calibrate_option);
    c.options.push_back({"--layers", "", "list the layers of every mode (default: only when there is one mode)"});
    c.options.push_back(format_option);
    c.options.push_back(output_option);
    return c;
  }();
  return cmd;
}

}  // namespace edgeroof::cli
