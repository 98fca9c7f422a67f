// The energy roofline of one power mode and backend: E = W·ε_flop[dtype] + Q·ε_byte[level] + π0·T,
// fitted by non-negative least squares over the benchmarks that carry energy_J (README.md: Contracts).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports {

// A 95% interval [lo, hi] around a figure (lo <= figure <= hi).
struct Interval {
  double lo = 0.0, hi = 0.0;
};

// Dense column-major-free matrix for the small least-squares problems of the energy fit.
struct Matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<double> values;  // row-major

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c) : rows(r), cols(c), values(r * c, 0.0) {}
  [[nodiscard]] double& at(std::size_t r, std::size_t c) { return values[r * cols + c]; }
  [[nodiscard]] double at(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
};

// min ||A x - b||₂ subject to x >= 0, by Lawson and Hanson's active-set algorithm (1974, ch. 23).
// Exact up to rounding for full-rank problems; columns that are all zero get 0. Throws
// std::invalid_argument when the sizes disagree.
[[nodiscard]] std::vector<double> nnls(const Matrix& a, const std::vector<double>& b);

// One benchmark as the energy fit sees it: medians over its repetitions, per iteration.
struct EnergySample {
  std::string name;
  std::string column_flop;  // dtype charged for its FLOPs ("" for none)
  std::string column_byte;  // memory level charged for its bytes
  double flops = 0.0;
  double bytes = 0.0;
  double time_s = 0.0;
  double energy_J = 0.0;
};

struct EnergyResidual {
  std::string name;
  double measured_J = 0.0;
  double fitted_J = 0.0;
};

struct EnergyFit {
  std::map<std::string, double> eps_flop_J;  // by dtype, joules per FLOP
  std::map<std::string, double> eps_byte_J;  // by memory level, joules per byte
  double static_W = 0.0;                     // π0
  double r2 = 0.0;                           // of the joules themselves
  std::vector<EnergyResidual> residuals;
  std::vector<std::string> benchmarks;
  std::optional<double> idle_power_W;  // measured separately by edgeroof-bench
  // 95% intervals beside each figure (absent where they could not be computed).
  std::map<std::string, Interval> eps_flop_ci95, eps_byte_ci95;
  std::optional<Interval> static_ci95;
  // Condition number of the weighted, column-scaled design; large when π0 and ε_byte cannot be
  // told apart (memory-bound benchmarks only: Q/T is the same for all of them).
  std::optional<double> condition;
  // Why a figure is unsure, one line each, naming the benchmarks that would separate it.
  std::vector<std::string> warnings;
  // π0 minus the measured idle power: what running costs beyond idling even with no work done.
  [[nodiscard]] std::optional<double> static_vs_idle_W() const {
    if (!idle_power_W) return std::nullopt;
    return static_W - *idle_power_W;
  }
};

// Fits ε and π0 over samples of one backend. Rows are weighted by 1 / measured energy so every
// benchmark counts by its relative error (energies span microjoules to joules); R² is computed
// on the joules. Samples whose figures cannot be real (energy or time not positive, negative
// counts, anything not finite) are not used. Needs more samples than unknowns; nullopt otherwise,
// or when a constant comes out not finite.
[[nodiscard]] std::optional<EnergyFit> fit_energy(const std::vector<EnergySample>& samples);

}  // namespace edgeroof::reports
