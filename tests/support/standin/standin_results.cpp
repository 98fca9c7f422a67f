// The stand-in's results files: the families edgeroof-bench registers on a CUDA Jetson, timed and
// charged by the physics of standin_physics.cpp, with noise and occasional throttled repetitions.
#include "standin.hpp"

#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace edgeroof::standin {

namespace {

namespace counters = results::counters;
namespace keys = results::context;
using nlohmann::json;

constexpr double mib = 1048576.0;
constexpr double compute_array_bytes = 64 * mib;    // the compute kernels' array (edgeroof-bench: max(64 MiB, 4·L2))
constexpr double memory_target_bytes = 1024 * mib;  // traffic of one memory iteration at least

// Box–Muller on mt19937's raw output: its sequence is fixed by the standard, distributions are not.
class Random {
public:
  explicit Random(std::uint32_t seed) : m_rng(seed) {}
  double uniform() { return (static_cast<double>(m_rng()) + 0.5) / 4294967296.0; }
  double gaussian() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

private:
  std::mt19937 m_rng;
};

std::uint32_t mix(unsigned seed, const std::string& key) {
  std::uint32_t h = 2166136261u ^ seed;  // FNV-1a over the key, started from the seed
  for (const unsigned char c : key) h = (h ^ c) * 16777619u;
  return h;
}

// One benchmark before noise: work, time and energy per iteration.
struct Ideal {
  std::string name, label, unit;
  double flops = 0, bytes = 0, time_s = 0, dynamic_J = 0, busy_W = 0;
  double working_set = 0;  // memory families
  int pool_threads = 0;    // CPU families
};

// (a^q + b^q)^(1/q): the longer of compute and memory time, softened near the ridge.
double smooth_max(double a, double b, double q) { return std::pow(std::pow(a, q) + std::pow(b, q), 1.0 / q); }

void add_compute(std::vector<Ideal>& out, const StandinBoard& b, const Figures& f, const std::string& backend,
                 const std::string& dtype, double lowest_ai, int threads) {
  const bool cpu = backend == "cpu";
  const double peak = cpu ? f.cpu_flops_per_s : dtype == "fp16" ? f.fp16_flops_per_s : f.fp32_flops_per_s;
  const double flop_J = cpu ? f.cpu_flop_J : dtype == "fp16" ? f.fp16_flop_J : f.fp32_flop_J;
  const double bw = cpu ? f.cpu_dram_bytes_per_s : f.dram_bytes_per_s;
  const double byte_J = cpu ? f.cpu_dram_byte_J : f.dram_byte_J;
  for (double ai = lowest_ai; ai <= 256.0; ai *= 2.0) {
    Ideal i;
    i.name = results::format_name(results::ComputeName{backend, dtype, ai});
    i.unit = cpu ? "ms" : "us";
    i.bytes = 2.0 * compute_array_bytes;
    i.flops = ai * i.bytes;
    i.time_s = smooth_max(i.flops / peak, i.bytes / bw, b.time_sharpness);
    i.dynamic_J = i.flops * flop_J + i.bytes * byte_J;
    i.busy_W = cpu ? f.cpu_busy_W : f.gpu_busy_W;
    i.pool_threads = threads;
    out.push_back(std::move(i));
  }
}

void add_tensor(std::vector<Ideal>& out, const StandinBoard& b, const Figures& f) {
  for (std::int64_t n = 1024; n <= 8192; n *= 2) {
    const double nn = static_cast<double>(n);
    Ideal i;
    i.name = results::format_name(results::GemmName{"cuda", "fp16-tensor", n});
    i.unit = "ms";
    i.flops = 2.0 * nn * nn * nn;
    i.bytes = 3.0 * nn * nn * 2.0;
    const double efficiency = 1.0 / (1.0 + (b.tensor_half_n / nn) * (b.tensor_half_n / nn));
    i.time_s =
        smooth_max(i.flops / (f.tensor_flops_per_s * efficiency), i.bytes / f.dram_bytes_per_s, b.time_sharpness);
    i.dynamic_J = i.flops * f.tensor_flop_J + i.bytes * f.dram_byte_J;
    i.busy_W = f.gpu_busy_W;
    out.push_back(std::move(i));
  }
}

// Triad over working sets: level l2 where the set fits in half the cache, dram from four times it,
// mixed between (its bandwidth blends the two by the share that stays in the cache).
struct MemorySide {
  std::string backend;
  double cache_bytes, l2_bps, dram_bps, l2_J, dram_J, flop_J, busy_W;
  int threads;
};

void add_triad(std::vector<Ideal>& out, const MemorySide& m, const std::vector<double>& sets) {
  for (double ws : sets) {
    Ideal i;
    i.name = results::format_name(results::MemoryName{m.backend, "triad", static_cast<std::uint64_t>(ws)});
    i.unit = "us";
    i.working_set = ws;
    i.bytes = std::ceil(memory_target_bytes / ws) * ws;
    i.flops = i.bytes / 6.0;  // 2 FLOP per 12 bytes
    double bps = 0, byte_J = 0;
    if (ws <= m.cache_bytes / 2) {
      i.label = results::level_token("l2");
      bps = m.l2_bps * (1.0 - 0.03 * mib / ws);
      byte_J = m.l2_J;
    } else if (ws >= 4 * m.cache_bytes) {
      i.label = results::level_token("dram");
      bps = m.dram_bps * (1.0 - 0.05 * 16 * mib / ws);
      byte_J = m.dram_J;
    } else {
      i.label = results::level_token("mixed");
      const double s = std::min(1.0, m.cache_bytes / ws) * 0.5;
      bps = 1.0 / (s / m.l2_bps + (1.0 - s) / m.dram_bps);
      byte_J = s * m.l2_J + (1.0 - s) * m.dram_J;
    }
    i.time_s = i.bytes / bps;
    i.dynamic_J = i.bytes * byte_J + i.flops * m.flop_J;
    i.busy_W = m.busy_W;
    i.pool_threads = m.threads;
    out.push_back(std::move(i));
  }
}

std::vector<Ideal> ideals(const StandinBoard& b, const Knobs& k, const Figures& f) {
  std::vector<Ideal> out;
  add_compute(out, b, f, "cuda", "fp32", 0.125, 0);
  add_compute(out, b, f, "cuda", "fp16", 0.25, 0);
  add_tensor(out, b, f);
  std::vector<double> gpu_sets;
  for (double ws = 1 * mib; ws <= 256 * mib; ws *= 2) gpu_sets.push_back(ws);
  add_triad(out,
            {"cuda", b.l2_bytes, f.l2_bytes_per_s, f.dram_bytes_per_s, f.l2_byte_J, f.dram_byte_J, f.fp32_flop_J,
             f.gpu_busy_W, 0},
            gpu_sets);
  add_compute(out, b, f, "cpu", "fp32", 0.125, k.cpu_online);
  const double cpu_cache = k.cpu_online * 2 * mib;  // L2 per core, L3 per cluster: 2 MiB a core in all
  add_triad(out,
            {"cpu", cpu_cache, f.cpu_l2_bytes_per_s, f.cpu_dram_bytes_per_s, f.cpu_l2_byte_J, f.cpu_dram_byte_J,
             f.cpu_flop_J, f.cpu_busy_W, k.cpu_online},
            {0.5 * mib, 64 * mib, 128 * mib, 256 * mib});
  return out;
}

double in_unit(double seconds, const std::string& unit) { return seconds * (unit == "ms" ? 1e3 : 1e6); }

json repetition(const Ideal& i, int rep, int reps, double t, double e, bool throttled, double clock_ratio) {
  const double iterations = std::max(1.0, std::ceil(0.2 / i.time_s));
  json r = {{"name", i.name},
            {"run_name", i.name},
            {"run_type", "iteration"},
            {"repetitions", reps},
            {"repetition_index", rep},
            {"threads", 1},
            {"iterations", iterations},
            {"real_time", in_unit(t, i.unit)},
            {"cpu_time", in_unit(t * 0.97, i.unit)},
            {"time_unit", i.unit}};
  r[counters::flops] = i.flops;
  r[counters::bytes] = i.bytes;
  r[counters::ai] = i.flops / i.bytes;
  r[counters::flop_rate] = i.flops / t;
  r[counters::byte_rate] = i.bytes / t;
  r[counters::energy_J] = e;
  r[counters::power_W] = e / t;
  r[counters::sensor_updates] = std::floor(t * iterations / 0.005);
  r[counters::clock_min_ratio] = clock_ratio;
  r[counters::throttled] = throttled ? 1 : 0;
  if (i.working_set > 0) r[counters::working_set_bytes] = i.working_set;
  if (i.pool_threads > 0) r[counters::pool_threads] = i.pool_threads;
  std::string label = i.label;
  if (throttled) label = results::add_label_token(label, results::labels::throttled);
  if (!label.empty()) r["label"] = label;
  return r;
}

// Google Benchmark's aggregates of the repetitions: mean, median, stddev, cv of times and counters.
void add_aggregates(json& rows, std::size_t first, int reps) {
  const json base = rows[first];
  std::vector<std::string> fields = {"real_time", "cpu_time"};
  for (const auto& [k, v] : base.items()) {
    if (v.is_number() && k != "repetitions" && k != "repetition_index" && k != "threads" && k != "iterations" &&
        k != "real_time" && k != "cpu_time")
      fields.push_back(k);
  }
  for (const char* stat : {"mean", "median", "stddev", "cv"}) {
    json a = base;
    a.erase("repetition_index");
    a["name"] = base["name"].get<std::string>() + "_" + stat;
    a["run_type"] = "aggregate";
    a["aggregate_name"] = stat;
    a["aggregate_unit"] = std::string(stat) == "cv" ? "percentage" : "time";
    a["iterations"] = reps;
    for (const auto& field : fields) {
      std::vector<double> v;
      for (int r = 0; r < reps; ++r) v.push_back(rows[first + r][field].get<double>());
      std::sort(v.begin(), v.end());
      double mean = 0;
      for (double x : v) mean += x / reps;
      double var = 0;
      for (double x : v) var += (x - mean) * (x - mean) / std::max(1, reps - 1);
      const double sd = std::sqrt(var);
      const double median = reps % 2 ? v[reps / 2] : 0.5 * (v[reps / 2 - 1] + v[reps / 2]);
      const std::string s = stat;
      a[field] = s == "mean" ? mean : s == "median" ? median : s == "stddev" ? sd : (mean != 0 ? sd / mean : 0.0);
    }
    rows.push_back(a);
  }
}

json benchmark_rows(const std::vector<Ideal>& list, const NoiseOptions& noise, Random& rng) {
  json rows = json::array();
  int family = 0;
  for (const auto& i : list) {
    const std::size_t first = rows.size();
    const bool throttles = rng.uniform() < noise.throttle_share;
    const int throttled_rep = static_cast<int>(rng.uniform() * noise.repetitions);
    for (int rep = 0; rep < noise.repetitions; ++rep) {
      const bool throttled = throttles && rep == throttled_rep;
      const double slowdown = throttled ? 1.05 + 0.15 * rng.uniform() : 1.0;
      const double t = i.time_s * slowdown * (1.0 + noise.time * rng.gaussian());
      // A throttled run's clocks (and voltages) fell: less energy per operation, more static time.
      const double dynamic = i.dynamic_J * (throttled ? 0.9 : 1.0);
      const double e = (dynamic + i.busy_W * t) * (1.0 + noise.energy * rng.gaussian());
      const double ratio = throttled ? 1.0 / slowdown : 1.0 - 0.01 * rng.uniform();
      json r = repetition(i, rep, noise.repetitions, t, e, throttled, ratio);
      r["family_index"] = family;
      r["per_family_instance_index"] = 0;
      rows.push_back(std::move(r));
    }
    if (noise.aggregates && noise.repetitions > 1) add_aggregates(rows, first, noise.repetitions);
    ++family;
  }
  return rows;
}

json context_of(const StandinBoard& b, const power::PowerMode& m, const Knobs& k, const Figures& f, Random& rng) {
  const std::string idle = results::format_number(f.idle_W * (1.0 + 0.01 * rng.gaussian()));
  json c = {{"date", "2026-12-02T06:00:00+00:00"},
            {"host_name", "standin-" + b.name},
            {"executable", "edgeroof-standin"},
            {"num_cpus", b.cpu_count},
            {"mhz_per_cpu", static_cast<int>(b.cpu_khz.back() / 1000)},
            {"cpu_scaling_enabled", true},
            {"library_build_type", "release"}};
  c[keys::edgeroof_version] = "standin";
  c[keys::device_name] = b.device_name;
  c[keys::device_backend] = "cuda,cpu";
  c[keys::device_l2_bytes] = results::format_number(b.l2_bytes);
  c[keys::sensor_name] = "standin";
  c[keys::sensor_period_s] = "0.005";
  c[keys::idle_power_W] = idle;
  c[keys::clocks_sampled] = "cpu,gpu,emc";
  c[keys::power_mode_key] = m.key;
  c[keys::power_mode_name] = m.name;
  if (m.id) c[keys::power_mode_id] = std::to_string(*m.id);
  c[keys::power_mode_gpu_hz] = std::to_string(k.gpu_hz);
  c[keys::power_mode_emc_hz] = std::to_string(k.emc_hz);
  c[keys::power_mode_cpu_khz] = std::to_string(k.cpu_khz);
  c[keys::power_mode_cpu_online] = std::to_string(k.cpu_online);
  if (m.tpc_pg_mask) c[keys::power_mode_tpc_pg_mask] = std::to_string(*m.tpc_pg_mask);
  c["power_mode.settled"] = "true";
  c[keys::power_mode_idle_power_W] = idle;
  return c;
}

}  // namespace

std::string results_json(const StandinBoard& board, const power::PowerMode& mode, unsigned seed,
                         const NoiseOptions& noise) {
  if (noise.repetitions < 1 || noise.time < 0 || noise.energy < 0 || noise.throttle_share < 0 ||
      noise.throttle_share > 1 || !std::isfinite(noise.time) || !std::isfinite(noise.energy))
    throw std::invalid_argument("noise options out of range");
  const Knobs k = knobs_of(board, mode);
  const Figures f = figures_of(board, k);
  Random rng(mix(seed, mode.key));
  const json context = context_of(board, mode, k, f, rng);
  const json rows = benchmark_rows(ideals(board, k, f), noise, rng);
  return json{{"context", context}, {"benchmarks", rows}}.dump(1) + "\n";
}

}  // namespace edgeroof::standin

namespace edgeroof::standin {

std::string model_results_json(const StandinBoard& board, const power::PowerMode& mode, unsigned seed,
                               const ModelRun& run, const NoiseOptions& noise) {
  if (run.layers.empty()) throw std::invalid_argument("model " + run.name + " has no layers");
  const Knobs k = knobs_of(board, mode);
  const Figures f = figures_of(board, k);
  Ideal i;
  i.name = run.name;
  i.unit = "ms";
  // The layers back to back on the GPU at fp32, each as the compute benchmarks time it: a smooth
  // maximum of compute and DRAM time, so a roofline's plain maximum predicts it a little fast.
  for (const auto& [flops, bytes] : run.layers) {
    i.flops += flops;
    i.bytes += bytes;
    i.time_s += smooth_max(flops / f.fp32_flops_per_s, bytes / f.dram_bytes_per_s, board.time_sharpness);
    i.dynamic_J += flops * f.fp32_flop_J + bytes * f.dram_byte_J;
  }
  i.busy_W = f.gpu_busy_W;
  Random rng(mix(seed, mode.key + "/" + run.name));
  const json context = context_of(board, mode, k, f, rng);
  NoiseOptions quiet = noise;
  quiet.throttle_share = 0.0;  // a verification run that throttled would say so; this one does not
  json rows = benchmark_rows({i}, quiet, rng);
  for (auto& r : rows) r["coverage"] = 1.0;
  return json{{"context", context}, {"benchmarks", rows}}.dump(1) + "\n";
}

}  // namespace edgeroof::standin
