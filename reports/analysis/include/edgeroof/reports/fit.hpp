// Fitting rooflines from benchmark results: one entry per power mode (rooflines.json, README.md:
// Contracts).
#pragma once

#include "edgeroof/reports/energy.hpp"
#include "edgeroof/reports/results.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

// A ceiling and the benchmark it was measured by.
struct Ceiling {
  double value = 0.0;
  std::string source;            // benchmark name
  std::optional<Interval> ci95;  // of that benchmark's median rate (median_ci95); none from 1 repetition
};

// A 95% interval of the median of repetitions: median ± t(0.975, n−1) · sqrt(π/2) · s / √n, s the
// sample standard deviation (the median's standard error for normal data), lo clipped at 0. The
// sample deviation rather than the MAD: with 3 repetitions the MAD is the smaller of two
// deviations, too often near 0. None for fewer than 2 values or one not finite.
[[nodiscard]] std::optional<Interval> median_ci95(const std::vector<double>& values);

struct RooflineMode {
  std::string key;   // stable identifier: power_mode.key from the context, else the file's stem
  std::string name;  // power_mode.name, else the key
  std::optional<int> id;
  std::optional<std::int64_t> gpu_hz, emc_hz, cpu_khz;
  std::optional<int> cpu_online;
  std::optional<std::int64_t> tpc_pg_mask;  // power_mode.tpc_pg_mask (set bit = TPC off)
  // "measured" (fitted from its own results) or "modeled" (mode-space model, modespace.hpp).
  std::string source = "measured";
  // The knobs of a modeled mode that lie outside the measured modes' range ("gpu_hz", ...).
  std::vector<std::string> extrapolated;
  // For a measured mode of predict_modes: what the mode-space model predicts for it (its figures
  // and intervals), so that decisions can weigh one noisy measurement against the model.
  std::shared_ptr<const RooflineMode> modeled;
  std::vector<std::string> files;
  std::map<std::string, Ceiling> compute_flops_per_s;    // "<backend>/<dtype>"
  std::map<std::string, Ceiling> bandwidth_bytes_per_s;  // "<backend>/<level>"
  // By backend, where benchmarks carried energy_J (a sensor was active).
  std::map<std::string, EnergyFit> energy;
  std::map<std::string, std::string> context;  // context of the first file
  // Benchmarks the fit left out, by reason: "throttled" (its clocks fell during the run: counter
  // throttled = 1 or label token "throttled") and "invalid" (a rate or energy that cannot be real).
  std::map<std::string, std::vector<std::string>> excluded;

  // FLOP per byte where a dtype's compute ceiling meets a level's bandwidth (same backend).
  [[nodiscard]] std::map<std::string, double> ridge_points() const;
};

struct Rooflines {
  std::vector<RooflineMode> modes;
  // What the fit left out and why, one line each naming the file and benchmark (not written to
  // rooflines.json; the CLI prints them as warnings).
  std::vector<std::string> warnings;
};

// Groups the files by power mode and fits each mode's time roofline: per benchmark the median
// of its repetitions; per ceiling the best benchmark of its kind. With energy_J counters also the
// energy roofline of each backend (energy.hpp): compute benchmarks charge their FLOPs to their
// dtype and their bytes to DRAM, memory benchmarks their bytes to their level (label level:X;
// their few FLOPs are folded into ε_byte), π0 is charged for the real time. The energy fit takes
// every repetition as a row, the context's idle_power_W as a soft prior on π0, and its warnings
// (constants it cannot separate) reach `warnings` as "mode <key>: energy <backend>: ...". A
// ceiling's ci95 comes from the repetitions of the benchmark that set it (median_ci95); the
// context's power_mode.tpc_pg_mask becomes tpc_pg_mask.
//
// Nothing impossible becomes a figure. A repetition whose rate the ceiling needs (FLOP/s of a
// compute benchmark, B/s of a memory one) is not finite and positive, or whose energy_J, flops,
// bytes or time cannot be real, is left out with a warning naming file, benchmark and field. A
// benchmark throttled in any of its repetitions is left out of its mode and listed in `excluded`.
// A benchmark with only aggregates in a file (--benchmark_report_aggregates_only) is fitted from
// its median aggregate, else its mean, and the file gets a warning saying so. A file with nothing
// to fit gets a warning and is left out. A mode in several files (two boards, or a rerun) pools
// their repetitions, and gets one warning naming the files. Throws InputError when no file has
// anything to fit.
[[nodiscard]] Rooflines fit_rooflines(const std::vector<ResultsFile>& files);

// The power-mode key of a results file: its context's power_mode.key, else the file's stem.
[[nodiscard]] std::string mode_key_of(const ResultsFile& file);

// rooflines.json (rooflines_json.cpp). Only finite numbers are written; unknown is absent.
[[nodiscard]] nlohmann::json to_json(const Rooflines& r);
// Every field is checked as it is read: a wrong type or an impossible figure (a ceiling that is
// not positive, a negative ε or π0, R² above 1, a frequency that is not a positive whole number,
// two modes with one key, a source other than "measured" or "modeled", an unknown knob in
// "extrapolated", an interval that is not [lo, hi] of finite numbers of its figure's sign with
// lo <= figure <= hi, a condition number below 1) throws InputError with one line naming `origin`,
// the mode and the JSON path: "rooflines.json: modes[3] (maxn): energy.cuda.eps_flop_J.fp32 =
// -1e-12 is negative".
[[nodiscard]] Rooflines rooflines_from_json(const nlohmann::json& doc, const std::string& origin);
[[nodiscard]] Rooflines load_rooflines(const std::filesystem::path& path);

}  // namespace edgeroof::reports
