#include "tune_verify.hpp"

#include "board.hpp"
#include "edgeroof/dnn/zoo.hpp"
#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/sweep.hpp"
#include "edgeroof/results/names.hpp"
#include "edgeroof/results/reader.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

namespace edgeroof::cli {
namespace {

namespace fs = std::filesystem;

// One mode to verify: the roles it plays (chosen, fastest, baseline), its prediction and how the
// board applies it.
struct VerifiedMode {
  std::vector<std::string> roles;
  reports::ModeCost predicted;
  power::PowerMode mode;
  std::string applied_as;  // "nvpmodel -m 0", "grid cores=12;cpu=...": for the reader
};

struct Measured {
  double latency_s = 0.0;
  std::optional<double> energy_J;  // without a sensor there is none
  bool throttled = false;
};

// The bench's phase of the workload's: inference, train_sgd, train_adam; nullopt for another.
std::optional<std::string> bench_phase(const std::string& phase) {
  if (phase == "inference") return std::string("inference");
  if (phase == "training:sgd") return std::string("train_sgd");
  if (phase == "training:adam") return std::string("train_adam");
  return std::nullopt;
}

bool in_zoo(const std::string& name) {
  const auto& zoo = dnn::zoo();
  return std::any_of(zoo.begin(), zoo.end(), [&name](const dnn::ZooModel& m) { return m.name == name; });
}

// What edgeroof-bench's model benchmark runs is --models, --model-batch and --model-phase: a
// workload counted any other way would be compared with a different run.
void check_workload(const Args& args, const dnn::Workload& workload) {
  const auto model = args.get("--model");
  if (!model || !in_zoo(*model))
    throw UsageError(
        "--verify runs a zoo model in edgeroof-bench: name it with --model NAME (see 'edgeroof model "
        "--list'), not an ONNX file or --workload table");
  if (!bench_phase(workload.phase))
    throw UsageError("--verify: edgeroof-bench runs inference, --train sgd and --train adam, not " + workload.phase);
  for (const char* o : {"--seq", "--unfused-attention", "--l2-bytes"}) {
    if (args.has(o)) throw UsageError(std::string("--verify: edgeroof-bench's model benchmark has no ") + o);
  }
  if (workload.dtype != "fp32")
    throw UsageError("--verify: edgeroof-bench's model benchmark runs fp32, not --dtype " + workload.dtype);
}

const reports::RooflineMode& roofline_mode(const reports::Rooflines& r, const std::string& key) {
  for (const auto& m : r.modes) {
    if (m.key == key) return m;
  }
  throw reports::InputError("mode " + key + " vanished from the rooflines");  // cannot happen: costs come from r
}

// A grid axis of the mode's knob; with no knob, the machine's table must be empty (the axis is left
// as it is), else the mode is not one grid mode.
template <typename T>
std::optional<std::vector<T>> axis(const std::string& key, const char* knob, const std::optional<T>& value,
                                   bool has_table) {
  if (value) return std::vector<T>{*value};
  if (has_table)
    throw reports::InputError("--verify: mode " + key + " records no " + knob +
                              " (power_mode.* in its results): it cannot be applied as one grid mode");
  return std::nullopt;
}

// The mode as this board applies it: its nvpmodel id from the board's nvpmodel.conf, else its knobs
// as one grid mode (checked against the board's frequency tables).
VerifiedMode applicable(const reports::RooflineMode& m, const Board& board) {
  VerifiedMode v;
  if (m.id) {
    const power::NvpmodelMode* conf_mode = board.conf ? board.conf->find_mode(*m.id) : nullptr;
    if (conf_mode == nullptr)
      throw reports::InputError("--verify: mode " + m.key + " is nvpmodel id " + std::to_string(*m.id) +
                                ", which the board's nvpmodel.conf does not have");
    v.mode = power::to_power_mode(*conf_mode, board.tables);
    v.applied_as = "nvpmodel -m " + std::to_string(*m.id);
  } else {
    if (!m.cpu_online && !m.cpu_khz && !m.gpu_hz && !m.emc_hz)
      throw reports::InputError("--verify: mode " + m.key +
                                " has no nvpmodel id and no knobs (power_mode.* in its results): it cannot be applied");
    if (m.tpc_pg_mask && *m.tpc_pg_mask != 0)
      throw reports::InputError("--verify: mode " + m.key +
                                " switches TPCs off without an nvpmodel id: grid modes switch every TPC on");
    power::GridSpec spec;
    spec.cores = axis<int>(m.key, "cpu_online", m.cpu_online, board.tables.cpu_count > 0);
    spec.cpu_khz = axis<std::int64_t>(m.key, "cpu_khz", m.cpu_khz, !board.tables.cpu_khz.empty());
    spec.gpu_hz = axis<std::int64_t>(m.key, "gpu_hz", m.gpu_hz, !board.tables.gpu_hz.empty());
    spec.emc_hz = axis<std::int64_t>(m.key, "emc_hz", m.emc_hz, !board.tables.emc_hz.empty());
    std::vector<power::PowerMode> grid;
    try {
      grid = power::enumerate_grid(spec, board.tables);
    } catch (const power::ModeError& e) {
      throw reports::InputError("--verify: mode " + m.key + " cannot be applied on this board: " + e.what());
    }
    if (grid.size() != 1) throw reports::InputError("--verify: mode " + m.key + " is not one grid mode of this board");
    v.mode = grid.front();
    v.applied_as =
        "grid " + power::grid_key(v.mode.cpu_online, v.mode.cpu_max_khz, v.mode.gpu_max_hz, v.mode.emc_max_hz);
  }
  // Its results file and context carry the key the rooflines know it by.
  v.mode.key = m.key;
  v.mode.name = m.name;
  return v;
}

// Chosen, fastest, baseline: each mode once, in that order, with every role it plays.
std::vector<VerifiedMode> modes_to_verify(const TuneDecision& d, const Board& board) {
  std::vector<std::pair<std::string, const reports::ModeCost*>> roles = {{"chosen", &d.result.chosen},
                                                                         {"fastest", &d.result.fastest}};
  if (d.result.baseline) roles.emplace_back("baseline", &d.result.baseline->mode);
  std::vector<VerifiedMode> out;
  for (const auto& role : roles) {
    const auto same = std::find_if(out.begin(), out.end(),
                                   [&role](const VerifiedMode& v) { return v.predicted.key == role.second->key; });
    if (same != out.end()) {
      same->roles.push_back(role.first);
      continue;
    }
    VerifiedMode v = applicable(roofline_mode(d.rooflines, role.second->key), board);
    v.roles = {role.first};
    v.predicted = *role.second;
    out.push_back(std::move(v));
  }
  return out;
}

std::string model_benchmark(const TuneDecision& d) {
  return results::format_name(
      results::ModelName{d.predict.backend, d.workload.model, *bench_phase(d.workload.phase), d.workload.batch});
}

std::vector<std::string> bench_args(const TuneDecision& d) {
  return {"--models=" + d.workload.model, "--model-batch=" + std::to_string(d.workload.batch),
          "--model-phase=" + *bench_phase(d.workload.phase), "--benchmark_filter=^model/"};
}

// A folder of its own under the temp dir, removed (with what the bench wrote) when it goes.
class TempDir {
public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "edgeroof-verify-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw reports::InputError("cannot create a folder in " + pattern);
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return m_path; }

private:
  fs::path m_path;
};

// The model benchmark of one results file: medians of its repetitions' time and energy.
Measured measured_of(const fs::path& file, const std::string& benchmark, const std::string& key) {
  const auto results = results::load_results(file);
  if (const auto k = results.context_value("power_mode.key"); k && *k != key)
    throw reports::InputError(file.string() + ": power_mode.key is " + results::excerpt(*k) + ", not " + key);
  const auto by_name = results::repetitions_by_name(results);
  const auto it = by_name.find(benchmark);
  if (it == by_name.end() || it->second.empty())
    throw reports::InputError(file.string() + ": no benchmark " + benchmark + " (edgeroof-bench ran no model)");
  Measured m;
  std::vector<double> times, energies;
  for (const auto* r : it->second) {
    if (!(r->real_time_s > 0.0))
      throw reports::InputError(file.string() + ": " + benchmark + ": real_time is not positive");
    times.push_back(r->real_time_s);
    if (const auto e = r->counter("energy_J")) energies.push_back(*e);
    m.throttled = m.throttled || r->throttled();
  }
  m.latency_s = results::median(times);
  if (energies.size() == times.size()) m.energy_J = results::median(energies);
  return m;
}

nlohmann::json figures_json(double latency_s, const std::optional<double>& energy_J) {
  return {{"latency_s", latency_s}, {"energy_J", energy_J ? nlohmann::json(*energy_J) : nlohmann::json(nullptr)}};
}

double error_pct(double predicted, double measured) { return 100.0 * (predicted - measured) / measured; }

std::string pct_text(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%+.1f%%", *v);
  return buf;
}

// What was found against what was predicted: per mode, the saving, and the bound.
struct Comparison {
  const TuneDecision& d;
  const std::vector<VerifiedMode>& modes;
  const std::vector<Measured>& measured;
  std::string benchmark, results_dir;

  [[nodiscard]] std::size_t index_of(const std::string& role) const {
    for (std::size_t i = 0; i < modes.size(); ++i) {
      if (std::find(modes[i].roles.begin(), modes[i].roles.end(), role) != modes[i].roles.end()) return i;
    }
    return modes.size();
  }
};

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::optional<double> energy_error(const VerifiedMode& v, const Measured& m) {
  if (!m.energy_J || !v.predicted.energy_J) return std::nullopt;
  return error_pct(*v.predicted.energy_J, *m.energy_J);
}

// Whether the chosen mode kept the bound as measured: --max-slowdown against the fastest mode's
// measured latency, --max-latency-ms itself, --max-power-W by measured power (needs energy).
struct BoundCheck {
  std::string what;
  std::optional<double> limit, value;
  [[nodiscard]] std::optional<bool> held() const {
    if (!limit || !value) return std::nullopt;
    return *value <= *limit;
  }
};

BoundCheck bound_check(const Comparison& c) {
  const Measured& chosen = c.measured[c.index_of("chosen")];
  const Measured& fastest = c.measured[c.index_of("fastest")];
  using Kind = reports::TuneConstraint::Kind;
  switch (c.d.constraint.kind) {
  case Kind::max_slowdown:
    return {"latency_s", fastest.latency_s * (1.0 + c.d.constraint.value), chosen.latency_s};
  case Kind::max_latency:
    return {"latency_s", c.d.constraint.value, chosen.latency_s};
  case Kind::max_power:
    return {"power_W", c.d.constraint.value,
            chosen.energy_J ? std::optional<double>(*chosen.energy_J / chosen.latency_s) : std::nullopt};
  }
  return {};
}

// The saving of the chosen mode against the baseline, measured; nullopt without a baseline or energy.
std::optional<std::pair<double, double>> measured_saving(const Comparison& c) {
  const std::size_t b = c.index_of("baseline");
  if (b == c.modes.size()) return std::nullopt;
  const Measured& chosen = c.measured[c.index_of("chosen")];
  const Measured& base = c.measured[b];
  if (!chosen.energy_J || !base.energy_J) return std::nullopt;
  const double saving = *base.energy_J - *chosen.energy_J;
  return std::make_pair(saving, 100.0 * saving / *base.energy_J);
}

nlohmann::json comparison_json(const Comparison& c) {
  nlohmann::json modes = nlohmann::json::array();
  for (std::size_t i = 0; i < c.modes.size(); ++i) {
    const auto& v = c.modes[i];
    const auto& m = c.measured[i];
    const auto e = energy_error(v, m);
    modes.push_back({{"key", v.predicted.key},
                     {"roles", v.roles},
                     {"applied_as", v.applied_as},
                     {"predicted", figures_json(v.predicted.latency_s, v.predicted.energy_J)},
                     {"measured", figures_json(m.latency_s, m.energy_J)},
                     {"throttled", m.throttled},
                     {"latency_error_pct", error_pct(v.predicted.latency_s, m.latency_s)},
                     {"energy_error_pct", e ? nlohmann::json(*e) : nlohmann::json(nullptr)}});
  }
  nlohmann::json j = {{"benchmark", c.benchmark}, {"modes", modes}};
  j["results_dir"] = c.results_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.results_dir);
  if (c.d.result.baseline) {
    const auto measured = measured_saving(c);
    j["saving"] = {{"baseline", c.d.result.baseline->mode.key},
                   {"predicted_J", c.d.result.baseline->saving_J},
                   {"predicted_pct", c.d.result.baseline->saving_pct},
                   {"measured_J", measured ? nlohmann::json(measured->first) : nlohmann::json(nullptr)},
                   {"measured_pct", measured ? nlohmann::json(measured->second) : nlohmann::json(nullptr)}};
  } else {
    j["saving"] = nullptr;
  }
  const auto bound = bound_check(c);
  const auto held = bound.held();
  j["bound"] = {{"what", bound.what},
                {"limit", bound.limit ? nlohmann::json(*bound.limit) : nlohmann::json(nullptr)},
                {"measured", bound.value ? nlohmann::json(*bound.value) : nlohmann::json(nullptr)},
                {"held", held ? nlohmann::json(*held) : nlohmann::json(nullptr)}};
  return j;
}

std::string energy_text(const std::optional<double>& e) { return e ? si(*e, "J") : "-"; }

std::string saving_text(const std::pair<double, double>& saving) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), " (%.1f%%)", saving.second);
  return si(saving.first, "J") + buf;
}

std::string comparison_text(const Comparison& c) {
  std::string text = "\nverified on the board: " + c.benchmark + " measured by edgeroof-bench in " +
                     std::to_string(c.modes.size()) + " mode(s)" +
                     (c.results_dir.empty() ? "" : ", results in " + c.results_dir) + "\n";
  char buf[400];
  std::snprintf(buf, sizeof(buf), "%-24s %-44s %11s %11s %8s %11s %11s %8s\n", "role", "key", "pred. lat.",
                "meas. lat.", "error", "pred. E", "meas. E", "error");
  text += buf;
  for (std::size_t i = 0; i < c.modes.size(); ++i) {
    const auto& v = c.modes[i];
    const auto& m = c.measured[i];
    std::snprintf(buf, sizeof(buf), "%-24s %-44s %11s %11s %8s %11s %11s %8s%s\n", join(v.roles, ",").c_str(),
                  v.predicted.key.c_str(), si(v.predicted.latency_s, "s").c_str(), si(m.latency_s, "s").c_str(),
                  pct_text(error_pct(v.predicted.latency_s, m.latency_s)).c_str(),
                  energy_text(v.predicted.energy_J).c_str(), energy_text(m.energy_J).c_str(),
                  pct_text(energy_error(v, m)).c_str(), m.throttled ? "  throttled" : "");
    text += buf;
  }
  if (c.d.result.baseline) {
    const auto& b = *c.d.result.baseline;
    const auto measured = measured_saving(c);
    std::snprintf(buf, sizeof(buf), "saving vs baseline %s: predicted %s (%.1f%%), measured %s\n", b.mode.key.c_str(),
                  si(b.saving_J, "J").c_str(), b.saving_pct,
                  measured ? saving_text(*measured).c_str() : "- (no energy measured)");
    text += buf;
  }
  const auto bound = bound_check(c);
  const auto held = bound.held();
  if (!held) {
    text += "the bound could not be judged: no energy was measured\n";
  } else {
    const bool latency = bound.what == "latency_s";
    text += std::string("bound ") + (*held ? "held" : "NOT held") + " when measured: the chosen mode's " +
            (latency ? "latency " + si(*bound.value, "s") + ", bound " + si(*bound.limit, "s")
                     : "power " + si(*bound.value, "W") + ", cap " + si(*bound.limit, "W")) +
            (c.d.constraint.kind == reports::TuneConstraint::Kind::max_slowdown
                 ? " (the fastest mode's measured latency + the slowdown)\n"
                 : "\n");
  }
  return text;
}

// The sweep's failures, from its failed.json: the first in the order applied ("mode K failed to
// bench: reason"), and how many more.
std::string failure_text(const fs::path& dir, const std::vector<VerifiedMode>& modes) {
  try {
    const auto doc = nlohmann::json::parse(results::read_text_file(dir / "failed.json"));
    const auto& failed = doc.at("failed");
    for (const auto& v : modes) {
      for (const auto& f : failed) {
        if (f.at("key").get<std::string>() != v.mode.key) continue;
        const std::string more =
            failed.size() > 1 ? " (and " + std::to_string(failed.size() - 1) + " more mode(s))" : "";
        return "mode " + v.mode.key + " failed to " + f.at("stage").get<std::string>() + ": " +
               f.at("reason").get<std::string>() + more;
      }
    }
  } catch (const std::exception&) {
  }
  return "a mode failed (see the lines above)";
}

}  // namespace

std::vector<OptionSpec> verify_options() {
  return {{"--verify", "", "apply the chosen, fastest and baseline modes and measure the model in each"},
          {"--dry-run", "", "with --verify: print the modes, their writes and the bench command lines; apply nothing"},
          {"--bench", "PATH",
           "with --verify: edgeroof-bench to run (default: the one next to edgeroof, else in its build tree)"},
          {"--root", "DIR", "with --verify: read and write sysfs and /etc under DIR instead of /"},
          {"--verify-out", "DIR", "with --verify: keep the results files in DIR (default: a temporary folder)"},
          {"--verify-timeout-s", "S", "with --verify: longest wait for the clocks to follow (default 2)"},
          {"--settle-timeout-s", "N", "with --verify: longest wait for a mode to settle (default 120)"},
          {"--settle-temp-c", "C", "with --verify: settled when every thermal zone is below C (default 50)"}};
}

void check_verify(const Args& args, const TuneDecision& decision) {
  if (!args.has("--verify")) {
    for (const auto& o : verify_options()) {
      if (args.has(o.name)) throw UsageError(o.name + " goes with --verify");
    }
    if (!args.passthrough.empty()) throw UsageError("the bench flags after -- go with --verify");
    return;
  }
  if (args.has("--dry-run") && format_of(args) != Format::table)
    throw UsageError("--dry-run prints a plan, not a table: leave out --format");
  check_workload(args, decision.workload);
  for (const auto& a : args.passthrough) {
    for (const char* own : {"--benchmark_out=", "--benchmark_out_format=", "--benchmark_context=", "--models=",
                            "--model-batch=", "--model-phase=", "--benchmark_filter="}) {
      if (a.rfind(own, 0) == 0)
        throw UsageError(std::string(own) + "... is set by --verify for each mode; leave it out of the bench flags");
    }
  }
  power::SweepOptions options;
  power::Patience patience;
  board_options_of(args, options, patience);
  const Board board = open_board(args, options, patience);
  (void)modes_to_verify(decision, board);
}

VerifyOutcome run_verify(const Args& args, const TuneDecision& decision) {
  VerifyOutcome outcome;
  power::SweepOptions options;
  power::Patience patience;
  board_options_of(args, options, patience);
  options.bench_args = bench_args(decision);
  options.bench_args.insert(options.bench_args.end(), args.passthrough.begin(), args.passthrough.end());
  std::optional<TempDir> temp;
  if (const auto out = args.get("--verify-out")) {
    options.out_dir = *out;
  } else if (!options.dry_run) {
    temp.emplace();
    options.out_dir = temp->path();
  } else {
    options.out_dir = fs::temp_directory_path() / "edgeroof-verify-XXXXXX";
  }
  Board board = open_board(args, options, patience);
  const auto modes = modes_to_verify(decision, board);
  std::vector<power::PowerMode> to_apply;
  for (const auto& v : modes) {
    if (args.has("--verify-out") && fs::exists(options.out_dir / (v.mode.key + ".json")))
      throw UsageError("--verify-out " + echo(options.out_dir.string()) + " holds " + v.mode.key +
                       ".json already: remove it or name another folder");
    to_apply.push_back(v.mode);
  }
  add_settle_readers(board, options, "edgeroof tune");
  std::ostream& log = options.dry_run ? std::cout : std::cerr;
  if (options.dry_run) {
    log << "\n--verify --dry-run: " << modes.size() << " mode(s) to apply, in order:\n";
    for (std::size_t i = 0; i < modes.size(); ++i)
      log << "  " << i + 1 << ". " << modes[i].mode.key << " (" << join(modes[i].roles, ", ")
          << "): " << modes[i].applied_as << "\n";
  }
  power::StopSignals signals;
  options.stop_requested = [] { return power::StopSignals::requested(); };
  const auto summary = power::run_sweep(board.controller.get(), to_apply, options, log);
  if (options.dry_run) return outcome;
  if (summary.interrupted) {
    const int sig = power::StopSignals::signal_number() != 0 ? power::StopSignals::signal_number() : SIGINT;
    outcome.exit_code = 128 + sig;
    outcome.text = "--verify stopped by a signal; the power mode found was restored";
    return outcome;
  }
  if (summary.failed > 0) {
    outcome.exit_code = 1;
    outcome.text = "--verify: " + failure_text(options.out_dir, modes) + "; the power mode found was restored";
    return outcome;
  }
  const std::string benchmark = model_benchmark(decision);
  std::vector<Measured> measured;
  for (const auto& v : modes)
    measured.push_back(measured_of(options.out_dir / (v.mode.key + ".json"), benchmark, v.mode.key));
  const Comparison c{decision, modes, measured, benchmark, temp ? "" : options.out_dir.string()};
  outcome.json = comparison_json(c);
  outcome.text = comparison_text(c);
  return outcome;
}

}  // namespace edgeroof::cli
