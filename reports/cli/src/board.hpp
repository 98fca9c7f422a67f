// What `sweep` and `tune --verify` share to run edgeroof-bench in power modes of this machine (or of
// a recorded or fake tree under --root): the bench of this build, the settle and verify options, the
// idle-power reader that settling waits on, and the mode controller (nvpmodel only with --root /).
#pragma once

#include "cli.hpp"
#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/power/sweep.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::cli {

// Where edgeroof looks for edgeroof-bench, in order: next to itself (an install: both in bin/),
// then <dir of edgeroof>/../bench/ (the build tree: <build>/reports/edgeroof, <build>/bench/).
[[nodiscard]] std::vector<std::string> bench_candidates();
// The first of bench_candidates() that is an executable file, else the first.
[[nodiscard]] std::string default_bench();

// --bench, --root, --dry-run, --settle-timeout-s, --settle-temp-c and --verify-timeout-s into
// `options` and `patience`; a bad value (or a bench that is not there, unless a dry run) is a
// UsageError, found before the machine is touched. out_dir and bench_args are the caller's.
void board_options_of(const Args& args, power::SweepOptions& options, power::Patience& patience);

// The machine under options.root with its controller, which prints its writes in a dry run.
struct Board {
  power::Root root;
  std::optional<power::NvpmodelConf> conf;
  power::FrequencyTables tables;
  std::unique_ptr<power::ModeController> controller;
};
[[nodiscard]] Board open_board(const Args& args, const power::SweepOptions& options, const power::Patience& patience);
// Settling reads the thermal zones and, unless a dry run, the idle power of the machine's sensor;
// `who` ("edgeroof sweep") starts the lines it logs (no sensor, an unreadable one).
void add_settle_readers(const Board& board, power::SweepOptions& options, const std::string& who);

}  // namespace edgeroof::cli
