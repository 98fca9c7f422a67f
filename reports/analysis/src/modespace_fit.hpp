// The two kinds of fit behind the mode-space model (modespace.hpp): a smooth minimum of power
// laws, fitted in log space by a bounded Levenberg–Marquardt, for ceilings; and a non-negative
// combination of basis functions, fitted by NNLS on relative residuals, for energies. Both give
// the prediction's 95% interval from the residuals and the fit's covariance.
#pragma once

#include "edgeroof/reports/energy.hpp"

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::reports::detail {

// Normalised knobs of one mode: clocks by the largest of the list (so in (0, 1]), cores and TPCs
// on as counts by the largest too. A knob the modes do not vary is 1.
struct Features {
  double cores = 1.0, cpu = 1.0, gpu = 1.0, emc = 1.0, tpcs = 1.0;
};

// One observation of a figure: the mode's features, the value, and its relative standard error
// (from the fit's ci95; 0 when unknown).
struct Observation {
  Features x;
  double value = 0.0;
  double rel_sigma = 0.0;
};

// The relative standard errors of the observations as weights: unknown or implausibly small ones
// are raised to a floor (the median of the known, at least 0.2%), so that one over-confident
// mode cannot pull the fit through itself.
[[nodiscard]] std::vector<double> relative_sigmas(const std::vector<Observation>& obs);

// Student's t quantile for a two-sided 95% interval (energy.hpp's t_quantile_975), dof below 1 taken as 1.
[[nodiscard]] double t95(double dof);

// The interpolation weights of `v` on a sorted table of knob values, linear in log v: one weight
// of 1 on a table value, two between; beyond the ends the end segment extrapolates (`extrapolate`)
// or the end value holds.
[[nodiscard]] std::vector<std::pair<std::size_t, double>> level_weights(const std::vector<double>& levels, double v,
                                                                        bool extrapolate);

// The distinct values of a knob over the observations, ascending.
[[nodiscard]] std::vector<double> levels_of(const std::vector<Observation>& obs,
                                            const std::function<double(const Features&)>& knob);

// The most values a knob may have to be fitted as a table (one constant per value, e.g. the four
// EMC clocks of a Jetson): few enough that each is measured several times within a budget.
inline constexpr std::size_t kMaxTableLevels = 8;

// log F = smin_p(term₁, term₂), term = c + Σ β·log(knob); β >= 0. term₂ may be absent. With a
// `table_knob` of 2 to kMaxTableLevels values among the observations, c is instead one constant
// per value of it (interpolated between them): an efficiency that no power law follows.
struct PowerTerm {
  std::vector<std::function<double(const Features&)>> knobs;  // each returns the knob (> 0)
  std::vector<std::string> names;
  std::function<double(const Features&)> table_knob = nullptr;
  std::string table_name = {};
  std::vector<double> levels = {};  // set by the fit: where each value has 2 observations and
                                    // there are 3 per value in all, else the knob is a power law
};

class PowerLawFit {
public:
  // Fits over `obs`; exponents of knobs that do not vary are fixed at 1 (they only shift c).
  PowerLawFit(const std::vector<Observation>& obs, std::vector<PowerTerm> terms);
  [[nodiscard]] double predict(const Features& x) const;
  [[nodiscard]] Interval interval(const Features& x) const;  // 95%, around predict(x)
  [[nodiscard]] std::string form() const;
  [[nodiscard]] double rms_relative() const { return m_rms; }

private:
  [[nodiscard]] double log_value(const Features& x, const std::vector<double>& theta) const;
  [[nodiscard]] std::vector<double> term_values(const Features& x, const std::vector<double>& theta) const;
  [[nodiscard]] std::size_t bases(std::size_t t) const {
    return m_terms[t].levels.empty() ? 1 : m_terms[t].levels.size();
  }
  [[nodiscard]] std::vector<double> gradient(const Features& x, const std::vector<double>& theta) const;  // free ones
  double solve(const std::vector<Observation>& obs, const std::vector<double>& w, std::vector<double>& theta) const;
  void choose_free(const std::vector<Observation>& obs);
  double fit_all_sharpness(const std::vector<Observation>& obs, const std::vector<double>& w);
  void finish(const std::vector<Observation>& obs, const std::vector<double>& w, double sse);

  std::vector<PowerTerm> m_terms;
  std::vector<std::size_t> m_offset;  // first parameter of each term (its c)
  std::vector<bool> m_free;
  std::vector<double> m_theta;
  double m_p = 8.0;           // sharpness of the smooth minimum
  std::vector<double> m_cov;  // free × free, row-major
  double m_s2 = 0.0, m_sigma_new = 0.0, m_dof = 0.0, m_rms = 0.0;
};

// v = Σ θⱼ·φⱼ(x), θ >= 0. `knees` are candidate break points of the hinge features; the basis
// gets the chosen knee and is fitted for each, the best kept.
struct Basis {
  std::function<std::vector<double>(const Features&, double knee)> phi;
  std::vector<std::string> names;
  std::vector<double> knees = {0.0};
};

class BasisFit {
public:
  BasisFit(const std::vector<Observation>& obs, Basis basis);
  [[nodiscard]] double predict(const Features& x) const;
  [[nodiscard]] Interval interval(const Features& x) const;
  [[nodiscard]] std::string form() const;
  [[nodiscard]] double rms_relative() const { return m_rms; }
  [[nodiscard]] double knee() const { return m_knee; }

private:
  double fit_at(const std::vector<Observation>& obs, const std::vector<double>& sigma, double knee,
                std::vector<double>& theta) const;
  double fit_knees(const std::vector<Observation>& obs, const std::vector<double>& sigma);
  void finish(const std::vector<Observation>& obs, const std::vector<double>& sigma, double sse);

  Basis m_basis;
  double m_knee = 0.0;
  std::vector<double> m_theta;
  std::vector<std::size_t> m_active;
  std::vector<double> m_cov;  // active × active
  double m_s2 = 0.0, m_sigma_new = 0.0, m_dof = 0.0, m_rms = 0.0;
};

// The variance factor s² of the weighted residuals: the weights are the measured modes' own
// intervals, which can be too wide (t of 2 degrees of freedom for 3 repetitions) or too narrow
// (misfit), so with 8 degrees of freedom or more the scatter decides; below that it may only widen.
[[nodiscard]] double residual_scale(double sse, double dof);

// The sum of squares of the standardised residuals z, each clipped at 3 robust standard deviations
// (1.4826 × their median absolute value): a mode that a throttled run disturbed, down-weighted in
// the fit, must not widen every interval, nor the Huber weights narrow them.
[[nodiscard]] double robust_sse(const std::vector<double>& z);

// Huber's weight factors (1 within 2.5 robust standard deviations, falling as 1/|z| beyond) of
// standardised residuals.
[[nodiscard]] std::vector<double> huber_factors(const std::vector<double>& z);

// Inverse of a small symmetric positive (semi)definite matrix, row-major; a tiny ridge keeps a
// nearly singular one finite.
[[nodiscard]] std::vector<double> invert_spd(std::vector<double> a, std::size_t n);

}  // namespace edgeroof::reports::detail
