// A small physics board for the mode-space model's unit tests: the per-mode roofline figures of
// an Orin-AGX-like grid straight from formulas, with multiplicative noise and intervals as a fit
// would give them. Its shapes are deliberately not the model's own (a V–f curve with a power in
// it, an EMC efficiency that falls at low clocks, a smooth minimum of sharpness 6, CPU power per
// core rising with the CPU's own voltage), so a test passing here is not the model fitting itself.
// (tests/support/standin makes whole benchmark results; this one skips the benchmarks.)
#pragma once

#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/modespace.hpp"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace edgeroof::testing {

struct PhysicsBoard {
  std::vector<std::int64_t> gpu_hz = {114750000, 216750000, 318750000,  420750000,  522750000,  624750000, 726750000,
                                      828750000, 930750000, 1032750000, 1134750000, 1236750000, 1300500000};
  std::vector<std::int64_t> emc_hz = {204000000, 665600000, 2133000000, 3199000000};
  std::vector<std::int64_t> cpu_khz = {268800,  422400,  576000,  729600,  883200,  1036800, 1190400,
                                       1344000, 1497600, 1651200, 1804800, 1958400, 2112000, 2201600};
  std::vector<int> cores = {2, 4, 6, 8, 10, 12};

  static double gpu_volts(double f_hz) {
    const double x = std::max(0.0, (f_hz - 520e6) / 780e6);
    return 0.61 + 0.34 * std::pow(x, 1.2);
  }
  static double cpu_volts(double f_khz) { return 0.6 + 0.4 * std::pow(f_khz / 2201600.0, 2.0); }
  static double smin(double a, double b, double p) { return std::pow(std::pow(a, -p) + std::pow(b, -p), -1.0 / p); }

  [[nodiscard]] std::vector<reports::ModeKnobs> modes() const {
    std::vector<reports::ModeKnobs> out;
    for (int c : cores)
      for (auto fc : cpu_khz)
        for (auto fg : gpu_hz)
          for (auto fm : emc_hz) {
            reports::ModeKnobs m;
            m.key = "c" + std::to_string(c) + "-cpu" + std::to_string(fc) + "-gpu" + std::to_string(fg) + "-emc" +
                    std::to_string(fm);
            m.name = m.key;
            m.cpu_online = c;
            m.cpu_khz = fc;
            m.gpu_hz = fg;
            m.emc_hz = fm;
            out.push_back(m);
          }
    return out;
  }

  // The mode's true figures; with `noise` > 0 each figure is off by a Gaussian relative error of
  // that size times its kind's factor, and carries the ci95 a fit would report.
  [[nodiscard]] reports::RooflineMode mode(const reports::ModeKnobs& k, double noise, std::mt19937& rng) const {
    std::normal_distribution<double> gauss(0.0, 1.0);
    auto noisy = [&](double v, double rel, std::optional<reports::Interval>* ci) {
      const double s = noise * rel;
      if (ci && s > 0.0) *ci = reports::Interval{v * (1.0 - 1.96 * s), v * (1.0 + 1.96 * s)};
      const double out = v * (1.0 + s * gauss(rng));
      if (ci && *ci) **ci = {(*ci)->lo * out / v, (*ci)->hi * out / v};
      return out;
    };
    const double fg = static_cast<double>(*k.gpu_hz), fm = static_cast<double>(*k.emc_hz);
    const double fc = static_cast<double>(*k.cpu_khz), n = *k.cpu_online;
    const double vg = gpu_volts(fg), vc = cpu_volts(fc);
    reports::RooflineMode m;
    m.key = k.key;
    m.name = k.name;
    m.cpu_online = k.cpu_online;
    m.cpu_khz = k.cpu_khz;
    m.gpu_hz = k.gpu_hz;
    m.emc_hz = k.emc_hz;
    auto ceiling = [&](const std::string& key, double v, bool compute) {
      reports::Ceiling c;
      std::optional<reports::Interval> ci;
      c.value = noisy(v, 1.0, &ci);
      c.ci95 = ci;
      c.source = key;
      (compute ? m.compute_flops_per_s : m.bandwidth_bytes_per_s)[key] = c;
    };
    const double emc_bw = 204.8e9 * (fm / 3199e6) * (0.8 - 0.12 * std::exp(-fm / 700e6));
    ceiling("cuda/fp32", 4096.0 * fg * 0.97, true);
    ceiling("cuda/fp16-tensor", 4096.0 * fg * 7.4, true);
    ceiling("cpu/fp32", n * fc * 1e3 * 16.0 * 0.93, true);
    ceiling("cuda/dram", smin(emc_bw, 1.7e11 * std::pow(fg / 1.3e9, 0.9), 6.0), false);
    ceiling("cuda/l2", 1.0e12 * fg / 1.3e9, false);
    ceiling("cpu/dram", smin(0.7 * emc_bw, 6.5 * std::pow(n, 0.8) * fc * 1e3, 4.0), false);
    reports::EnergyFit e;
    std::optional<reports::Interval> ci;
    e.eps_flop_J["fp32"] = noisy(4.2e-12 * (vg / 0.61) * (vg / 0.61), 3.0, &ci);
    if (ci) e.eps_flop_ci95["fp32"] = *ci;
    e.eps_flop_J["fp16-tensor"] = noisy(0.9e-12 * (vg / 0.61) * (vg / 0.61), 3.0, &ci);
    if (ci) e.eps_flop_ci95["fp16-tensor"] = *ci;
    e.eps_byte_J["dram"] = noisy(5.5e-11 + 2.0e-11 * std::sqrt(3199e6 / fm) + 1.2e-11 * vg * vg / 0.37, 4.0, &ci);
    if (ci) e.eps_byte_ci95["dram"] = *ci;
    e.eps_byte_J["l2"] = noisy(1.5e-11 * vg * vg / 0.37, 4.0, &ci);
    if (ci) e.eps_byte_ci95["l2"] = *ci;
    const double static_true = 4.1 + n * (0.08 + 0.30 * (fc / 2201600.0) * vc * vc) +
                               (0.9 + 2.8 * (fg / 1.3e9) * vg * vg / 0.37 + 0.8 * vg) + 0.25 + 1.3 * fm / 3199e6;
    e.static_W = noisy(static_true, 2.0, &ci);
    e.static_ci95 = ci;
    e.idle_power_W = 0.8 * static_true;
    e.r2 = 0.999;
    m.energy["cuda"] = e;
    return m;
  }
};

}  // namespace edgeroof::testing
