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

// Student's t quantile for a two-sided 95% interval with `dof` degrees of freedom (1.96 as dof → ∞).
[[nodiscard]] double t95(double dof);

// log F = smin_p(term₁, term₂), term = c + Σ β·log(knob); β >= 0. term₂ may be absent.
struct PowerTerm {
  std::vector<std::function<double(const Features&)>> knobs;  // each returns the knob (> 0)
  std::vector<std::string> names;
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
  [[nodiscard]] std::vector<double> gradient(const Features& x, const std::vector<double>& theta) const;  // free ones
  double solve(const std::vector<Observation>& obs, const std::vector<double>& w, std::vector<double>& theta) const;

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

  Basis m_basis;
  double m_knee = 0.0;
  std::vector<double> m_theta;
  std::vector<std::size_t> m_active;
  std::vector<double> m_cov;  // active × active
  double m_s2 = 0.0, m_sigma_new = 0.0, m_dof = 0.0, m_rms = 0.0;
};

// Inverse of a small symmetric positive (semi)definite matrix, row-major; a tiny ridge keeps a
// nearly singular one finite.
[[nodiscard]] std::vector<double> invert_spd(std::vector<double> a, std::size_t n);

}  // namespace edgeroof::reports::detail
