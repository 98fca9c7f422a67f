// The convergence benchmark: how well the mode-space model (reports::predict_modes) and the planner
// (reports::plan_modes) do against a stand-in board as the budget of measured modes grows. The truth
// is the rooflines fitted from every mode of the grid measured; each round measures the modes the
// planner picks (results files from the stand-in, through the reader and the fit, as `edgeroof fit`
// reads them), predicts every mode and scores the watched workloads, the tuner's choice, the
// intervals' coverage and, for comparison, a baseline that copies the nearest measured mode.
#pragma once

#include "standin.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace edgeroof::standin {

struct ConvergenceOptions {
  StandinBoard board = orin_agx();
  power::GridSpec grid;                                 // default: the whole grid
  std::vector<std::size_t> budgets = {11, 22, 44, 88};  // ascending; modes measured when scored
  std::size_t next = 11;                                // modes the planner picks per round
  unsigned seed = 1;
  NoiseOptions noise;
  double max_slowdown = 0.05;  // of tune's bound
};

// One workload at one budget; errors are fractions (0.01 = 1%).
struct WorkloadScore {
  std::string model;                                           // "resnet50:16"
  double latency_mape = 0, energy_mape = 0;                    // predicted against the truth, over all modes
  double baseline_latency_mape = 0, baseline_energy_mape = 0;  // nearest measured mode copied
  std::string optimum, fastest;    // the true optimum under the true bound, and the true fastest mode
  std::string chosen;              // tune on the predicted rooflines
  double true_slowdown = 0;        // of the chosen mode's true latency over the true fastest's
  double energy_over_optimum = 0;  // of its true energy over the true optimum under the true bound
  std::string baseline_chosen;
  double baseline_true_slowdown = 0, baseline_energy_over_optimum = 0;
};

// One roofline figure ("compute_flops_per_s/cuda/fp32", "energy/cuda/static_W") over the modeled modes.
struct FigureScore {
  std::size_t modes = 0;
  double mape = 0;                         // mean |predicted - true| / true
  std::size_t covered = 0, intervals = 0;  // truth inside the ci95, of the modes with one
};

struct BudgetScore {
  std::size_t budget = 0, measured = 0;
  std::vector<WorkloadScore> workloads;
  std::map<std::string, FigureScore> figures;
  std::size_t covered = 0, intervals = 0;  // modeled figures whose truth lies in their ci95, of all with one
  double fit_s = 0, predict_s = 0, plan_s = 0, tune_s = 0;  // wall time: reading and fitting the measured
                                                            // files (not making them), predict_modes,
                                                            // plan_modes, tune on the prediction
  [[nodiscard]] double coverage() const { return intervals ? static_cast<double>(covered) / intervals : 0.0; }
};

struct ConvergenceReport {
  std::string board;
  std::size_t modes = 0;
  double truth_s = 0;  // generating, reading and fitting every mode
  std::vector<BudgetScore> budgets;
};

// Throws std::invalid_argument for budgets that are empty, not ascending or beyond the grid, and
// whatever the model or the planner throws (reports::InputError).
[[nodiscard]] ConvergenceReport run_convergence(const ConvergenceOptions& options);

[[nodiscard]] nlohmann::json to_json(const ConvergenceReport& report);
[[nodiscard]] std::string to_table(const ConvergenceReport& report);

}  // namespace edgeroof::standin
