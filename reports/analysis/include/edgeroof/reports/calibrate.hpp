// Calibrated prediction: the roofline bound of each layer corrected by what its layer benchmark and
// the whole-model benchmark measured in one mode m0, carried to every other mode.
//
//   bound       b_i(m) = max(W_i / F(m), Q_i / B(m))        the mode's rooflines (RooflineModel)
//   efficiency  η_i    = b_i(m0) / t_i                      t_i: median real time of layer i's benchmark in m0
//   overhead    o      = min(Δ / N, t_min), 0 where Δ < 0   Δ = T_model − Σ_i t̂_i, N the workload's
//                                                           layers, t_min the fastest measured layer
//   scale       s      = Σ_i t̂_i / (T_model − N·o)          every η_i is multiplied by s
//   prediction  t_i(m) = o + b_i(m) / η_i                   compute-bound parts follow F(m), memory-bound
//                                                           ones B(m), a layer switching side the max
//   energy      E_i(m) = W_i·ε_flop + Q_i·ε_byte + π0·t_i(m)  (the work costs the same, π0 is paid longer)
//
// The choices:
// * t_i is the layer run alone. Δ, what the model run pays beyond its layers run alone, has two
//   parts one mode cannot tell apart: a fixed cost per layer (dispatch, launches), paid in every mode
//   and not scaled by F or B, and the layers running slower in sequence than alone (caches cold
//   between layers, threads woken), which scales with the layers. The fixed part is taken as large
//   as it can be, Δ / N, but no larger than the fastest measured layer (no layer costs less than its
//   fixed cost); the rest scales every η. On a 2-core CPU, ResNet-50 at batch 1 (Δ ≈ 8 ms over 174
//   layers, the fastest 1.6 µs) is almost all scale: the 1-core prediction from the 2-core
//   calibration is 1.8% short of the measured model; taking all of Δ as a fixed cost, 12% short.
//   In m0 the calibrated latency is T_model either way.
// * Σ_i t̂_i counts every workload layer (layers sharing a benchmark's shape each count): t_i where
//   the layer was measured, else b_i(m0) / η_i of its fallback.
// * Δ < 0 (the layers overlap or share caches in sequence): o = 0 and every η, fallbacks and
//   uncalibrated layers included, is scaled by Σ t̂_i / T_model (> 1), so that m0 again gives T_model.
// * η > 1 (the layer beat its bound: a cache-resident layer beats the DRAM roof) is kept, not
//   clamped, and flagged (LayerCalibration::beats_bound, a note): the bound is no bound there.
// * A layer without a benchmark takes the median η of the measured layers of the same op and
//   phase ("op"): a backward convolution is not as efficient as a forward one; else η = 1 ("none",
//   the pure bound).
// * Without a model benchmark, o = 0 and a note says so. A model benchmark whose coverage is below
//   1 (it skipped layers it has no kernel for) is not used: its time lacks those layers; a note
//   says so. Coverage outside [0, 1] is refused.
// * Benchmarks of other models, batches or backends in the files are ignored with a note; files
//   holding none of this workload's benchmarks too. The files that hold them must all be of one
//   mode (power_mode.key, or no key with one-mode rooflines), a mode of the rooflines.
#pragma once

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/results.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

struct PredictOptions;

struct LayerCalibration {
  std::string source = "none";       // "layer" (its own benchmark), "op" (op median) or "none"
  double efficiency = 1.0;           // η: bound in m0 / its time in m0 without o (scaled where Δ < 0)
  std::optional<double> measured_s;  // t_i, for "layer"
  [[nodiscard]] bool beats_bound() const { return efficiency > 1.0; }
};

// A whole-model benchmark model/<backend>/<model>/<phase>/bs:<B> of one mode.
struct ModelMeasurement {
  std::string name, file;
  double time_s = 0.0;    // median real time of the repetitions (one inference or training step)
  double coverage = 1.0;  // share of the workload's FLOPs it ran
  [[nodiscard]] bool complete() const { return coverage >= 1.0 - 1e-9; }
};

struct Calibration {
  std::string model, backend, mode_key;  // mode_key: m0
  std::int64_t batch = 1;
  std::vector<std::string> files;             // those that held this workload's benchmarks
  std::vector<LayerCalibration> layers;       // one per workload layer, in order
  double overhead_s = 0.0;                    // o, per layer
  double scale = 1.0;                         // s = Σ t̂ / (T_model − N·o) (in every efficiency already)
  double layer_sum_s = 0.0;                   // Σ t̂_i in m0, before o and the scale
  std::optional<ModelMeasurement> model_run;  // the model benchmark of m0, where the files have one
  bool model_used = false;                    // its time set o or the scale (complete coverage)
  std::vector<std::string> notes;             // what was decided and what was ignored, one line each
  [[nodiscard]] std::size_t count(const std::string& source) const;
};

// "inference", "train_sgd", "train_adam" for a workload's phase ("inference", "training:sgd",
// ...); nullopt for a phase no model benchmark runs (training:sgd_momentum).
[[nodiscard]] std::optional<std::string> model_phase_of(const dnn::Workload& workload);

// The model benchmarks of this workload on `backend` in `files`, by mode key (a file without
// power_mode.key belongs to the only mode of one-mode rooflines; others to their file's stem, as
// fit names modes). Throws InputError naming the file and benchmark for a time that is not positive,
// coverage that is missing or outside [0, 1], flops or bytes missing or not positive, and one
// benchmark with two shapes (flops, bytes) across repetitions or files.
[[nodiscard]] std::map<std::string, ModelMeasurement> model_measurements(const dnn::Workload& workload,
                                                                         const std::string& backend,
                                                                         const Rooflines& rooflines,
                                                                         const std::vector<ResultsFile>& files);

// The calibration of `workload` on `options.backend` from `files` (layer and model benchmarks of one
// mode). Throws InputError, one line naming the file and the benchmark or field: files of several
// modes; a mode key that is not a mode of the rooflines; a file without a key beside rooflines of
// several modes; no layer or model benchmark of the workload at all; every hostile figure of
// model_measurements(), for layer benchmarks too; and those of predict (a missing ceiling in m0).
[[nodiscard]] Calibration calibrate(const dnn::Workload& workload, const Rooflines& rooflines,
                                    const PredictOptions& options, const std::vector<ResultsFile>& files);

}  // namespace edgeroof::reports
