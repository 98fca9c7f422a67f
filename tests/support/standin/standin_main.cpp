// edgeroof-standin: the stand-in board on the command line (README.md in this folder).
//   modes   --board B [--grid SPEC]                      modes.json of the board's grid
//   results --board B (--modes FILE | --grid SPEC) (--keys K,K | --plan PLAN.json | --all) [--seed N] --out DIR
//           [--repetitions N] [--time-noise X] [--energy-noise X] [--throttle-share X]
//   --benchmark_out=FILE --benchmark_context=... [--standin-board=B] [--standin-seed=N]
//                                                        a stand-in edgeroof-bench for `edgeroof sweep`
// Exit status: 0 done, 1 bad input (one line naming file and field), 2 usage.
#include "standin.hpp"

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace {

using namespace edgeroof;
namespace fs = std::filesystem;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr const char* usage_text =
    "usage: edgeroof-standin modes --board orin-agx|orin-nx [--grid SPEC]\n"
    "       edgeroof-standin results --board B (--modes FILE | --grid SPEC) (--keys K1,K2 | --plan PLAN.json | --all)\n"
    "                        [--seed N] --out DIR [--repetitions N] [--time-noise X] [--energy-noise X]\n"
    "                        [--throttle-share X]\n"
    "       edgeroof-standin --benchmark_out=FILE --benchmark_context=K=V,... [--standin-board=B]\n"
    "                        [--standin-seed=N]   (a stand-in edgeroof-bench for `edgeroof sweep`)\n"
    "Results files of a stand-in board, made from the physics in tests/support/standin/README.md;\n"
    "a stand-in, not a measurement.\n";

using Flags = std::map<std::string, std::string>;

// --name VALUE pairs (and --all); every flag must be one of `known`.
Flags parse_flags(int argc, char** argv, int first, const std::set<std::string>& known) {
  Flags flags;
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    if (known.count(a) == 0) throw UsageError("unknown argument '" + a + "'");
    if (a == "--all") {
      flags[a] = "1";
      continue;
    }
    if (i + 1 >= argc) throw UsageError(a + " needs a value");
    flags[a] = argv[++i];
  }
  return flags;
}

double number_flag(const Flags& f, const std::string& name, double fallback, double lo, double hi) {
  const auto it = f.find(name);
  if (it == f.end()) return fallback;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != it->second.size() || !std::isfinite(v) || v < lo || v > hi)
    throw UsageError(name + " '" + it->second + "' is not a number from " + results::format_number(lo) + " to " +
                     results::format_number(hi));
  return v;
}

unsigned seed_of(const std::string& text, const char* flag) {
  const auto v = power::parse_int64(text);
  if (!v || *v < 0 || *v > 4294967295LL)
    throw UsageError(std::string(flag) + " '" + text + "' is not a whole number from 0 to 4294967295");
  return static_cast<unsigned>(*v);
}

std::string required(const Flags& f, const std::string& name) {
  const auto it = f.find(name);
  if (it == f.end()) throw UsageError(name + " is required");
  return it->second;
}

standin::StandinBoard board_of(const std::string& name) {
  try {
    return standin::board_by_name(name);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

std::vector<power::PowerMode> grid_of(const standin::StandinBoard& board, const std::string& spec) {
  try {
    return standin::grid_modes(board, power::parse_grid_spec(spec));
  } catch (const power::ModeError& e) {
    throw UsageError(std::string("--grid: ") + e.what());
  }
}

// A whole number of a modes.json entry, within [lo, hi]; absent stays absent.
std::optional<std::int64_t> whole(const nlohmann::json& entry, const std::string& where, const char* field,
                                  std::int64_t lo, std::int64_t hi) {
  if (!entry.contains(field)) return std::nullopt;
  const auto& v = entry[field];
  if (!v.is_number_integer() || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi)
    throw InputError(where + "." + field + " = " + v.dump() + " is not a whole number from " + std::to_string(lo) +
                     " to " + std::to_string(hi));
  return v.get<std::int64_t>();
}

power::PowerMode mode_of_entry(const nlohmann::json& e, const std::string& where) {
  if (!e.is_object()) throw InputError(where + " is not an object");
  if (!e.contains("key") || !e["key"].is_string() || e["key"].get<std::string>().empty())
    throw InputError(where + ".key is missing or not a non-empty string");
  const std::string key = e["key"].get<std::string>();
  if (key.find('/') != std::string::npos || key.front() == '.')
    throw InputError(where + ".key '" + key + "' cannot name a file");
  power::PowerMode m;
  m.key = key;
  m.name = e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>() : key;
  constexpr std::int64_t top = std::int64_t(1) << 40;
  if (auto id = whole(e, where, "id", 0, 1 << 30)) m.id = static_cast<int>(*id);
  if (auto c = whole(e, where, "cpu_online", 1, 1024)) m.cpu_online = static_cast<int>(*c);
  m.cpu_max_khz = whole(e, where, "cpu_max_khz", 1, top);
  m.gpu_max_hz = whole(e, where, "gpu_max_hz", 1, top);
  m.emc_max_hz = whole(e, where, "emc_max_hz", 1, top);
  m.tpc_pg_mask = whole(e, where, "tpc_pg_mask", 0, top);
  return m;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not JSON (" + std::string(e.what()) + ")");
  }
}

std::vector<power::PowerMode> load_modes(const std::string& path) {
  const auto doc = read_json(path);
  if (!doc.is_object() || !doc.contains("modes") || !doc["modes"].is_array() || doc["modes"].empty())
    throw InputError(path + ": modes is missing or not a non-empty array");
  std::vector<power::PowerMode> modes;
  std::set<std::string> keys;
  for (std::size_t i = 0; i < doc["modes"].size(); ++i) {
    const std::string where = path + ": modes[" + std::to_string(i) + "]";
    modes.push_back(mode_of_entry(doc["modes"][i], where));
    if (!keys.insert(modes.back().key).second) throw InputError(where + ".key '" + modes.back().key + "' repeats");
  }
  return modes;
}

// The keys of `edgeroof plan`'s JSON: {"measure": [keys], ...}.
std::vector<std::string> plan_keys(const std::string& path) {
  const auto doc = read_json(path);
  if (!doc.is_object() || !doc.contains("measure") || !doc["measure"].is_array())
    throw InputError(path + ": measure is missing or not an array");
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < doc["measure"].size(); ++i) {
    if (!doc["measure"][i].is_string()) throw InputError(path + ": measure[" + std::to_string(i) + "] is not a string");
    keys.push_back(doc["measure"][i].get<std::string>());
  }
  return keys;
}

std::vector<std::string> listed_keys(const Flags& f) {
  if (f.count("--keys") + f.count("--plan") != 1) throw UsageError("give one of --keys, --plan and --all");
  if (f.count("--plan")) return plan_keys(f.at("--plan"));
  std::vector<std::string> keys;
  std::stringstream list(f.at("--keys"));
  for (std::string key; std::getline(list, key, ',');) keys.push_back(key);
  if (keys.empty()) throw UsageError("--keys names no mode");
  return keys;
}

std::vector<power::PowerMode> selected(const std::vector<power::PowerMode>& modes, const Flags& f) {
  if (f.count("--all") != 0) {
    if (f.count("--keys") + f.count("--plan") != 0) throw UsageError("--all excludes --keys and --plan");
    return modes;
  }
  std::map<std::string, const power::PowerMode*> by_key;
  for (const auto& m : modes) by_key[m.key] = &m;
  std::vector<power::PowerMode> out;
  const char* origin = f.count("--plan") ? "--plan" : "--keys";
  for (const auto& key : listed_keys(f)) {
    const auto it = by_key.find(key);
    if (it == by_key.end()) throw InputError(std::string(origin) + ": mode '" + key + "' is not in the mode list");
    out.push_back(*it->second);
  }
  return out;
}

standin::NoiseOptions noise_of(const Flags& f) {
  standin::NoiseOptions n;
  const double reps = number_flag(f, "--repetitions", n.repetitions, 1, 100);
  if (reps != std::floor(reps)) throw UsageError("--repetitions '" + f.at("--repetitions") + "' is not a whole number");
  n.repetitions = static_cast<int>(reps);
  n.time = number_flag(f, "--time-noise", n.time, 0, 0.5);
  n.energy = number_flag(f, "--energy-noise", n.energy, 0, 0.5);
  n.throttle_share = number_flag(f, "--throttle-share", n.throttle_share, 0, 1);
  return n;
}

int cmd_modes(int argc, char** argv) {
  const Flags f = parse_flags(argc, argv, 2, {"--board", "--grid"});
  const auto board = board_of(required(f, "--board"));
  const auto modes = f.count("--grid") ? grid_of(board, f.at("--grid")) : standin::grid_modes(board);
  std::cout << standin::modes_json(modes);
  return 0;
}

int cmd_results(int argc, char** argv) {
  const Flags f = parse_flags(argc, argv, 2,
                              {"--board", "--modes", "--grid", "--keys", "--plan", "--all", "--seed", "--out",
                               "--repetitions", "--time-noise", "--energy-noise", "--throttle-share"});
  const auto board = board_of(required(f, "--board"));
  if (f.count("--modes") == f.count("--grid")) throw UsageError("give one of --modes FILE and --grid SPEC");
  const auto all = f.count("--modes") ? load_modes(f.at("--modes")) : grid_of(board, f.at("--grid"));
  const auto modes = selected(all, f);
  const auto seed = seed_of(f.count("--seed") ? f.at("--seed") : "1", "--seed");
  const auto noise = noise_of(f);
  const fs::path out = required(f, "--out");
  std::vector<std::string> texts;
  for (const auto& m : modes) {  // every file is made before any is written: a bad mode writes none
    try {
      texts.push_back(standin::results_json(board, m, seed, noise));
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string(e.what()) + " (board " + board.name + ")");
    }
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError(out.string() + ": cannot be created (" + ec.message() + ")");
  for (std::size_t i = 0; i < modes.size(); ++i) power::atomic_write(out / (modes[i].key + ".json"), texts[i]);
  std::cerr << "edgeroof-standin: " << modes.size() << " results file(s) in " << out.string() << "\n";
  return 0;
}

// --benchmark_context=k=v,k=v as `edgeroof sweep` writes it: the power mode of the run.
power::PowerMode mode_of_context(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw UsageError("--benchmark_context: '" + item + "' is not KEY=VALUE");
    kv[item.substr(0, eq)] = item.substr(eq + 1);
  }
  auto integer = [&](const char* key) -> std::optional<std::int64_t> {
    const auto it = kv.find(key);
    if (it == kv.end()) return std::nullopt;
    const auto v = power::parse_int64(it->second);
    if (!v || *v < 0)
      throw InputError(std::string("--benchmark_context: ") + key + " = '" + it->second +
                       "' is not a non-negative whole number");
    return v;
  };
  power::PowerMode m;
  namespace keys = results::context;
  m.key = kv.count(keys::power_mode_key) ? kv[keys::power_mode_key] : "current";
  m.name = kv.count(keys::power_mode_name) ? kv[keys::power_mode_name] : m.key;
  if (auto id = integer(keys::power_mode_id)) m.id = static_cast<int>(*id);
  if (auto c = integer(keys::power_mode_cpu_online)) m.cpu_online = static_cast<int>(*c);
  m.cpu_max_khz = integer(keys::power_mode_cpu_khz);
  m.gpu_max_hz = integer(keys::power_mode_gpu_hz);
  m.emc_max_hz = integer(keys::power_mode_emc_hz);
  m.tpc_pg_mask = integer(keys::power_mode_tpc_pg_mask);
  return m;
}

// Unset knobs of a predefined or `current` mode run as the board's top of table.
void fill_from_board(power::PowerMode& m, const standin::StandinBoard& b) {
  if (!m.cpu_online) m.cpu_online = b.cpu_count;
  if (!m.cpu_max_khz) m.cpu_max_khz = b.cpu_khz.back();
  if (!m.gpu_max_hz) m.gpu_max_hz = b.gpu_hz.back();
  if (!m.emc_max_hz) m.emc_max_hz = b.emc_hz.back();
}

// The knobs in effect in a (fake) sysfs tree, as a board's clock nodes show them: CPUs online,
// cpu0's clock, the GPU's and the EMC's. What the sweep applied is what the model runs in.
void read_tree_knobs(power::PowerMode& m, const std::string& root) {
  const power::Root r(root);
  auto number = [&r, &root](const std::string& path) {
    const auto v = power::parse_int64(r.read(path));
    if (!v || *v <= 0) throw InputError(root + path + ": not a positive whole number");
    return *v;
  };
  int online = 0;
  for (int cpu = 0; r.exists("/sys/devices/system/cpu/cpu" + std::to_string(cpu)); ++cpu) {
    const std::string node = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/online";
    online += !r.exists(node) || number(node) == 1 ? 1 : 0;
  }
  m.cpu_online = online;
  m.cpu_max_khz = number("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq");
  m.gpu_max_hz = number("/sys/class/devfreq/17000000.ga10b/cur_freq");
  m.emc_max_hz = number("/sys/kernel/debug/bpmp/debug/clk/emc/rate");
}

// --models=M --model-batch=B --model-phase=P: the whole-model benchmark edgeroof-bench would run.
standin::ModelRun model_run(const std::string& model, const std::string& batch_text, const std::string& phase) {
  const auto batch = power::parse_int64(batch_text);
  if (!batch || *batch < 1 || *batch > (1 << 20))
    throw UsageError("--model-batch '" + batch_text + "' is not a whole number from 1 to 1048576");
  if (!results::is_model_phase(phase))
    throw UsageError("--model-phase '" + phase + "' is not one of inference, train_sgd, train_adam");
  dnn::WorkloadOptions options;
  options.batch = *batch;
  options.train = phase == "train_sgd" ? "sgd" : phase == "train_adam" ? "adam" : "";
  standin::ModelRun run;
  run.name = results::format_name(results::ModelName{"cuda", model, phase, *batch});
  try {
    for (const auto& l : dnn::build_workload(model, options).layers) run.layers.emplace_back(l.flops, l.bytes);
  } catch (const dnn::ModelError& e) {
    throw UsageError(std::string("--models: ") + e.what());
  }
  return run;
}

int cmd_bench(int argc, char** argv) {
  std::string out, context, board_name = "orin-agx", seed_text = "1", root, models, batch = "1", phase = "inference";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& prefix) { return a.rfind(prefix, 0) == 0 ? a.substr(prefix.size()) : ""; };
    if (a.rfind("--benchmark_out=", 0) == 0)
      out = value("--benchmark_out=");
    else if (a.rfind("--benchmark_context=", 0) == 0)
      context = value("--benchmark_context=");
    else if (a.rfind("--standin-board=", 0) == 0)
      board_name = value("--standin-board=");
    else if (a.rfind("--standin-seed=", 0) == 0)
      seed_text = value("--standin-seed=");
    else if (a.rfind("--root=", 0) == 0)
      root = value("--root=");
    else if (a.rfind("--models=", 0) == 0)
      models = value("--models=");
    else if (a.rfind("--model-batch=", 0) == 0)
      batch = value("--model-batch=");
    else if (a.rfind("--model-phase=", 0) == 0)
      phase = value("--model-phase=");
    else if (a.rfind("--benchmark_", 0) != 0 && a.rfind("--root=", 0) != 0 && a.rfind("--sensor=", 0) != 0)
      throw UsageError("unknown argument '" + a + "'");
  }
  if (out.empty()) throw UsageError("--benchmark_out=FILE is required");
  const auto seed = seed_of(seed_text, "--standin-seed");
  const auto board = board_of(board_name);
  power::PowerMode mode = mode_of_context(context);
  std::optional<standin::ModelRun> run;
  if (!models.empty()) {
    run = model_run(models, batch, phase);
    if (!root.empty()) read_tree_knobs(mode, root);
  }
  fill_from_board(mode, board);
  std::string text;
  try {
    text = run ? standin::model_results_json(board, mode, seed, *run) : standin::results_json(board, mode, seed);
  } catch (const std::invalid_argument& e) {
    throw InputError(std::string(e.what()) + " (board " + board.name + ")");
  }
  power::atomic_write(out, text);
  return 0;
}

int dispatch(int argc, char** argv) {
  if (argc < 2) throw UsageError("no command");
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h") {
    std::cout << usage_text;
    return 0;
  }
  if (cmd == "modes") return cmd_modes(argc, argv);
  if (cmd == "results") return cmd_results(argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind("--benchmark_out=", 0) == 0) return cmd_bench(argc, argv);
  }
  throw UsageError("unknown command '" + cmd + "'");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "edgeroof-standin: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "edgeroof-standin: " << e.what() << "\n";
    return 1;
  }
}
