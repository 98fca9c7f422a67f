// `edgeroof tune --verify`: the chosen, the fastest and the baseline modes applied on the board (each
// once), the whole-model benchmark of edgeroof-bench run in each through the sweep's machinery
// (apply, verify with patience, settle, bench, restore: power::run_sweep), and the predictions set
// beside what was measured.
#pragma once

#include "cli.hpp"
#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/predict.hpp"
#include "edgeroof/reports/tune.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace edgeroof::cli {

// The options --verify adds to tune.
[[nodiscard]] std::vector<OptionSpec> verify_options();

// What tune decided, as verify needs it.
struct TuneDecision {
  const reports::TuneResult& result;
  const reports::TuneConstraint& constraint;
  const reports::Rooflines& rooflines;
  const dnn::Workload& workload;
  const reports::PredictOptions& predict;
};

// Every verify option's value and the modes' way to be applied, checked before anything is
// touched: a UsageError for an option without --verify or a workload edgeroof-bench cannot run,
// an InputError for a mode with no way to be applied. Does nothing without --verify.
void check_verify(const Args& args, const TuneDecision& decision);

struct VerifyOutcome {
  int exit_code = 0;
  std::string text;     // the table's section (empty in a dry run: it printed its plan)
  nlohmann::json json;  // the "verify" object
};

// Runs the verification (or, with --dry-run, prints what it would do on stdout). A failed mode,
// an interrupt or unreadable results leave the mode found restored and a non-zero exit_code, with
// the reason in `text` as one line.
[[nodiscard]] VerifyOutcome run_verify(const Args& args, const TuneDecision& decision);

}  // namespace edgeroof::cli
