// Synthetic edgeroof-bench results for one power mode, in Google Benchmark's JSON format: times
// from the time roofline, joules from E = W·ε_flop + Q·ε_byte + π0·T, both with Gaussian noise
// from a fixed seed, so that fits can be checked against the constants that made the data.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace edgeroof::testing {

struct SyntheticMode {
  std::string key = "maxn";
  std::string name = "MAXN";
  std::optional<int> id = 0;  // nvpmodel id; grid modes have none
  std::int64_t gpu_hz = 1300500000, emc_hz = 3199000000;
  std::map<std::string, double> flops_per_s = {{"fp32", 5.0e12}, {"fp64", 3.2e11}, {"fp16-tensor", 4.0e13}};
  std::map<std::string, double> bytes_per_s = {{"dram", 1.5e11}, {"l2", 6.0e11}};
  std::map<std::string, double> eps_flop_J = {{"fp32", 8.0e-12}, {"fp64", 3.0e-11}, {"fp16-tensor", 1.2e-12}};
  std::map<std::string, double> eps_byte_J = {{"dram", 1.2e-10}, {"l2", 3.0e-11}};
  double static_W = 9.0;
  double idle_power_W = 7.5;
  double noise = 0.005;      // relative standard deviation of energies
  double time_noise = 0.01;  // and of times
  int repetitions = 3;
  bool with_energy = true;
};

// Box-Muller on mt19937's raw output (its sequence is fixed by the standard; distributions are not).
class Noise {
public:
  explicit Noise(unsigned seed) : m_rng(seed) {}
  double gaussian() {
    const double u1 = (static_cast<double>(m_rng()) + 0.5) / 4294967296.0;
    const double u2 = (static_cast<double>(m_rng()) + 0.5) / 4294967296.0;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

private:
  std::mt19937 m_rng;
};

// The repetitions of each benchmark of a mode: times with noise, energy by the mode's constants.
class SyntheticRows {
public:
  SyntheticRows(const SyntheticMode& m, unsigned seed) : m_mode(m), m_noise(seed) {}
  void add(const std::string& name, double flops, double bytes, double time_s, double flops_for_energy,
           const std::string& byte_level, const std::string& label) {
    using nlohmann::json;
    const SyntheticMode& m = m_mode;
    for (int rep = 0; rep < m.repetitions; ++rep) {
      const double t = time_s * (1.0 + m.time_noise * m_noise.gaussian());
      json b = {{"name", name},
                {"run_name", name},
                {"run_type", "iteration"},
                {"repetitions", m.repetitions},
                {"repetition_index", rep},
                {"threads", 1},
                {"iterations", 10},
                {"real_time", t * 1e3},
                {"cpu_time", 1e-3},
                {"time_unit", "ms"},
                {"flops", flops},
                {"bytes", bytes},
                {"ai", flops / bytes},
                {"FLOP/s", flops / t},
                {"B/s", bytes / t}};
      if (m.with_energy) {
        double e = m.static_W * t + bytes * m.eps_byte_J.at(byte_level);
        if (flops_for_energy > 0.0) e += flops_for_energy;
        e *= 1.0 + m.noise * m_noise.gaussian();
        b["energy_J"] = e;
        b["power_W"] = e / t;
      }
      if (!label.empty()) b["label"] = label;
      m_rows.push_back(b);
    }
  }
  [[nodiscard]] const nlohmann::json& rows() const { return m_rows; }

private:
  const SyntheticMode& m_mode;
  Noise m_noise;
  nlohmann::json m_rows = nlohmann::json::array();
};

inline nlohmann::json synthetic_context(const SyntheticMode& m) {
  nlohmann::json context = {{"date", "2026-11-27T07:00:00+00:00"},
                            {"host_name", "orin"},
                            {"num_cpus", 12},
                            {"edgeroof.version", "0.1.0"},
                            {"device.name", "Orin"},
                            {"device.backend", "cuda"},
                            {"power_mode.key", m.key},
                            {"power_mode.name", m.name},
                            {"power_mode.gpu_hz", std::to_string(m.gpu_hz)},
                            {"power_mode.emc_hz", std::to_string(m.emc_hz)}};
  if (m.id) context["power_mode.id"] = std::to_string(*m.id);
  if (m.with_energy) {
    context["idle_power_W"] = std::to_string(m.idle_power_W);
    context["sensor.name"] = "synthetic";
  }
  return context;
}

inline std::string synthetic_results(const SyntheticMode& m, unsigned seed) {
  SyntheticRows rows(m, seed);
  const double q = 268435456.0;
  for (const char* dtype : {"fp32", "fp64"}) {
    for (double ai = 0.125; ai <= 256.0; ai *= 2.0) {  // kernels::default_intensities()
      const double w = ai * q;
      const double t = std::max(w / m.flops_per_s.at(dtype), q / m.bytes_per_s.at("dram"));
      char name[64];
      std::snprintf(name, sizeof(name), "compute/cuda/%s/ai:%g", dtype, ai);
      rows.add(name, w, q, t, w * m.eps_flop_J.at(dtype), "dram", "");
    }
  }
  for (int n = 1024; n <= 8192; n *= 2) {
    const double nn = n, w = 2.0 * nn * nn * nn, bytes = 3.0 * nn * nn * 2.0;
    const double t = std::max(w / m.flops_per_s.at("fp16-tensor"), bytes / m.bytes_per_s.at("dram"));
    rows.add("compute/cuda/fp16-tensor/gemm:" + std::to_string(n), w, bytes, t, w * m.eps_flop_J.at("fp16-tensor"),
             "dram", "");
  }
  // Memory kernels: triad moves 24 bytes per 2 FLOP; their FLOP energy is part of ε_byte.
  for (double ws : {524288.0, 1048576.0, 2097152.0}) {
    const double bytes = 64.0 * ws;
    rows.add("memory/cuda/triad/bytes:" + std::to_string(static_cast<long long>(ws)), bytes / 12.0, bytes,
             bytes / m.bytes_per_s.at("l2"), 0.0, "l2", "level:l2");
  }
  for (double ws : {67108864.0, 134217728.0, 268435456.0, 536870912.0}) {
    rows.add("memory/cuda/triad/bytes:" + std::to_string(static_cast<long long>(ws)), ws / 12.0, ws,
             ws / m.bytes_per_s.at("dram"), 0.0, "dram", "level:dram");
  }
  return nlohmann::json{{"context", synthetic_context(m)}, {"benchmarks", rows.rows()}}.dump(1);
}

}  // namespace edgeroof::testing
