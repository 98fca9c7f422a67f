// `edgeroof plan`: which power modes to measure next, given the results so far.
#include "commands.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "edgeroof/reports/plan.hpp"
#include "mode_space_args.hpp"

#include <iostream>

namespace edgeroof::cli {
namespace {

// The most modes a budget may name: the largest grid edgeroof lists (power::max_grid_modes).
constexpr std::int64_t kMaxBudget = 1'000'000;

reports::PlanOptions plan_options_of(const Args& args) {
  reports::PlanOptions options;
  const auto budget = args.integer("--budget", 1, kMaxBudget);
  if (!budget) throw UsageError("--budget N is required (modes to measure in all, the measured ones included)");
  options.budget = static_cast<std::size_t>(*budget);
  if (const auto next = args.integer("--next", 1, kMaxBudget)) options.next = static_cast<std::size_t>(*next);
  return options;
}

int run(const Args& args) {
  if (!args.positional.empty()) throw UsageError("plan takes no arguments besides its options");
  const Format format = format_of(args);
  const auto options = plan_options_of(args);
  const auto modes_file = args.get("--modes-file");
  if (!modes_file) throw UsageError("--modes-file FILE is required (the output of 'edgeroof modes --format json')");
  const auto candidates = reports::load_modes_file(*modes_file);
  const auto results = args.get("--results");
  const auto measured = results ? measured_in(*results) : reports::Rooflines{};
  for (const auto& w : measured.warnings) std::cerr << "edgeroof plan: warning: " << w << "\n";
  std::cout << render_plan(reports::plan_modes(candidates, measured, options), format);
  return 0;
}

}  // namespace

const Command& plan_command() {
  static const Command cmd{
      "plan",
      "pick the power modes to measure next, given the results so far and a budget",
      "edgeroof plan --modes-file modes.json [--results DIR] --budget N [--next K] [--format table|json]",
      "The candidates are the modes of --modes-file (the output of 'edgeroof modes --format json').\n"
      "Without results the plan starts space-filling: the corners of the knob box, then modes spread\n"
      "over it; with --results DIR (the results of 'edgeroof sweep'), the modes measured there count\n"
      "against the budget and are never picked again, and the next ones are those the mode-space\n"
      "model is least sure of, weighted by how much they could move the predicted latency-energy\n"
      "front. --next K picks K now (default: the rest of the budget). The plan is deterministic: the\n"
      "same modes and results give the same plan. JSON: {\"measure\": [mode keys], \"measured\": n,\n"
      "\"budget\": N, \"reasons\": [one per key]}. 'edgeroof sweep --plan adaptive' runs this loop.",
      {{"--modes-file", "FILE", "the candidate modes (edgeroof modes --format json)"},
       {"--results", "DIR", "results measured so far (a sweep's --out)"},
       {"--budget", "N", "modes to measure in all, the measured ones included"},
       {"--next", "K", "how many to pick now (default: the rest of the budget)"},
       format_option},
      false,
      run};
  return cmd;
}

}  // namespace edgeroof::cli
