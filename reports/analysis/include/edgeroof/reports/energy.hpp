// The energy roofline of one power mode and backend: E = W·ε_flop[dtype] + Q·ε_byte[level] + π0·T,
// fitted by non-negative weighted least squares on relative residuals over every repetition of the
// benchmarks that carry energy_J, with 95% intervals and a condition number (README.md: Contracts).
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

// One repetition of a benchmark as the energy fit sees it, per iteration. Samples with one name are
// the repetitions of one benchmark (a benchmark with only aggregates gives one sample).
struct EnergySample {
  std::string name;
  std::string column_flop;  // dtype charged for its FLOPs ("" for none)
  std::string column_byte;  // memory level charged for its bytes
  double flops = 0.0;
  double bytes = 0.0;
  double time_s = 0.0;
  double energy_J = 0.0;
};

// A benchmark's median measured joules beside the median of its repetitions' fitted joules.
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

// The idle-power prior on π0: a pseudo-observation π0 = idle_power_W with a standard deviation of
// this share of the idle power. 25% is wide next to what the fit achieves when its benchmarks can
// tell π0 from ε_byte (~1%), so there the prior moves π0 by (1/25)² of its distance to idle; it
// decides only when the data cannot (memory-bound benchmarks only), where it keeps π0 near the
// chip's measured floor instead of anywhere along the collinear valley. A busy chip's static
// power is not its idle power: π0 stays a free parameter, and both are reported.
inline constexpr double kIdlePriorRelativeSigma = 0.25;

// The condition number of the weighted, column-scaled design above which the fit warns. The
// relative error of a constant can reach the condition number times the relative noise of the
// joules; sensors give ~0.5-1% per benchmark, so at 100 an error as large as the constant itself
// is possible. The suite's default sweep gives ~13 (synthetic Orin mode, every grid mode of
// edgeroof-reports-speed below 100); DRAM triads alone ~190 with 1% noise on times, and 1/ε
// (exactly collinear) without.
inline constexpr double kConditionWarning = 100.0;

struct EnergyFitOptions {
  std::optional<double> idle_power_W;      // measured idle power: soft prior on π0, reported beside it
  std::string backend;                     // "cuda", "cpu": names the benchmarks a warning suggests
  std::map<std::string, double> ridge_ai;  // by dtype: FLOP/B where its ceiling meets DRAM bandwidth
};

// Fits ε and π0 over the repetitions of one backend. Each row is one repetition weighted by
// 1 / its measured energy, so every benchmark counts by its relative error (the noise is
// multiplicative; energies span microjoules to joules); the constants stay non-negative
// (Lawson-Hanson); with idle_power_W a prior row pulls π0 towards it (kIdlePriorRelativeSigma
// times the residual scatter). R² is computed on the joules of the repetitions.
//
// Intervals (ci95): estimate ± t(0.975, rows − unknowns) · σ per constant, lo clipped at 0, where σ²
// is the larger of the covariance of the weighted fit, s² (AᵀA)⁻¹ with all columns, and its
// cluster-robust form over benchmarks (the sandwich with each benchmark's repetitions as one
// cluster, which holds when a benchmark's repetitions share an error the model does not have).
// No intervals when AᵀA is singular. `condition` is that of the weighted, column-scaled data rows;
// above kConditionWarning `warnings` names the constants that cannot be told apart and the
// benchmarks that would separate them.
//
// Samples whose figures cannot be real (energy or time not positive, negative counts, anything not
// finite) are not used. Needs more rows than unknowns; nullopt otherwise, or when a constant comes
// out not finite.
[[nodiscard]] std::optional<EnergyFit> fit_energy(const std::vector<EnergySample>& samples,
                                                  const EnergyFitOptions& options = {});

// Student's t quantile at 0.975 for `dof` degrees of freedom (>= 1): exact for 1 to 3, a
// Cornish-Fisher expansion in 1/dof beyond (within 0.04% from 4 on). A fractional dof counts as
// the whole number below it.
[[nodiscard]] double t_quantile_975(double dof);

}  // namespace edgeroof::reports
