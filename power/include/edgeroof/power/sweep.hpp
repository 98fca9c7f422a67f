// `edgeroof sweep`: run edgeroof-bench once per power mode, one results file per mode. For each
// mode: apply, verify, settle, bench as a child; resumable (modes with a results file are skipped),
// failures recorded in DIR/failed.json, the mode found at the start restored at the end, on
// SIGINT/SIGTERM and on exceptions.
#pragma once

#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace edgeroof::power {

struct SettleOptions {
  double timeout_s = 120.0;
  double poll_s = 1.0;
  double max_temp_C = 50.0;       // every thermal zone below this
  int power_samples = 5;          // consecutive idle-power readings that must agree ...
  double power_tolerance = 0.05;  // ... within this fraction of their mean (at least 0.1 W)
};

struct SettleResult {
  bool settled = false;
  double waited_s = 0.0;
  std::optional<double> max_temp_C;
  std::optional<double> idle_power_W;  // mean of the last agreeing readings
  std::string reason;                  // why it did not settle
};

// Temperatures of /sys/class/thermal/thermal_zone*/temp (millidegrees) under root, in °C.
[[nodiscard]] std::vector<double> read_thermal_zones_C(const Root& root);

// Polls temperatures and idle power until both are settled or the timeout passes. `read_power_W`
// may be empty or return nullopt (no sensor): then only temperatures count. `sleep_s` and `stop`
// are injectable for tests.
[[nodiscard]] SettleResult settle(const SettleOptions& options,
                                  const std::function<std::vector<double>()>& read_temps_C,
                                  const std::function<std::optional<double>()>& read_power_W,
                                  const std::function<void(double)>& sleep_s, const std::function<bool()>& stop);

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

// The nvpmodel.conf to use: `host_path` when given (it must parse), else ROOT/etc/nvpmodel.conf
// when it exists; nullopt otherwise (not a Jetson).
[[nodiscard]] std::optional<NvpmodelConf> find_nvpmodel_conf(const Root& root,
                                                             const std::optional<std::string>& host_path);

// The modes of --modes SPEC: `nvpmodel:all`, `nvpmodel:ID,ID`, `grid:SPEC`; `current` gives an
// empty list (the caller runs the mode found). Throws ModeError, also for a conf without
// modes, an id outside 0..INT_MAX or given twice, and a grid of more than max_grid_modes.
[[nodiscard]] std::vector<PowerMode> select_modes(const std::string& spec, const FrequencyTables& tables,
                                                  const std::optional<NvpmodelConf>& conf);

// The mode as `modes --format json` lists it.
[[nodiscard]] nlohmann::json mode_to_json(const PowerMode& mode);

// Runs the sweep. `controller` is nullptr for `--modes current` (nothing is applied or restored).
// After each apply, the clocks are read back until they match, within the controller's patience().
// Progress and ETA go to `log`; the dry run prints the writes and the bench command lines there.
[[nodiscard]] SweepSummary run_sweep(ModeController* controller, const std::vector<PowerMode>& modes,
                                     const SweepOptions& options, std::ostream& log);

}  // namespace edgeroof::power
