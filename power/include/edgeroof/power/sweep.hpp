// `edgeroof sweep`: a child command (edgeroof-bench) run once per power mode, one results file per
// mode. Each mode is entered through a ModeSession (apply, verify with patience, settle); the sweep
// is resumable (modes with a results file are skipped), failures are recorded in DIR/failed.json,
// and the mode found at the start is restored at the end, on SIGINT/SIGTERM and on exceptions.
#pragma once

#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/settle.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace edgeroof::power {

struct SweepOptions {
  std::filesystem::path out_dir;
  std::string bench;                    // edgeroof-bench path
  std::vector<std::string> bench_args;  // the user's flags after "--"
  std::optional<std::string> root;      // passed on as --root= when not "/"
  bool dry_run = false;
  SettleOptions settle;
  std::function<std::vector<double>()> read_temps_C;    // default: no zones
  std::function<std::optional<double>()> read_power_W;  // default: no sensor
  std::function<void(double)> sleep_s;                  // default: sleeps
  std::function<bool()> stop_requested;                 // default: never
};

struct SweepSummary {
  int done = 0;
  int skipped = 0;  // results file already there
  int failed = 0;
  bool interrupted = false;
};

// "power_mode.key=...,power_mode.name=...,...": the mode as --benchmark_context (absent = unknown).
// `clock_settle_s` is how long the clocks took to read back as the mode's after the first write
// (power_mode.clock_settle_s, measured; absent where nothing was applied).
[[nodiscard]] std::string mode_context(const PowerMode& mode, const std::optional<SettleResult>& settled = std::nullopt,
                                       std::optional<double> clock_settle_s = std::nullopt);

// The argv of edgeroof-bench for one mode.
[[nodiscard]] std::vector<std::string> bench_argv(const PowerMode& mode, const SweepOptions& options,
                                                  const std::optional<SettleResult>& settled = std::nullopt,
                                                  std::optional<double> clock_settle_s = std::nullopt);

// Runs the sweep. `controller` is nullptr for `--modes current` (nothing is applied or restored).
// After each apply, the clocks are read back until they match, within the controller's patience().
// Progress and ETA go to `log`; the dry run prints the writes and the bench command lines there.
[[nodiscard]] SweepSummary run_sweep(ModeController* controller, const std::vector<PowerMode>& modes,
                                     const SweepOptions& options, std::ostream& log);

}  // namespace edgeroof::power
