#include "edgeroof/power/sweep.hpp"

#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <thread>

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

std::string format_number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string format_duration(double s) {
  const long total = std::lround(s);
  if (total < 60) return std::to_string(total) + " s";
  if (total < 3600) return std::to_string(total / 60) + " min " + std::to_string(total % 60) + " s";
  return std::to_string(total / 3600) + " h " + std::to_string((total % 3600) / 60) + " min";
}

std::string joined(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : sep) + p;
  return s;
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

std::vector<double> read_thermal_zones_C(const Root& root) {
  std::vector<double> temps;
  for (const auto& name : root.list("/sys/class/thermal")) {
    if (name.rfind("thermal_zone", 0) != 0) continue;
    const auto milli = root.try_read_int("/sys/class/thermal/" + name + "/temp");
    // Disabled zones read negative or absurd values on some boards; they say nothing about heat.
    if (milli && *milli > -40000 && *milli < 200000) temps.push_back(static_cast<double>(*milli) / 1000.0);
  }
  return temps;
}

SettleResult settle(const SettleOptions& options, const std::function<std::vector<double>()>& read_temps_C,
                    const std::function<std::optional<double>()>& read_power_W,
                    const std::function<void(double)>& sleep_s, const std::function<bool()>& stop) {
  SettleResult r;
  std::deque<double> window;
  const int samples = std::max(2, options.power_samples);
  for (;;) {
    const auto temps = read_temps_C ? read_temps_C() : std::vector<double>{};
    if (!temps.empty()) r.max_temp_C = *std::max_element(temps.begin(), temps.end());
    const bool cool = !r.max_temp_C || *r.max_temp_C < options.max_temp_C;
    const auto power = read_power_W ? read_power_W() : std::nullopt;
    bool steady = true;
    if (power) {
      window.push_back(*power);
      if (static_cast<int>(window.size()) > samples) window.pop_front();
      const auto [lo, hi] = std::minmax_element(window.begin(), window.end());
      const double mean = std::accumulate(window.begin(), window.end(), 0.0) / static_cast<double>(window.size());
      steady =
          static_cast<int>(window.size()) == samples && (*hi - *lo) <= std::max(options.power_tolerance * mean, 0.1);
      if (steady) r.idle_power_W = mean;
    }
    if (cool && steady) {
      r.settled = true;
      return r;
    }
    if (r.waited_s >= options.timeout_s || (stop && stop())) {
      if (!cool)
        r.reason = "hottest thermal zone at " + format_number(*r.max_temp_C, 1) + " °C, limit " +
                   format_number(options.max_temp_C, 1);
      if (!steady)
        r.reason += std::string(r.reason.empty() ? "" : "; ") + "idle power not stable within " +
                    format_number(100 * options.power_tolerance, 0) + "%";
      return r;
    }
    sleep_s(options.poll_s);
    r.waited_s += options.poll_s;
  }
}

std::string mode_context(const PowerMode& mode, const std::optional<SettleResult>& settled,
                         std::optional<double> clock_settle_s) {
  std::vector<std::string> kv{"power_mode.key=" + context_safe(mode.key), "power_mode.name=" + context_safe(mode.name)};
  if (mode.id) kv.push_back("power_mode.id=" + std::to_string(*mode.id));
  if (mode.gpu_max_hz) kv.push_back("power_mode.gpu_hz=" + std::to_string(*mode.gpu_max_hz));
  if (mode.emc_max_hz) kv.push_back("power_mode.emc_hz=" + std::to_string(*mode.emc_max_hz));
  if (mode.cpu_max_khz) kv.push_back("power_mode.cpu_khz=" + std::to_string(*mode.cpu_max_khz));
  if (mode.cpu_online) kv.push_back("power_mode.cpu_online=" + std::to_string(*mode.cpu_online));
  if (mode.tpc_pg_mask) kv.push_back("power_mode.tpc_pg_mask=" + std::to_string(*mode.tpc_pg_mask));
  if (clock_settle_s) kv.push_back("power_mode.clock_settle_s=" + format_number(*clock_settle_s, 6));
  if (settled) {
    kv.push_back(std::string("power_mode.settled=") + (settled->settled ? "true" : "false"));
    if (settled->idle_power_W) kv.push_back("power_mode.idle_power_W=" + format_number(*settled->idle_power_W, 3));
  }
  return joined(kv, ",");
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

std::optional<NvpmodelConf> find_nvpmodel_conf(const Root& root, const std::optional<std::string>& host_path) {
  if (host_path) return load_nvpmodel_conf(*host_path);
  const auto path = root.resolve("/etc/nvpmodel.conf");
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  return load_nvpmodel_conf(path.string());
}

std::vector<PowerMode> select_modes(const std::string& spec, const FrequencyTables& tables,
                                    const std::optional<NvpmodelConf>& conf) {
  if (spec == "current") return {};
  if (spec.rfind("grid:", 0) == 0) return enumerate_grid(parse_grid_spec(spec.substr(5)), tables);
  if (spec.rfind("nvpmodel:", 0) != 0)
    throw ModeError("--modes '" + spec + "': expected current, nvpmodel:all, nvpmodel:ID,ID or grid:SPEC");
  if (!conf) throw ModeError("--modes " + spec + ": no nvpmodel.conf (not a Jetson?); name one with --nvpmodel-conf");
  std::vector<PowerMode> modes;
  const std::string list = spec.substr(9);
  if (list == "all") {
    if (conf->modes.empty()) throw ModeError("--modes " + spec + ": " + conf->source + " has no POWER_MODEL section");
    for (const auto& m : conf->modes) modes.push_back(to_power_mode(m, tables));
    return modes;
  }
  std::stringstream ids(list);
  std::string id;
  while (std::getline(ids, id, ',')) {
    const bool digits = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) throw ModeError("--modes " + spec + ": '" + id + "' is not a mode id");
    // nvpmodel's ids are ints: a larger one must not wrap around to another mode's.
    const auto n = parse_int64(id);
    if (!n || *n > INT_MAX)
      throw ModeError("--modes " + spec + ": id " + id + " is out of range (0 to " + std::to_string(INT_MAX) + ")");
    const auto* m = conf->find_mode(static_cast<int>(*n));
    if (m == nullptr) throw ModeError("--modes " + spec + ": " + conf->source + " has no POWER_MODEL ID=" + id);
    for (const auto& seen : modes) {
      if (seen.id == m->id) throw ModeError("--modes " + spec + ": id " + id + " given twice");
    }
    modes.push_back(to_power_mode(*m, tables));
  }
  if (modes.empty()) throw ModeError("--modes nvpmodel: needs 'all' or ids");
  return modes;
}

nlohmann::json mode_to_json(const PowerMode& mode) {
  nlohmann::json j = {{"key", mode.key}, {"name", mode.name}};
  if (mode.id) j["id"] = *mode.id;
  // Unknown is absent, never a made-up value.
  if (mode.cpu_online) j["cpu_online"] = *mode.cpu_online;
  if (mode.cpu_max_khz) j["cpu_max_khz"] = *mode.cpu_max_khz;
  if (mode.gpu_max_hz) j["gpu_max_hz"] = *mode.gpu_max_hz;
  if (mode.emc_max_hz) j["emc_max_hz"] = *mode.emc_max_hz;
  return j;
}

namespace {

enum class Outcome { done, failed, stopped };

// What the modes of one sweep share.
struct SweepRun {
  ModeController* controller;
  const SweepOptions& options;
  std::ostream& log;
  FailedList failed;
  std::function<bool()> stop;
  std::function<void(double)> sleep_s;

  [[nodiscard]] fs::path out_of(const PowerMode& m) const { return options.out_dir / (m.key + ".json"); }
  [[nodiscard]] bool has_results(const PowerMode& m) const {
    std::error_code ec;
    return fs::exists(out_of(m), ec);
  }
};

void remove_partial(const fs::path& out) {
  std::error_code ec;
  fs::remove(out.string() + ".partial", ec);
}

std::string verify_failure(const ClockWait& wait, double timeout_s) {
  if (wait.unreadable) return wait.diffs.at(0);
  return "clocks not in effect after " + format_number(timeout_s, 3) + " s: " + joined(wait.diffs, "; ");
}

// Apply, wait for the clocks, settle, bench: one mode of a run that is not a dry run.
Outcome run_mode(SweepRun& run, const PowerMode& mode, const std::string& tag) {
  const fs::path out = run.out_of(mode);
  remove_partial(out);
  const auto fail = [&](const std::string& stage, const std::string& reason) {
    run.failed.record(mode, stage, reason);
    run.log << tag << ": FAILED to " << stage << ": " << reason << "\n";
    return Outcome::failed;
  };
  std::optional<double> clock_settle_s;
  if (run.controller != nullptr) {
    const auto since = std::chrono::steady_clock::now();
    try {
      run.controller->apply(mode);
    } catch (const std::exception& e) {
      return fail("apply", e.what());
    }
    const auto wait = run.controller->await_mode(mode, since, run.stop);
    if (wait.stopped) return Outcome::stopped;
    if (!wait.diffs.empty()) return fail("verify", verify_failure(wait, run.controller->patience().timeout_s));
    clock_settle_s = wait.waited_s;
  }
  const auto settled =
      settle(run.options.settle, run.options.read_temps_C, run.options.read_power_W, run.sleep_s, run.stop);
  if (run.stop()) return Outcome::stopped;
  std::string state = settled.settled ? "settled" : "NOT settled (" + settled.reason + ")";
  state += " after " + format_duration(settled.waited_s);
  if (settled.max_temp_C) state += ", " + format_number(*settled.max_temp_C, 1) + " °C";
  if (settled.idle_power_W) state += ", idle " + format_number(*settled.idle_power_W, 2) + " W";
  const std::string clocks =
      clock_settle_s ? "applied, clocks in effect after " + format_number(*clock_settle_s, 3) + " s, " : "";
  run.log << tag << ": " << clocks << state << "; benchmarking\n";
  std::optional<int> status;
  try {
    ChildProcess child(bench_argv(mode, run.options, settled, clock_settle_s));
    status = child.wait(run.stop);
  } catch (const std::exception& e) {
    return fail("bench", e.what());
  }
  // A Ctrl-C at the terminal reaches the bench too, which then exits by itself: still a stop,
  // not a failure of the mode.
  if (!status || run.stop()) {
    remove_partial(out);
    return Outcome::stopped;
  }
  if (*status != 0 || !run.has_results(mode)) {
    remove_partial(out);
    return fail("bench", *status != 0 ? "edgeroof-bench exited with status " + std::to_string(*status)
                                      : "edgeroof-bench wrote no " + out.string());
  }
  run.failed.clear(mode.key);
  return Outcome::done;
}

}  // namespace

SweepSummary run_sweep(ModeController* controller, const std::vector<PowerMode>& modes, const SweepOptions& options,
                       std::ostream& log) {
  SweepSummary summary;
  if (!options.dry_run) fs::create_directories(options.out_dir);
  SweepRun run{controller,
               options,
               log,
               FailedList(options.out_dir / "failed.json"),
               [&options] { return options.stop_requested && options.stop_requested(); },
               options.sleep_s ? options.sleep_s : std::function<void(double)>([](double s) {
                 std::this_thread::sleep_for(std::chrono::duration<double>(s));
               })};
  const std::size_t total = modes.size();
  std::size_t left = 0;
  for (const auto& m : modes) left += run.has_results(m) ? 0 : 1;
  const bool control = controller != nullptr && !options.dry_run && left > 0;
  std::optional<RestoreGuard> guard;  // restores when an exception leaves this function
  if (control) {
    controller->save();
    guard.emplace(*controller);
  }
  double run_s = 0.0;
  for (std::size_t i = 0; i < total && !summary.interrupted; ++i) {
    const auto& mode = modes[i];
    const std::string tag = "[" + std::to_string(i + 1) + "/" + std::to_string(total) + "] " + mode.key;
    if (run.stop()) {
      summary.interrupted = true;
    } else if (run.has_results(mode)) {
      ++summary.skipped;
      log << tag << ": results already there, skipped\n";
    } else if (options.dry_run) {
      log << tag << "\n";
      if (controller != nullptr) controller->apply(mode);
      log << "run " << joined(bench_argv(mode, options), " ") << "\n";
    } else {
      const auto started = std::chrono::steady_clock::now();
      const Outcome outcome = run_mode(run, mode, tag);
      if (outcome == Outcome::stopped) {
        summary.interrupted = true;
        continue;
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
      log << tag << ": done in " << format_duration(this_s) << "; " << left << " to go, ETA " << format_duration(eta_s)
          << "\n";
    }
  }
  if (summary.interrupted) log << "sweep stopped; restoring the power mode found at the start\n";
  if (guard) {
    guard->dismiss();
    controller->restore();  // its errors reach the caller, unlike the guard's
  }
  return summary;
}

}  // namespace edgeroof::power
