// The study's headline findings on the user's own results: whether the baseline (MAXN) is the most
// energy-efficient mode for the workload, and what tuning saves at 0%, 5% and 10% slowdown; per mode
// whether time efficiency implies energy efficiency (Spearman's rho of FLOP/s and FLOP/J over the
// measured benchmarks), the share of the workload's time that is compute-bound, and its energy split
// into FLOPs (W·ε_flop), bytes (Q·ε_byte) and static power (π0·t).
//
// Every figure says where it comes from (Provenance): measured (benchmark results), derived (by the
// formulas of roofline_model.hpp from a measured mode's rooflines) or modeled (from a mode the
// mode-space model filled in, RooflineMode::source == "modeled").
#pragma once

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/predict.hpp"
#include "edgeroof/reports/results.hpp"
#include "edgeroof/reports/tune.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

// "measured", "derived" or "modeled" (the file comment).
using Provenance = std::string;

// The slowdowns the savings are reported at: the latency allowed over the fastest mode's predicted
// latency, as tune's --max-slowdown measures it.
inline constexpr double kFindingSlowdowns[] = {0.0, 0.05, 0.10};

// The fewest measured benchmarks a rank correlation is given for.
inline constexpr std::size_t kMinCorrelationBenchmarks = 3;

// What tune chooses under one --max-slowdown, and what that saves against the baseline.
struct SlowdownSaving {
  double max_slowdown = 0.0;  // fraction of the fastest mode's latency
  ModeCost chosen;
  std::optional<double> saving_J, saving_pct;  // baseline − chosen; absent without a baseline
  Provenance provenance;                       // "modeled" where the chosen mode or the baseline is
};

// Spearman's rho of FLOP/s and FLOP/J over the benchmarks of one mode (medians of their
// repetitions): do the kernels that run fastest also spend the least energy per FLOP?
struct RankCorrelation {
  std::optional<double> rho;  // absent for fewer than kMinCorrelationBenchmarks or no energy
  std::size_t n = 0;          // benchmarks with flops, real time and energy_J
  std::string reason;         // why rho is absent
};

// The energy of the workload in one mode, by the three terms of E = W·ε_flop + Q·ε_byte + π0·t.
struct EnergySplit {
  double flops_J = 0.0, bytes_J = 0.0, static_J = 0.0;
  [[nodiscard]] double total_J() const { return flops_J + bytes_J + static_J; }
};

struct ModeFinding {
  std::string key, name;
  std::string source = "measured";  // RooflineMode::source
  std::vector<std::string> roles;   // "baseline", "most_efficient", "fastest", "chosen_5%", ...
  double latency_s = 0.0;
  std::optional<double> energy_J;
  double compute_bound_share = 0.0;   // of the predicted time, in layers that are compute-bound
  std::optional<EnergySplit> energy;  // absent where the mode has no energy fit
  Provenance provenance;              // of the three above: "derived" or "modeled"
  RankCorrelation time_vs_energy;     // rho derived from measured FLOP/s and FLOP/J
};

struct Findings {
  std::string model, phase;
  std::int64_t batch = 1;
  std::optional<ModeCost> baseline;  // TuneResult's baseline (MAXN); absent when there is none
  ModeCost most_efficient;           // the least energy per inference (or step), any latency
  std::optional<bool> baseline_is_most_efficient;
  std::optional<double> most_efficient_saving_J, most_efficient_saving_pct;  // vs the baseline
  double most_efficient_slowdown = 0.0;  // its latency over the fastest mode's, as a fraction
  Provenance most_efficient_provenance;  // "modeled" where it or the baseline is
  std::vector<SlowdownSaving> savings;   // at kFindingSlowdowns
  // The modes with a role above, then every other mode with results, in the order of the costs.
  std::vector<ModeFinding> modes;
  // Benchmarks left out of the correlations (impossible or throttled figures), one line each
  // naming the file, the benchmark and the field.
  std::vector<std::string> warnings;
};

struct FindingsInputs {
  const dnn::Workload& workload;
  const Rooflines& rooflines;     // the rooflines `costs` were computed from
  const PredictOptions& options;  // and the backend and level they were charged to
  const std::vector<ModeCost>& costs;
  const TuneResult& tuned;                  // tune(costs, ...): its baseline and fastest mode
  const std::vector<ResultsFile>& results;  // measured benchmarks; may be empty
};

// The baseline, the most energy-efficient mode and the savings at kFindingSlowdowns (tune() under
// each --max-slowdown, its margin included), from the costs alone; `modes` is left empty.
[[nodiscard]] Findings headline_findings(const std::vector<ModeCost>& costs, const TuneResult& tuned);

// headline_findings() and a ModeFinding for each mode with a role and every other mode with results.
// Throws InputError as tune() and WorkloadCoster do (no mode with energy, a mode that cannot be
// costed); never for a results file, whose impossible figures become warnings.
[[nodiscard]] Findings compute_findings(const FindingsInputs& in);

// The benchmarks of one mode's results files (a file naming no power mode belongs to the mode when
// `only_mode`) that carry flops, real time and energy_J: their rank correlation. Benchmarks whose
// medians are not positive and finite, or that were throttled, are left out with a warning.
[[nodiscard]] RankCorrelation time_energy_correlation(const std::vector<ResultsFile>& files,
                                                      const std::string& mode_key, bool only_mode,
                                                      std::vector<std::string>& warnings);

// The compute-bound share of the predicted time and the energy split of a workload in one mode,
// per layer by the mode's RooflineModel (the same formulas as predict and LayerPrediction::bound).
struct ModeBreakdown {
  double latency_s = 0.0, compute_bound_share = 0.0;
  std::optional<EnergySplit> energy;
};
[[nodiscard]] ModeBreakdown mode_breakdown(const WorkloadCoster& coster, const dnn::Workload& workload,
                                           const RooflineMode& mode);

// {"baseline", "baseline_is_most_efficient", "most_efficient", "savings", "modes", "provenance",
// "slowdown_reference", "warnings"}: every figure beside its provenance.
[[nodiscard]] nlohmann::json to_json(const Findings& f);

// Modes without a role that findings_lines() shows; the others are counted.
inline constexpr std::size_t kFindingLinesOfOtherModes = 12;

// The findings as lines of text (tune's table output, plot's index.html), each ending in its
// provenance in brackets. Names from files are as they are: the caller makes them safe.
[[nodiscard]] std::vector<std::string> findings_lines(const Findings& f);

}  // namespace edgeroof::reports
