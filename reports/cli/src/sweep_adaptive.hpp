// `edgeroof sweep --plan adaptive`: measure the planned modes, fit, model every candidate, plan
// again, until the budget is spent or the watched predictions stop moving.
#pragma once

#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/shard.hpp"
#include "edgeroof/power/sweep.hpp"
#include "edgeroof/reports/plan.hpp"

#include <optional>
#include <ostream>
#include <vector>

namespace edgeroof::cli {

// The adaptive sweep stops when no watched prediction moved by this much (relative) in a round.
inline constexpr double kConvergedChange = 0.01;

struct AdaptivePlan {
  std::vector<power::PowerMode> modes;  // the candidates as this machine applies them
  reports::PlanOptions plan;            // budget and modes per round
  // With --shard: each round's planned modes are split round robin over the plan's order, so the
  // boards that plan from one shared results folder measure different modes.
  std::optional<power::Shard> shard;
};

// Runs the rounds; results, failed.json and rooflines.json (every candidate, measured or modeled,
// rewritten after each round) go to options.out_dir. Resumable: results already there count as
// measured. Returns the exit status: 0, 1 when a mode failed or no model could be fitted (the
// reason is logged), 128 + signal when interrupted (no further round is started).
[[nodiscard]] int run_adaptive(power::ModeController& controller, const AdaptivePlan& adaptive,
                               const power::SweepOptions& options, std::ostream& log);

}  // namespace edgeroof::cli
