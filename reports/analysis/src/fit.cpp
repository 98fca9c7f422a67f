// Fitting the rooflines of each power mode from benchmark results. The files are read as hostile:
// every figure that feeds a ceiling or the energy fit is checked where its file and benchmark are
// known, and what cannot be real is left out with a warning, never turned into a ceiling.
#include "edgeroof/reports/fit.hpp"

#include "edgeroof/dnn/checked.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <string_view>

namespace edgeroof::reports {

std::map<std::string, double> RooflineMode::ridge_points() const {
  std::map<std::string, double> out;
  for (const auto& [ckey, c] : compute_flops_per_s) {
    const std::string backend = results::split_ceiling_key(ckey).first;
    for (const auto& [bkey, b] : bandwidth_bytes_per_s) {
      const auto [bbackend, level] = results::split_ceiling_key(bkey);
      if (bbackend != backend || b.value <= 0.0) continue;
      out[ckey + "@" + level] = c.value / b.value;
    }
  }
  return out;
}

std::optional<Interval> median_ci95(const std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n < 2) return std::nullopt;
  for (double v : values) {
    if (!std::isfinite(v)) return std::nullopt;
  }
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(n);
  double ss = 0.0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / static_cast<double>(n - 1));
  // The median's standard error of normal data, sqrt(π/2)·σ/√n.
  const double half =
      t_quantile_975(static_cast<double>(n - 1)) * 1.2533141373155003 * sd / std::sqrt(static_cast<double>(n));
  const double mid = median(values);
  return Interval{std::max(0.0, mid - half), mid + half};
}

namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// What is wrong with a figure that must be finite and positive (or non-negative); "" if nothing.
std::string problem_of(const std::string& field, double v, bool positive) {
  if (!std::isfinite(v)) return field + " = " + number_text(v) + " is not finite";
  if (positive && v <= 0.0) return field + " = " + number_text(v) + " is not positive";
  if (!positive && v < 0.0) return field + " = " + number_text(v) + " is negative";
  return "";
}

// Warning lines, each said once however many repetitions repeat it.
class Warnings {
public:
  explicit Warnings(std::vector<std::string>& lines) : m_lines(lines) {}
  void add(const std::string& key, std::string line) {
    if (m_seen.insert(key).second) m_lines.push_back(std::move(line));
  }

private:
  std::vector<std::string>& m_lines;
  std::set<std::string> m_seen;
};

// The records of one file to fit, by run name: the plain repetitions, or where a benchmark has
// none, its median aggregate (else its mean).
struct FileRuns {
  std::map<std::string, std::vector<const BenchmarkRecord*>> runs;
  std::set<std::string> throttled;  // an aggregate says some repetition was throttled
};

bool throttled_label(const BenchmarkRecord& r) { return results::has_label_token(r.label, results::labels::throttled); }

FileRuns runs_of(const ResultsFile& file, Warnings& warnings) {
  FileRuns out;
  std::map<std::string, std::vector<const BenchmarkRecord*>> aggregates;
  for (const auto& b : file.benchmarks) {
    if (b.error || !b.measured || b.complexity) continue;
    (b.run_type == "aggregate" ? aggregates : out.runs)[b.run_name].push_back(&b);
  }
  std::size_t aggregate_only = 0;
  for (const auto& [name, records] : aggregates) {
    for (const auto* a : records) {
      if (a->throttled() || throttled_label(*a)) out.throttled.insert(name);
    }
    if (out.runs.count(name) != 0) continue;
    // records by an init-capture: C++17 lambdas cannot capture a structured binding (clang < 16 refuses).
    auto find = [&records = records](const char* kind) {
      const auto a = std::find_if(records.begin(), records.end(),
                                  [&](const BenchmarkRecord* r) { return r->aggregate_name == kind; });
      return a == records.end() ? nullptr : *a;
    };
    const BenchmarkRecord* pick = find("median");
    if (pick == nullptr) pick = find("mean");
    if (pick == nullptr) continue;
    out.runs[name].push_back(pick);
    ++aggregate_only;
  }
  if (aggregate_only > 0) {
    warnings.add(file.path + "\n", file.path + ": " + std::to_string(aggregate_only) +
                                       " benchmark(s) have only aggregates (no plain repetitions): fitted from their "
                                       "median (else mean) aggregate");
  }
  return out;
}

// Rates of every repetition of every benchmark in a mode's files, pooled by name.
struct Pooled {
  std::optional<results::NameParts> parsed;  // parsed once: a grid sweep has thousands of files
  std::string level;                         // of a memory benchmark: its label's level:X token
  std::vector<double> flops_rate, bytes_rate;
  std::vector<double> energy_J, flops, bytes, time_s;  // per iteration, repetitions with energy_J
  bool throttled = false;
};

// Checks the figures of one record as they are pooled; what is wrong is warned about and left out.
class Pooler {
public:
  Pooler(const ResultsFile& file, RooflineMode& mode, Warnings& warnings)
      : m_file(file), m_mode(mode), m_warnings(warnings) {}

  // Returns whether the record gave a rate to a ceiling.
  bool add(Pooled& p, const std::string& name, const BenchmarkRecord& r) {
    if (is_throttled(name, r)) p.throttled = true;
    bool usable = false;
    if (p.parsed && p.parsed->family == "compute") {
      usable = take_rate(p.flops_rate, name, r, "FLOP/s");
    } else if (p.parsed && p.parsed->family == "memory" && !p.level.empty() && p.level != "mixed") {
      usable = take_rate(p.bytes_rate, name, r, "B/s");
    }
    if (r.counter("energy_J")) take_energy(p, name, r);
    return usable;
  }

private:
  void left_out(const std::string& name, const std::string& field, const std::string& line) {
    m_warnings.add(m_file.path + "\n" + name + "\n" + field, m_file.path + ": " + name + ": " + line);
    auto& invalid = m_mode.excluded["invalid"];
    if (std::find(invalid.begin(), invalid.end(), name) == invalid.end()) invalid.push_back(name);
  }

  bool is_throttled(const std::string& name, const BenchmarkRecord& r) {
    if (r.throttled() || throttled_label(r)) return true;
    const auto v = r.counter("throttled");
    if (!v || *v == 0.0 || r.is_aggregate()) return false;
    // The reader refuses a repetition's flag that is not 0 or 1; a file made otherwise may hold one.
    m_warnings.add(
        m_file.path + "\n" + name + "\nthrottled",
        m_file.path + ": " + name + ": throttled = " + number_text(*v) + " is not 0 or 1; treated as throttled");
    return true;
  }

  bool take_rate(std::vector<double>& rates, const std::string& name, const BenchmarkRecord& r, const char* field) {
    const auto v = r.counter(field);
    if (!v) {
      left_out(name, field, std::string(field) + " is missing; left out");
      return false;
    }
    if (const auto problem = problem_of(field, *v, true); !problem.empty()) {
      left_out(name, field, problem + "; left out");
      return false;
    }
    rates.push_back(*v);
    return true;
  }

  void take_energy(Pooled& p, const std::string& name, const BenchmarkRecord& r) {
    const double e = *r.counter("energy_J"), flops = r.counter("flops").value_or(0.0),
                 bytes = r.counter("bytes").value_or(0.0), t = r.real_time_s;
    std::string problem = problem_of("energy_J", e, true);
    if (problem.empty()) problem = problem_of("flops", flops, false);
    if (problem.empty()) problem = problem_of("bytes", bytes, false);
    if (problem.empty()) problem = problem_of("real_time_s", t, true);
    if (!problem.empty()) {
      left_out(name, "energy", problem + "; left out of the energy fit");
      return;
    }
    p.energy_J.push_back(e);
    p.flops.push_back(flops);
    p.bytes.push_back(bytes);
    p.time_s.push_back(t);
  }

  const ResultsFile& m_file;
  RooflineMode& m_mode;
  Warnings& m_warnings;
};

// Pools one file into its mode; returns how many of its benchmarks gave a rate to a ceiling.
std::size_t pool_file(std::map<std::string, Pooled>& pooled, RooflineMode& mode, const ResultsFile& file,
                      Warnings& warnings) {
  const FileRuns runs = runs_of(file, warnings);
  Pooler pooler(file, mode, warnings);
  std::size_t usable = 0;
  for (const auto& [name, records] : runs.runs) {
    auto& p = pooled[name];
    if (!p.parsed) {
      p.parsed = results::split_name(name);
      if (!records.empty()) p.level = results::level_of_label(records.front()->label);
    }
    if (runs.throttled.count(name) != 0) p.throttled = true;
    bool any = false;
    for (const auto* r : records) any = pooler.add(p, name, *r) || any;
    usable += any ? 1 : 0;
  }
  return usable;
}

void keep_best(std::map<std::string, Ceiling>& table, const std::string& key, const std::vector<double>& rates,
               const std::string& source) {
  const double value = median(rates);
  auto it = table.find(key);
  if (it == table.end() || value > it->second.value) table[key] = {value, source, median_ci95(rates)};
}

void fit_time(RooflineMode& mode, const std::map<std::string, Pooled>& pooled) {
  for (const auto& [name, p] : pooled) {
    const auto& parsed = p.parsed;
    if (!parsed || p.throttled) continue;
    if (parsed->family == "compute" && !p.flops_rate.empty()) {
      keep_best(mode.compute_flops_per_s, results::ceiling_key(parsed->backend, parsed->what), p.flops_rate, name);
    } else if (parsed->family == "memory" && !p.bytes_rate.empty()) {
      keep_best(mode.bandwidth_bytes_per_s, results::ceiling_key(parsed->backend, p.level), p.bytes_rate, name);
    }
  }
}

// A context figure that must be finite and non-negative (idle power); a bad one is warned about.
std::optional<double> context_power(const RooflineMode& mode, const std::string& key, Warnings& warnings) {
  const auto it = mode.context.find(key);
  if (it == mode.context.end()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double v = std::stod(it->second, &used);
    if (used == it->second.size() && std::isfinite(v) && v >= 0.0) return v;
  } catch (const std::exception&) {
  }
  const std::string file = mode.files.empty() ? mode.key : mode.files.front();
  warnings.add(file + "\ncontext\n" + key, file + ": context " + key + " = '" + dnn::excerpt(it->second) +
                                               "' is not a finite, non-negative number; left out");
  return std::nullopt;
}

// The energy samples of a benchmark: one per repetition, charged to its columns.
void add_energy_samples(std::vector<EnergySample>& out, const std::string& name, const Pooled& p) {
  const auto& parsed = *p.parsed;
  std::string flop, byte;
  if (parsed.family == "compute") {
    flop = parsed.what;
    byte = "dram";
  } else if (parsed.family == "memory" && !p.level.empty() && p.level != "mixed") {
    byte = p.level;
  } else {
    return;  // layers and mixed working sets: no single column to charge
  }
  for (std::size_t i = 0; i < p.energy_J.size(); ++i)
    out.push_back({name, flop, byte, p.flops[i], p.bytes[i], p.time_s[i], p.energy_J[i]});
}

// The options of one backend's fit: the idle prior and, for its warnings, the ridge point of each
// dtype against DRAM bandwidth.
EnergyFitOptions energy_options(const RooflineMode& mode, const std::string& backend, std::optional<double> idle) {
  EnergyFitOptions o;
  o.idle_power_W = idle;
  o.backend = backend;
  const std::string suffix = "@dram";
  for (const auto& [key, ai] : mode.ridge_points()) {
    if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const auto [b, dtype] = results::split_ceiling_key(key.substr(0, key.size() - suffix.size()));
    if (b == backend) o.ridge_ai[dtype] = ai;
  }
  return o;
}

void fit_energy_of(RooflineMode& mode, const std::map<std::string, Pooled>& pooled, Warnings& warnings) {
  std::map<std::string, std::vector<EnergySample>> by_backend;
  for (const auto& [name, p] : pooled) {
    if (p.energy_J.empty() || p.throttled || !p.parsed) continue;
    add_energy_samples(by_backend[p.parsed->backend], name, p);
  }
  // edgeroof-bench measures idle power before its benchmarks; edgeroof sweep after settling a mode.
  auto idle = context_power(mode, "idle_power_W", warnings);
  if (!idle) idle = context_power(mode, "power_mode.idle_power_W", warnings);
  for (const auto& [backend, samples] : by_backend) {
    auto fit = fit_energy(samples, energy_options(mode, backend, idle));
    if (!fit) continue;
    for (const auto& w : fit->warnings)
      warnings.add("energy\n" + mode.key + "\n" + backend + "\n" + w,
                   "mode " + mode.key + ": energy " + backend + ": " + w);
    mode.energy[backend] = std::move(*fit);
  }
}

}  // namespace

std::string mode_key_of(const ResultsFile& f) {
  if (auto k = f.context_value("power_mode.key")) return *k;
  return std::filesystem::path(f.path).stem().string();
}

namespace {

// A whole number of the context in [min, max]; absent when missing, warned about when impossible.
std::optional<std::int64_t> context_integer(const ResultsFile& f, const std::string& key, std::int64_t min,
                                            std::int64_t max, Warnings& warnings) {
  const auto text = f.context_value(key);
  if (!text) return std::nullopt;
  const auto v = power::parse_int64(*text);
  if (v && *v >= min && *v <= max) return v;
  warnings.add(f.path + "\ncontext\n" + key, f.path + ": context " + key + " = '" + dnn::excerpt(*text) +
                                                 "' is not a whole number from " + std::to_string(min) + " to " +
                                                 std::to_string(max) + "; left out");
  return std::nullopt;
}

void set_identity(RooflineMode& m, const ResultsFile& file, Warnings& warnings) {
  constexpr std::int64_t any = std::numeric_limits<std::int64_t>::max();
  m.name = file.context_value("power_mode.name").value_or(m.key);
  const auto id = context_integer(file, "power_mode.id", 0, std::numeric_limits<int>::max(), warnings);
  if (id) m.id = static_cast<int>(*id);
  m.gpu_hz = context_integer(file, "power_mode.gpu_hz", 1, any, warnings);
  m.emc_hz = context_integer(file, "power_mode.emc_hz", 1, any, warnings);
  m.cpu_khz = context_integer(file, "power_mode.cpu_khz", 1, any, warnings);
  const auto online = context_integer(file, "power_mode.cpu_online", 1, 1024, warnings);
  if (online) m.cpu_online = static_cast<int>(*online);
  m.tpc_pg_mask = context_integer(file, "power_mode.tpc_pg_mask", 0, any, warnings);
  m.context = file.context;
}

std::string nothing_to_fit(const ResultsFile& file) {
  if (file.benchmarks.empty()) return "no benchmarks";
  const bool all_failed =
      std::all_of(file.benchmarks.begin(), file.benchmarks.end(), [](const BenchmarkRecord& b) { return b.error; });
  if (all_failed) return "only failed or skipped benchmarks";
  return "no compute or memory benchmark with a usable rate";
}

void warn_throttled(const RooflineMode& mode, const std::map<std::string, Pooled>& pooled,
                    std::vector<std::string>& names, Warnings& warnings) {
  for (const auto& [name, p] : pooled) {
    if (p.throttled) names.push_back(name);
  }
  if (names.empty()) return;
  std::string list;
  for (std::size_t i = 0; i < names.size() && i < 4; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > 4) list += ", and " + std::to_string(names.size() - 4) + " more";
  warnings.add("throttled\n" + mode.key,
               "mode " + mode.key + ": " + std::to_string(names.size()) + " throttled benchmark(s) left out: " + list);
}

// Two boards of one kind (sweep --shard) or a rerun may measure a mode twice: its files are pooled,
// repetitions of one board kind as one board's own are, and the user is told which files met.
void warn_pooled(const RooflineMode& mode, Warnings& warnings) {
  if (mode.files.size() < 2) return;
  std::string list;
  for (const auto& f : mode.files) list += (list.empty() ? "" : ", ") + f;
  warnings.add("pooled\n" + mode.key, "mode " + mode.key + " was measured in " + std::to_string(mode.files.size()) +
                                          " results files, their repetitions pooled: " + list);
}

}  // namespace

Rooflines fit_rooflines(const std::vector<ResultsFile>& files) {
  Rooflines out;
  Warnings warnings(out.warnings);
  std::vector<std::map<std::string, Pooled>> pooled;
  std::map<std::string, std::size_t> index;  // mode key -> position: thousands of modes in a grid sweep
  for (const auto& file : files) {
    const std::string key = mode_key_of(file);
    const auto [it, added] = index.emplace(key, out.modes.size());
    if (added) {
      out.modes.emplace_back();
      out.modes.back().key = key;
      pooled.emplace_back();
    }
    RooflineMode& mode = out.modes[it->second];
    if (pool_file(pooled[it->second], mode, file, warnings) == 0) {
      warnings.add(file.path + "\nnothing", file.path + ": nothing to fit (" + nothing_to_fit(file) + "); left out");
      continue;
    }
    if (mode.files.empty()) set_identity(mode, file, warnings);
    mode.files.push_back(file.path);
  }
  Rooflines fitted;
  for (std::size_t i = 0; i < out.modes.size(); ++i) {
    auto& mode = out.modes[i];
    if (mode.files.empty()) continue;  // only files with nothing to fit
    warn_pooled(mode, warnings);
    warn_throttled(mode, pooled[i], mode.excluded["throttled"], warnings);
    for (auto it = mode.excluded.begin(); it != mode.excluded.end();) {
      it = it->second.empty() ? mode.excluded.erase(it) : std::next(it);
    }
    fit_time(mode, pooled[i]);
    fit_energy_of(mode, pooled[i], warnings);
    fitted.modes.push_back(std::move(mode));
  }
  if (fitted.modes.empty()) {
    if (files.empty()) throw InputError("no results files to fit");
    if (files.size() == 1)
      throw InputError(files.front().path + ": nothing to fit (" + nothing_to_fit(files.front()) + ")");
    throw InputError("nothing to fit in any of the " + std::to_string(files.size()) +
                     " results files (first: " + files.front().path + ": " + nothing_to_fit(files.front()) + ")");
  }
  fitted.warnings = std::move(out.warnings);
  return fitted;
}

}  // namespace edgeroof::reports
