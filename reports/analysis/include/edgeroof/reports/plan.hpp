// `edgeroof plan`: which modes to measure next. Deterministic: a space-filling start over the
// knobs (the corners of the knob box, then a maximin Latin hypercube snapped to the modes of the
// list), then the modes the mode-space model is least sure of, weighted by how much they could move
// the predicted latency-energy Pareto front of the zoo models.
#pragma once

#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/modespace.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

struct PlanOptions {
  std::size_t budget = 44;          // modes to measure in all, the measured ones included
  std::optional<std::size_t> next;  // how many to pick now; default: the rest of the budget
};

struct Plan {
  std::vector<std::string> measure;  // mode keys, in the order to measure them
  std::size_t measured = 0;          // modes of the list that already have results
  std::size_t budget = 0;
  std::vector<std::string> reasons;  // one per entry of `measure`: "corner", "space-filling", "uncertain: ..."
};

// `measured` are the rooflines fitted from the results so far (may be empty). Throws InputError
// for a budget of 0 or an empty candidate list.
[[nodiscard]] Plan plan_modes(const std::vector<ModeKnobs>& candidates, const Rooflines& measured,
                              const PlanOptions& options);

// {"measure": [keys], "measured": n, "budget": N}
[[nodiscard]] nlohmann::json to_json(const Plan& plan);

// The zoo workloads the planner and the adaptive sweep watch: ResNet-50 (batch 16) and
// BERT-large (batch 1, 128 tokens), fp32 inference.
struct WatchedPrediction {
  std::string mode;   // key
  std::string model;  // "resnet50:16"
  double latency_s = 0.0;
  std::optional<double> energy_J;
};
[[nodiscard]] std::vector<WatchedPrediction> watched_predictions(const Rooflines& rooflines);

// The largest relative change of a watched latency or energy between two rounds (same modes and
// models matched by key); +inf when nothing matches. The adaptive sweep stops below 1%.
[[nodiscard]] double largest_change(const std::vector<WatchedPrediction>& before,
                                    const std::vector<WatchedPrediction>& after);

}  // namespace edgeroof::reports
