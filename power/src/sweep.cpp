#include "edgeroof/power/sweep.hpp"

#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/power/mode_session.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>

namespace edgeroof::power {
namespace {

namespace fs = std::filesystem;

// Google Benchmark splits --benchmark_context at ',' and '='; a name from nvpmodel.conf must not.
std::string context_safe(std::string text) {
  for (char& c : text) {
    if (c == ',' || c == '=') c = '_';
  }
  return text;
}

std::string format_duration(double s) {
  const long total = std::lround(s);
  if (total < 60) return std::to_string(total) + " s";
  if (total < 3600) return std::to_string(total / 60) + " min " + std::to_string(total % 60) + " s";
  return std::to_string(total / 3600) + " h " + std::to_string((total % 3600) / 60) + " min";
}

// DIR/failed.json: {"failed": [{"key", "name", "stage", "reason"}]}, kept in mode order of the run.
class FailedList {
public:
  explicit FailedList(fs::path path) : m_path(std::move(path)) {
    std::error_code ec;
    if (!fs::exists(m_path, ec)) return;
    std::ifstream in(m_path);
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(in);
      for (const auto& f : doc.at("failed")) m_entries[f.at("key").get<std::string>()] = f;
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(m_path.string() + ": not a failed-modes file (" + e.what() + ")");
    }
  }
  void record(const PowerMode& mode, const std::string& stage, const std::string& reason) {
    m_entries[mode.key] = {{"key", mode.key}, {"name", mode.name}, {"stage", stage}, {"reason", reason}};
    save();
  }
  void clear(const std::string& key) {
    if (m_entries.erase(key) != 0) save();
  }

private:
  void save() const {
    std::error_code ec;
    if (m_entries.empty()) {
      fs::remove(m_path, ec);
      return;
    }
    nlohmann::json doc = {{"failed", nlohmann::json::array()}};
    for (const auto& [key, entry] : m_entries) doc["failed"].push_back(entry);
    atomic_write(m_path, doc.dump(2) + "\n");
  }
  fs::path m_path;
  std::map<std::string, nlohmann::json> m_entries;
};

}  // namespace

std::string mode_context(const PowerMode& mode, const std::optional<SettleResult>& settled,
                         std::optional<double> clock_settle_s) {
  std::vector<std::string> kv{"power_mode.key=" + context_safe(mode.key), "power_mode.name=" + context_safe(mode.name)};
  if (mode.id) kv.push_back("power_mode.id=" + std::to_string(*mode.id));
  if (mode.gpu_max_hz) kv.push_back("power_mode.gpu_hz=" + std::to_string(*mode.gpu_max_hz));
  if (mode.emc_max_hz) kv.push_back("power_mode.emc_hz=" + std::to_string(*mode.emc_max_hz));
  if (mode.cpu_max_khz) kv.push_back("power_mode.cpu_khz=" + std::to_string(*mode.cpu_max_khz));
  if (mode.cpu_online) kv.push_back("power_mode.cpu_online=" + std::to_string(*mode.cpu_online));
  if (mode.tpc_pg_mask) kv.push_back("power_mode.tpc_pg_mask=" + std::to_string(*mode.tpc_pg_mask));
  if (clock_settle_s) kv.push_back("power_mode.clock_settle_s=" + detail::fixed(*clock_settle_s, 6));
  if (settled) {
    kv.push_back(std::string("power_mode.settled=") + (settled->settled ? "true" : "false"));
    if (settled->idle_power_W) kv.push_back("power_mode.idle_power_W=" + detail::fixed(*settled->idle_power_W, 3));
  }
  return detail::joined(kv, ",");
}

std::vector<std::string> bench_argv(const PowerMode& mode, const SweepOptions& options,
                                    const std::optional<SettleResult>& settled, std::optional<double> clock_settle_s) {
  std::vector<std::string> argv{options.bench, "--benchmark_out=" + (options.out_dir / (mode.key + ".json")).string(),
                                "--benchmark_out_format=json",
                                "--benchmark_context=" + mode_context(mode, settled, clock_settle_s)};
  if (options.root && *options.root != "/") argv.push_back("--root=" + *options.root);
  argv.insert(argv.end(), options.bench_args.begin(), options.bench_args.end());
  return argv;
}

namespace {

enum class Outcome { done, failed, stopped };

// What the modes of one sweep share.
struct SweepRun {
  const SweepOptions& options;
  std::ostream& log;
  FailedList failed;

  [[nodiscard]] bool stop() const { return options.stop_requested && options.stop_requested(); }
  [[nodiscard]] fs::path out_of(const PowerMode& m) const { return options.out_dir / (m.key + ".json"); }
  [[nodiscard]] bool has_results(const PowerMode& m) const {
    std::error_code ec;
    return fs::exists(out_of(m), ec);
  }
  [[nodiscard]] std::string tag(const std::vector<PowerMode>& modes, std::size_t i) const {
    return "[" + std::to_string(i + 1) + "/" + std::to_string(modes.size()) + "] " + modes[i].key;
  }
  Outcome fail(const PowerMode& mode, const std::string& tag, const std::string& stage, const std::string& reason) {
    failed.record(mode, stage, reason);
    log << tag << ": FAILED to " << stage << ": " << reason << "\n";
    return Outcome::failed;
  }
};

SessionOptions session_options(const SweepRun& run) {
  return {run.options.settle, run.options.read_temps_C, run.options.read_power_W, run.options.sleep_s,
          [&run] { return run.stop(); }};
}

void remove_partial(const fs::path& out) {
  std::error_code ec;
  fs::remove(out.string() + ".partial", ec);
}

// "applied, clocks in effect after 0.012 s, settled after 3 s, 41.0 °C, idle 7.25 W".
std::string entry_text(const ModeEntry& entry) {
  const SettleResult& settled = entry.settled;
  std::string state = settled.settled ? "settled" : "NOT settled (" + settled.reason + ")";
  state += " after " + format_duration(settled.waited_s);
  if (settled.max_temp_C) state += ", " + detail::fixed(*settled.max_temp_C, 1) + " °C";
  if (settled.idle_power_W) state += ", idle " + detail::fixed(*settled.idle_power_W, 2) + " W";
  const std::string clocks =
      entry.clock_settle_s ? "applied, clocks in effect after " + detail::fixed(*entry.clock_settle_s, 3) + " s, " : "";
  return clocks + state;
}

// edgeroof-bench as a child in the mode entered; its results file or a recorded failure.
Outcome bench_mode(SweepRun& run, const PowerMode& mode, const ModeEntry& entry, const std::string& tag) {
  const fs::path out = run.out_of(mode);
  std::optional<int> status;
  try {
    ChildProcess child(bench_argv(mode, run.options, entry.settled, entry.clock_settle_s));
    status = child.wait([&run] { return run.stop(); });
  } catch (const std::exception& e) {
    return run.fail(mode, tag, "bench", e.what());
  }
  // A Ctrl-C at the terminal reaches the bench too, which then exits by itself: still a stop,
  // not a failure of the mode.
  if (!status || run.stop()) {
    remove_partial(out);
    return Outcome::stopped;
  }
  if (*status != 0 || !run.has_results(mode)) {
    remove_partial(out);
    return run.fail(mode, tag, "bench",
                    *status != 0 ? "edgeroof-bench exited with status " + std::to_string(*status)
                                 : "edgeroof-bench wrote no " + out.string());
  }
  run.failed.clear(mode.key);
  return Outcome::done;
}

// Enter the mode (apply, verify, settle), then bench: one mode of a run that is not a dry run.
Outcome run_mode(SweepRun& run, ModeSession& session, const PowerMode& mode, const std::string& tag) {
  remove_partial(run.out_of(mode));
  const ModeEntry entry = session.enter(mode);
  if (entry.status == ModeEntry::Status::stopped) return Outcome::stopped;
  if (entry.status == ModeEntry::Status::failed) return run.fail(mode, tag, entry.stage, entry.reason);
  run.log << tag << ": " << entry_text(entry) << "; benchmarking\n";
  return bench_mode(run, mode, entry, tag);
}

// The dry run: the writes (printed by the controller's io) and the bench command lines.
void dry_run(SweepRun& run, ModeController* controller, const std::vector<PowerMode>& modes, SweepSummary& summary) {
  for (std::size_t i = 0; i < modes.size(); ++i) {
    const auto& mode = modes[i];
    if (run.stop()) {
      summary.interrupted = true;
      return;
    }
    if (run.has_results(mode)) {
      ++summary.skipped;
      run.log << run.tag(modes, i) << ": results already there, skipped\n";
      continue;
    }
    run.log << run.tag(modes, i) << "\n";
    if (controller != nullptr) controller->apply(mode);
    run.log << "run " << detail::joined(bench_argv(mode, run.options), " ") << "\n";
  }
}

// Each mode without results in turn, with progress and ETA, until all are done or a stop.
// `session` is nullptr only when every mode has its results already.
void measure(SweepRun& run, ModeSession* session, const std::vector<PowerMode>& modes, std::size_t left,
             SweepSummary& summary) {
  double run_s = 0.0;
  for (std::size_t i = 0; i < modes.size(); ++i) {
    const auto& mode = modes[i];
    const std::string tag = run.tag(modes, i);
    if (run.stop()) {
      summary.interrupted = true;
      return;
    }
    if (run.has_results(mode)) {
      ++summary.skipped;
      run.log << tag << ": results already there, skipped\n";
      continue;
    }
    const auto started = std::chrono::steady_clock::now();
    const Outcome outcome = run_mode(run, *session, mode, tag);
    if (outcome == Outcome::stopped) {
      summary.interrupted = true;
      return;
    }
    --left;
    if (outcome == Outcome::failed) {
      ++summary.failed;
      continue;
    }
    ++summary.done;
    const double this_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    run_s += this_s;
    // ETA: the mean time of the modes run so far, times the modes still to run.
    const double eta_s = run_s / static_cast<double>(summary.done) * static_cast<double>(left);
    run.log << tag << ": done in " << format_duration(this_s) << "; " << left << " to go, ETA "
            << format_duration(eta_s) << "\n";
  }
}

}  // namespace

SweepSummary run_sweep(ModeController* controller, const std::vector<PowerMode>& modes, const SweepOptions& options,
                       std::ostream& log) {
  SweepSummary summary;
  if (!options.dry_run) fs::create_directories(options.out_dir);
  SweepRun run{options, log, FailedList(options.out_dir / "failed.json")};
  if (options.dry_run) {
    dry_run(run, controller, modes, summary);
    if (summary.interrupted) log << "sweep stopped; restoring the power mode found at the start\n";
    return summary;
  }
  std::size_t left = 0;
  for (const auto& m : modes) left += run.has_results(m) ? 0 : 1;
  // With every mode done already the machine is not touched at all.
  std::optional<ModeSession> session;
  if (left > 0) session.emplace(controller, session_options(run));
  measure(run, session ? &*session : nullptr, modes, left, summary);
  if (summary.interrupted) log << "sweep stopped; restoring the power mode found at the start\n";
  if (session) session->finish();
  return summary;
}

}  // namespace edgeroof::power
