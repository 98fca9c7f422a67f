// Synthetic Google Benchmark runs for the compare tests (library and command): 9 repetitions with a
// fixed seed, the same distribution or an injected slowdown or energy increase.
#pragma once

#include "edgeroof/reports/compare.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace edgeroof::testing {

using namespace edgeroof::reports;

struct Bench {
  std::string name;
  double time_ms;
  double flops;
  double bytes;
  double energy_J;  // < 0: no sensor, no energy counters
};

// The benchmarks of a run and how a run differs from the baseline.
struct RunSpec {
  unsigned seed = 1;
  int repetitions = 9;
  double slowdown = 1.0;       // time factor for `changed`
  double energy_factor = 1.0;  // energy factor for `changed`
  std::string changed;         // benchmark the factors apply to
  bool aggregates_only = false;
};

inline const std::vector<Bench> suite = {
    {"compute/cpu/fp32/ai:16", 40.0, 1.6e10, 1.0e9, 2.0},
    {"memory/cpu/triad/bytes:67108864", 5.0, 8.4e6, 1.0e8, 0.25},
};

// Uniform in [-1, 1] from the raw 32-bit outputs of mt19937, which the standard fixes exactly
// (its distributions it does not), so the files are the same with every library.
struct Noise {
  std::mt19937 rng;
  explicit Noise(unsigned seed) : rng(seed) {}
  double next() { return static_cast<double>(rng()) / 4294967295.0 * 2.0 - 1.0; }
};

inline std::string number(double v) {
  std::ostringstream ss;
  ss.precision(17);
  ss << v;
  return ss.str();
}

using RepetitionSeries = std::map<std::string, std::vector<double>>;

// The repetitions of one benchmark of a run: times, rates and (with a sensor) energy, each +-2%.
inline RepetitionSeries repetitions_of(const Bench& b, const RunSpec& run, Noise& noise) {
  const double tf = b.name == run.changed ? run.slowdown : 1.0;
  const double ef = b.name == run.changed ? run.energy_factor : 1.0;
  RepetitionSeries series;
  for (int r = 0; r < run.repetitions; ++r) {
    const double t_ms = b.time_ms * tf * (1.0 + 0.02 * noise.next());
    series["real_time"].push_back(t_ms);
    series["cpu_time"].push_back(t_ms * 0.999);
    series["FLOP/s"].push_back(b.flops / (t_ms * 1e-3));
    series["B/s"].push_back(b.bytes / (t_ms * 1e-3));
    if (b.energy_J >= 0) {
      const double e = b.energy_J * ef * (1.0 + 0.02 * noise.next());
      series["energy_J"].push_back(e);
      series["power_W"].push_back(e / (t_ms * 1e-3));
    }
  }
  return series;
}

// One row of the "benchmarks" array: a repetition (type "iteration", `index`) or an aggregate.
struct GbRow {
  const Bench& bench;
  const RunSpec& run;
  int family;
  std::string text(const std::string& name, const std::string& type, const std::string& aggregate, int index,
                   RepetitionSeries& series, const std::function<double(const std::vector<double>&)>& pick) const {
    std::string out = R"(  {"name": ")" + name + R"(", "family_index": )" + std::to_string(family) +
                      R"(, "per_family_instance_index": 0, "run_name": ")" + bench.name + R"(", "run_type": ")" + type +
                      R"(", "repetitions": )" + std::to_string(run.repetitions) + R"(, "threads": 1)";
    if (type == "iteration")
      out += R"(, "repetition_index": )" + std::to_string(index) + R"(, "iterations": 10)";
    else
      out += R"(, "aggregate_name": ")" + aggregate + R"(", "aggregate_unit": "time", "iterations": )" +
             std::to_string(run.repetitions);
    out += R"(, "real_time": )" + number(pick(series["real_time"])) + R"(, "cpu_time": )" +
           number(pick(series["cpu_time"])) + R"(, "time_unit": "ms", "flops": )" + number(bench.flops) +
           R"(, "bytes": )" + number(bench.bytes);
    for (const char* c : {"FLOP/s", "B/s", "energy_J", "power_W"}) {
      if (series.count(c)) out += std::string(R"(, ")") + c + R"(": )" + number(pick(series[c]));
    }
    return out + "}";
  }
};

// One result file as Google Benchmark 1.7 writes it with --benchmark_repetitions: the repetitions
// of each benchmark, then its mean, median and stddev aggregates. Noise is +-2%.
inline std::string gb_json(const RunSpec& run) {
  Noise noise(run.seed);
  std::string out =
      R"({"context": {"date": "2026-11-27T07:00:00+00:00", "host_name": "ci", "executable": "edgeroof-bench",
  "num_cpus": 2, "mhz_per_cpu": 2000, "cpu_scaling_enabled": false, "library_build_type": "release",
  "device.name": "Test CPU", "json_schema_version": 1},
  "benchmarks": [)";
  bool first = true;
  int family = 0;
  for (const auto& b : suite) {
    RepetitionSeries series = repetitions_of(b, run, noise);
    const GbRow row{b, run, family};
    auto entry = [&](const std::string& name, const std::string& type, const std::string& aggregate, int index,
                     const std::function<double(const std::vector<double>&)>& pick) {
      out += (first ? "\n" : ",\n") + row.text(name, type, aggregate, index, series, pick);
      first = false;
    };
    if (!run.aggregates_only) {
      for (int r = 0; r < run.repetitions; ++r)
        entry(b.name, "iteration", "", r, [r](const std::vector<double>& v) { return v[r]; });
    }
    if (run.repetitions > 1) {
      auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); };
      entry(b.name + "_mean", "aggregate", "mean", 0, mean);
      entry(b.name + "_median", "aggregate", "median", 0, [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
      });
      entry(b.name + "_stddev", "aggregate", "stddev", 0, [mean](const std::vector<double>& v) {
        const double m = mean(v);
        double s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return std::sqrt(s / (v.size() - 1));
      });
    }
    ++family;
  }
  return out + "\n]}\n";
}

inline ResultsFile results(const RunSpec& run, const std::string& origin) {
  return parse_results(gb_json(run), origin);
}

inline RunSpec spec(unsigned seed) {
  RunSpec s;
  s.seed = seed;
  return s;
}

inline const std::string fp32 = "compute/cpu/fp32/ai:16";
inline const std::string triad = "memory/cpu/triad/bytes:67108864";

// The counter throttled (0/1) on every repetition of `name`, 1 on the first `throttled` of them.
inline std::string with_throttled(std::string text, const std::string& name, int throttled) {
  auto doc = nlohmann::json::parse(text);
  int seen = 0;
  for (auto& b : doc["benchmarks"]) {
    if (b["run_name"] != name) continue;
    const bool plain = b["run_type"] == "iteration";
    b["throttled"] = plain ? (seen++ < throttled ? 1 : 0) : (throttled > 0 ? 1.0 / 9.0 : 0.0);
    b["clock_min_ratio"] = plain && seen <= throttled ? 0.71 : 1.0;
  }
  return doc.dump();
}

}  // namespace edgeroof::testing
