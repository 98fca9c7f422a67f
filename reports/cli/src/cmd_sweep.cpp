// `edgeroof sweep`: edgeroof-bench in every power mode, one results file per mode.
#include "board.hpp"
#include "commands.hpp"
#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/power/mode_select.hpp"
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/power/shard.hpp"
#include "edgeroof/power/sweep.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "sweep_adaptive.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

namespace edgeroof::cli {
namespace {

namespace fs = std::filesystem;

// The sweep's options from the command line; every bad value is a usage error, found before the
// machine is touched or anything is written.
power::SweepOptions options_of(const Args& args, power::Patience& patience) {
  const auto out = args.get("--out");
  if (!out) throw UsageError("--out DIR is required");
  for (const auto& a : args.passthrough) {
    for (const char* own : {"--benchmark_out=", "--benchmark_out_format=", "--benchmark_context="}) {
      if (a.rfind(own, 0) == 0)
        throw UsageError(std::string(own) + "... is set by sweep for each mode; leave it out of the bench flags");
    }
  }
  power::SweepOptions options;
  options.out_dir = *out;
  options.bench_args = args.passthrough;
  board_options_of(args, options, patience);
  return options;
}

// The modes of --modes-file as this machine defines them: each key is looked up among the modes of
// nvpmodel.conf and the full grid of the frequency tables, so a mode is applied as `modes` lists it.
std::vector<power::PowerMode> modes_of_file(const std::string& file, const power::FrequencyTables& tables,
                                            const std::optional<power::NvpmodelConf>& conf) {
  const auto listed = reports::load_modes_file(file);
  std::map<std::string, power::PowerMode> machine;
  if (conf) {
    for (const auto& m : conf->modes) {
      auto mode = power::to_power_mode(m, tables);
      machine.emplace(mode.key, mode);
    }
  }
  for (auto& m : power::enumerate_grid(power::GridSpec{}, tables)) machine.emplace(m.key, std::move(m));
  std::vector<power::PowerMode> modes;
  for (const auto& k : listed) {
    const auto it = machine.find(k.key);
    if (it == machine.end())
      throw reports::InputError(file + ": mode " + echo(k.key) +
                                " is neither in nvpmodel.conf nor in the grid of this machine");
    modes.push_back(it->second);
  }
  return modes;
}

// --plan adaptive: --budget and --next; the candidates from --modes SPEC or --modes-file.
reports::PlanOptions adaptive_options_of(const Args& args) {
  const auto plan = args.get("--plan");
  if (!plan) {
    for (const char* o : {"--budget", "--next", "--modes-file"})
      if (args.has(o)) throw UsageError(std::string(o) + " goes with --plan adaptive");
    return {};
  }
  if (*plan != "adaptive") throw UsageError("--plan takes adaptive, not '" + echo(*plan) + "'");
  if (args.has("--modes") == args.has("--modes-file"))
    throw UsageError("--plan adaptive takes its candidates from --modes SPEC or --modes-file FILE (one of them)");
  if (args.get("--modes") == std::string("current"))
    throw UsageError("--plan adaptive needs modes to choose from, not current");
  reports::PlanOptions options;
  const auto budget = args.integer("--budget", 1, static_cast<std::int64_t>(power::max_grid_modes));
  if (!budget) throw UsageError("--plan adaptive needs --budget N (modes to measure in all)");
  options.budget = static_cast<std::size_t>(*budget);
  if (const auto next = args.integer("--next", 1, static_cast<std::int64_t>(power::max_grid_modes)))
    options.next = static_cast<std::size_t>(*next);
  return options;
}

constexpr const char* kShardIndexVar = "EDGEROOF_SHARD_INDEX";
constexpr const char* kShardCountVar = "EDGEROOF_SHARD_COUNT";

std::string shard_rule() {
  return "K/N with N from 1 to " + std::to_string(power::max_shards) + " and K from 0 to N-1";
}

// An empty variable counts as unset: a CI job outside its matrix expands ${{ matrix.shard }} to "".
const char* env_of(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// --shard K/N, else EDGEROOF_SHARD_INDEX and EDGEROOF_SHARD_COUNT; nullopt when neither is given.
// Both given must agree: a flag that silently won over the variables could send two boards to the
// same share and leave another share unmeasured.
std::optional<power::Shard> shard_of_args(const Args& args) {
  std::optional<power::Shard> flag;
  if (const auto text = args.get("--shard")) {
    flag = power::parse_shard(*text);
    if (!flag) throw UsageError("--shard takes " + shard_rule() + ", not '" + echo(*text) + "'");
  }
  const char* index = env_of(kShardIndexVar);
  const char* count = env_of(kShardCountVar);
  if (index == nullptr && count == nullptr) return flag;
  if (index == nullptr || count == nullptr)
    throw UsageError(std::string(index ? kShardIndexVar : kShardCountVar) + " is set without " +
                     (index ? kShardCountVar : kShardIndexVar));
  const auto env = power::make_shard(index, count);
  if (!env)
    throw UsageError(std::string(kShardIndexVar) + "=" + echo(index) + " " + kShardCountVar + "=" + echo(count) +
                     ": a shard is " + shard_rule());
  if (flag && (flag->index != env->index || flag->count != env->count))
    throw UsageError("--shard " + flag->text() + " and " + kShardIndexVar + "/" + kShardCountVar + " " + env->text() +
                     " disagree");
  return env;
}

// This board's share of the modes, logged as "shard K/N: M of T modes" (with their keys in a dry
// run, so the split can be checked before any board is touched).
std::vector<power::PowerMode> share_of(const std::vector<power::PowerMode>& modes, const power::Shard& shard,
                                       bool dry_run, std::ostream& log) {
  auto share = power::shard_of(modes, shard);
  log << "shard " << shard.text() << ": " << share.size() << " of " << modes.size() << " modes";
  if (share.empty()) log << "; nothing to measure";
  if (dry_run && !share.empty()) {
    std::string keys;
    for (const auto& m : share) keys += (keys.empty() ? "" : ", ") + m.key;
    log << ": " << keys;
  }
  log << "\n";
  return share;
}

int report(const power::SweepSummary& summary, const std::string& out, std::ostream& log) {
  log << "sweep: " << summary.done << " done, " << summary.skipped << " already there, " << summary.failed << " failed";
  if (summary.failed > 0) log << " (reasons in " << (fs::path(out) / "failed.json").string() << ")";
  log << "; results in " << out << "\n";
  if (summary.interrupted)
    return 128 + (power::StopSignals::signal_number() != 0 ? power::StopSignals::signal_number() : SIGINT);
  return summary.failed > 0 ? 1 : 0;
}

int run(const Args& args) {
  const auto modes_spec = args.get("--modes");
  const bool adaptive = args.has("--plan");
  const auto plan = adaptive_options_of(args);
  if (!modes_spec && !adaptive)
    throw UsageError("--modes is required (current, nvpmodel:all, nvpmodel:ID,ID or grid:SPEC)");
  const auto shard = shard_of_args(args);
  if (shard && modes_spec == std::string("current"))
    throw UsageError("--shard splits a list of modes; --modes current is one mode");
  power::Patience patience;
  power::SweepOptions options = options_of(args, patience);
  const bool dry_run = options.dry_run;
  Board board = open_board(args, options, patience);
  const auto& conf = board.conf;
  const auto& tables = board.tables;
  auto modes = modes_spec ? power::select_modes(*modes_spec, tables, conf)
                          : modes_of_file(*args.get("--modes-file"), tables, conf);
  add_settle_readers(board, options, "edgeroof sweep");
  std::ostream& log = dry_run ? std::cout : std::cerr;
  const std::string out = options.out_dir.string();
  power::ModeController* controller = board.controller.get();
  const bool current = modes.empty();
  if (current) modes.push_back(controller->current());

  power::StopSignals signals;
  options.stop_requested = [] { return power::StopSignals::requested(); };
  if (adaptive) return run_adaptive(*controller, AdaptivePlan{modes, plan, shard}, options, log);
  if (shard) {
    modes = share_of(modes, *shard, dry_run, log);
    if (modes.empty()) return 0;
  }
  const auto summary = power::run_sweep(current ? nullptr : controller, modes, options, log);
  if (dry_run) return 0;
  return report(summary, out, log);
}

}  // namespace

const Command& sweep_command() {
  static const Command cmd{
      "sweep",
      "run edgeroof-bench in each power mode (apply, verify, settle, bench, restore), one JSON per mode",
      "edgeroof sweep --modes current|nvpmodel:all|nvpmodel:ID,ID|grid:SPEC --out DIR [options] [-- BENCH FLAGS]\n"
      "       edgeroof sweep --plan adaptive --modes SPEC|--modes-file FILE --budget N [--next K] --out DIR ...\n"
      "       edgeroof sweep ... --shard K/N   (or EDGEROOF_SHARD_INDEX=K EDGEROOF_SHARD_COUNT=N)",
      "For each mode: apply it, read the clocks back until they follow (a driver changes them\n"
      "milliseconds to seconds after a write) or --verify-timeout-s passes, recording the time taken\n"
      "as power_mode.clock_settle_s; wait until every thermal zone is below --settle-temp-c and\n"
      "(with a power sensor) five half-second idle-power readings agree within 5%\n"
      "(or --settle-timeout-s passes; the results then say power_mode.settled=false),\n"
      "and run edgeroof-bench with --benchmark_out=DIR/<mode key>.json and the mode as power_mode.*\n"
      "context. Modes whose JSON exists are skipped, so a rerun completes an interrupted sweep. A mode\n"
      "that cannot be applied, verified or benchmarked is recorded in DIR/failed.json with the\n"
      "reason and the sweep goes on (exit status 1 at the end). The mode found at the start is\n"
      "restored at the end, on SIGINT/SIGTERM (exit status 130/143) and on errors. Predefined modes\n"
      "are applied with `nvpmodel -m ID` from PATH, and only with --root /. Grid SPEC: see\n"
      "'edgeroof modes --help'.\n\n"
      "--plan adaptive measures only the modes 'edgeroof plan' picks among the candidates (--modes\n"
      "SPEC, or --modes-file FILE from 'edgeroof modes --format json'), in rounds: measure --next K\n"
      "modes (default: the rest of --budget), fit every result in DIR, model every candidate and\n"
      "write DIR/rooflines.json (as 'fit --predict-modes' does), plan again. It stops when --budget\n"
      "modes are measured, or when no watched prediction (ResNet-50 and BERT-large latency and\n"
      "energy in every mode) moved by 1% in a round, and says which. A rerun with the same --out\n"
      "goes on where it stopped; after SIGINT/SIGTERM no further round starts.\n\n"
      "--shard K/N (or EDGEROOF_SHARD_INDEX=K and EDGEROOF_SHARD_COUNT=N; K counts from 0, as\n"
      "SLURM_ARRAY_TASK_ID and a CI matrix index do) measures this board's share, so that N boards of\n"
      "one kind split a sweep: of the modes in the order --modes gives them (the conf's, or the grid's\n"
      "by cores, CPU, GPU and EMC clock: the same on every board of the kind; --modes-file: the file's),\n"
      "the ones at positions i with i mod N = K. The shares are disjoint, together they are the\n"
      "list, and they differ in size by one at most; the log says \"shard K/N: M of T modes\" (a dry\n"
      "run lists them). Flag and variables given both must agree; an empty variable counts as unset.\n"
      "With --plan adaptive every shard plans from the results in DIR (a folder the boards share)\n"
      "and measures its share of each round's plan, split the same way; a shard whose share of a\n"
      "round is empty stops. 'edgeroof fit' pools the results of a mode measured twice and says so.",
      {{"--modes", "SPEC", "current, nvpmodel:all, nvpmodel:ID,ID or grid:SPEC"},
       {"--plan", "adaptive", "measure the modes the planner picks, in rounds, until the budget or convergence"},
       {"--modes-file", "FILE", "with --plan adaptive: the candidates (edgeroof modes --format json)"},
       {"--budget", "N", "with --plan adaptive: modes to measure in all, the measured ones included"},
       {"--next", "K", "with --plan adaptive: modes per round (default: the rest of the budget)"},
       {"--shard", "K/N", "this board's share: the modes at positions K, K+N, K+2N, ... (K from 0)"},
       {"--out|-o", "DIR", "directory of the results files (created)"},
       {"--root", "DIR", "read and write sysfs and /etc under DIR instead of /"},
       {"--nvpmodel-conf", "FILE", "nvpmodel.conf to read (default DIR/etc/nvpmodel.conf)"},
       {"--bench", "PATH", "edgeroof-bench to run (default: the one next to edgeroof, else in its build tree)"},
       {"--verify-timeout-s", "S", "longest wait for the clocks to follow a mode or the restore (default 2)"},
       {"--settle-timeout-s", "N", "longest wait for a mode to settle (default 120)"},
       {"--settle-temp-c", "C", "settled when every thermal zone is below C (default 50)"},
       {"--dry-run", "", "print the writes and bench command lines; change nothing"}},
      true,
      run};
  return cmd;
}

}  // namespace edgeroof::cli
