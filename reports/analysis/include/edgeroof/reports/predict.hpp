// Latency and energy of a DNN workload in each power mode, from the mode's two rooflines
// (RooflineModel): per layer t = max(W / F, Q / B) and e = W·ε_flop + Q·ε_byte + π0·t, summed
// over the layers.
//
// Where the mode's figures carry 95% intervals (ci95: a measured mode's fit, or the mode-space
// model of a modeled one), the latency and energy get conservative bounds: the formulas are
// monotone in every figure (t falls with F and B; e rises with ε, π0 and t), so the low end takes
// the upper ends of the ceilings and the lower ends of the energy constants, the high end the
// other way round. The bounds hold whenever every figure lies in its interval, whatever the
// correlations between figures; they are wider than a propagated 95% interval, never narrower.
//
// With a calibration (calibrate.hpp, PredictOptions::calibration) each layer takes
// t = o + max(W / F, Q / B) / η instead, its efficiency η and the overhead o measured in one mode;
// the pure bound stays beside it (bound_s, bound_latency_s) and the intervals are those of the bound
// carried through the same formula.
#pragma once

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/calibrate.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/results.hpp"
#include "edgeroof/reports/roofline_model.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

struct PredictOptions {
  std::string backend = "cuda";  // whose ceilings and ε the layers run on
  std::string level = "dram";    // memory level the layers' bytes come from
  // Where set (calibrate() of the same workload and options): every mode is costed calibrated.
  std::shared_ptr<const Calibration> calibration;
};

// The backend layers run on unless told: the GPU where the rooflines measured one, else the CPU
// (a CPU-only machine).
[[nodiscard]] std::string default_backend(const Rooflines& rooflines);

struct LayerPrediction {
  std::string name, op, phase;
  double flops = 0.0, bytes = 0.0;
  std::string ceiling;                                 // compute ceiling used: "fp16-tensor", "fp32", ...
  double time_s = 0.0;                                 // the prediction: bound_s, or o + bound_s / η calibrated
  double bound_s = 0.0;                                // the pure bound max(W/F, Q/B)
  std::string calibration = "none";                    // LayerCalibration::source: "layer", "op" or "none"
  double efficiency = 1.0;                             // η (1 uncalibrated)
  double overhead_s = 0.0;                             // o (0 uncalibrated)
  std::optional<Interval> time_ci95;                   // where the mode's figures have intervals
  std::optional<double> energy_J;                      // absent where the mode has no energy fit
  std::string bound;                                   // "compute" or "memory"
  std::optional<double> measured_s;                    // a layer benchmark of the same layer, phase and batch
  [[nodiscard]] std::optional<double> error() const {  // (predicted − measured) / measured
    if (!measured_s || *measured_s <= 0.0) return std::nullopt;
    return (time_s - *measured_s) / *measured_s;
  }
};

struct ModePrediction {
  std::string key, name;
  std::string source = "measured";        // of the mode's rooflines: "measured" or "modeled"
  std::vector<std::string> extrapolated;  // knobs of a modeled mode outside the measured range
  double latency_s = 0.0;
  double bound_latency_s = 0.0;  // the sum of the pure bounds
  bool calibrated = false;
  std::optional<double> measured_s;  // the model benchmark of this mode (attach_model_measurements)
  std::optional<double> energy_J;
  std::optional<Interval> latency_ci95, energy_ci95;  // bounds as above, where the figures have intervals
  std::string note;                                   // why energy is absent, when it is
  std::vector<LayerPrediction> layers;
};

struct Prediction {
  std::string model, dtype, phase, backend;
  std::int64_t batch = 1;
  std::vector<ModePrediction> modes;
  std::shared_ptr<const Calibration> calibration;  // PredictOptions::calibration
};

// Latency and energy of a whole workload in one mode.
struct ModeCost {
  std::string key, name;
  std::optional<int> id;
  double latency_s = 0.0;
  double bound_latency_s = 0.0;  // the sum of the pure bounds (latency_s uncalibrated)
  bool calibrated = false;
  std::optional<double> energy_J;  // absent where the mode has no energy fit for the backend
  // Bounds as above (file comment), where the mode's figures have intervals; power_ci95 bounds
  // energy / latency: (W·ε_flop + Q·ε_byte) / t + π0 at the ends that make it lowest and highest.
  std::optional<Interval> latency_ci95, energy_ci95, power_ci95;
  std::string source = "measured";        // RooflineMode::source
  std::vector<std::string> extrapolated;  // RooflineMode::extrapolated
  [[nodiscard]] bool modeled() const { return source == "modeled"; }
  // The most the latency can be: the upper end of its interval, else the prediction.
  [[nodiscard]] double latency_high_s() const { return latency_ci95 ? latency_ci95->hi : latency_s; }
};

// What one mode charges a group of layers (same dtype, same tensor-op flag).
struct Charge {
  std::string ceiling;  // dtype of the compute ceiling: "fp16-tensor" for tensor ops where measured
  RooflineModel model;  // that ceiling, the bandwidth of the level, and the backend's energy constants
  // The same figures at the ends of their intervals: `low` gives the least time and energy (upper
  // ends of F and B, lower ends of ε and π0), `high` the most. Both are `model` where the mode has
  // no intervals; `bounded` says whether any figure had one.
  RooflineModel low, high;
  bool bounded = false;
};

// A workload grouped by what a mode charges its layers, so that thousands of modes can be costed
// with a few map look-ups per mode rather than per layer (tune).
class WorkloadCoster {
public:
  // Throws InputError for a workload that counts no FLOPs and no bytes (there is nothing to cost),
  // and for a calibration (options.calibration) of another workload.
  WorkloadCoster(const dnn::Workload& workload, PredictOptions options);
  // Throws InputError naming the mode and the ceiling when the mode lacks one a layer needs, and
  // naming the mode and the field when an interval is not finite, does not hold its figure, or has
  // a lower end that is not positive (a ceiling) or negative (an energy constant).
  [[nodiscard]] std::vector<Charge> charges(const RooflineMode& mode) const;
  // Throws InputError, as charges(), and when the latency or energy is not a finite number (ceilings
  // or constants too small or large to be real): such a figure is never returned.
  [[nodiscard]] ModeCost cost(const RooflineMode& mode) const;
  [[nodiscard]] std::size_t group_of(std::size_t layer) const { return m_group_of[layer]; }

private:
  struct Group {
    std::string dtype;
    bool tensor_op = false;
    std::vector<double> flops, bytes;
    std::vector<double> inv_efficiency;  // 1 / η per layer, where calibrated
    double total_flops = 0.0, total_bytes = 0.0;
  };
  PredictOptions m_options;
  double m_overhead_s = 0.0;  // o times the layers: the whole latency's fixed part
  std::vector<Group> m_groups;
  std::vector<std::size_t> m_group_of;
};

// Every mode's totals, as tune needs them. A mode that lacks a ceiling the workload needs is
// left out and counted, with the first reason; throws InputError when no mode is left.
struct CostedModes {
  std::vector<ModeCost> costs;
  std::size_t skipped = 0;
  std::string first_reason;
};
[[nodiscard]] CostedModes cost_modes(const dnn::Workload& workload, const Rooflines& rooflines,
                                     const PredictOptions& options);

// Every layer of every mode (or of the modes whose key is in `only`, when not empty). Throws
// InputError as WorkloadCoster::cost() does.
[[nodiscard]] Prediction predict(const dnn::Workload& workload, const Rooflines& rooflines,
                                 const PredictOptions& options, const std::vector<std::string>& only = {});

// Fills measured_s from layer benchmarks `layer/<backend>/<model>/<layer>/<token>/bs:<batch>`
// (median real time of the repetitions), matching files to modes by their power-mode key (a file
// without one belongs to the only mode of a one-mode prediction). A
// benchmark names the first layer of its shape and the pass (token "fwd", or the suffix of the
// backward layer: "bwd_data", "bwd_filter", ...); the other layers of that shape (same token,
// FLOPs and bytes) share its time.
// Returns how many layers got a measurement.
std::size_t attach_measurements(Prediction& prediction, const std::vector<ResultsFile>& files);

// Fills each mode's measured_s from the model benchmark model/<backend>/<model>/<phase>/bs:<batch>
// of `workload` in that mode (model_measurements(): a file without power_mode.key belongs to the
// only mode of one-mode rooflines) where it ran every layer (coverage 1). Throws InputError as
// model_measurements() does. Returns how many modes got one.
std::size_t attach_model_measurements(Prediction& prediction, const dnn::Workload& workload, const Rooflines& rooflines,
                                      const std::vector<ResultsFile>& files);

// A mode's "source", "latency_s_ci95" and "energy_J_ci95" ([lo, hi], null where the figures have no
// intervals), "extrapolated" where a modeled mode has knobs outside the measured range; a layer's
// "time_s_ci95" where it has bounds. Every mode has "bound_latency_s" and "calibrated", every layer
// "bound_s", "calibration", "efficiency" and "overhead_s"; a mode with a model benchmark
// "measured_s" and "error" ((latency − measured) / measured); a calibrated prediction adds
// "calibration" (calibration_json()) at the top.
[[nodiscard]] nlohmann::json to_json(const Prediction& p);
// {"mode", "files", "overhead_s", "scale", "layer_sum_s", "layers": {"layer", "op", "none"},
//  "model_benchmark": {"name", "measured_s", "coverage", "used"} or null, "notes"}.
[[nodiscard]] nlohmann::json calibration_json(const Calibration& c);
// [lo, hi], or null: the form of every interval in the JSON output of predict and tune.
[[nodiscard]] nlohmann::json interval_json_or_null(const std::optional<Interval>& ci);

}  // namespace edgeroof::reports
