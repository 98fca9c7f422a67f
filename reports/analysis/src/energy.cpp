// The energy fit of one mode and backend: rows per repetition weighted by 1 / joules, the idle prior
// on π0, intervals from the covariance (or its cluster-robust form), the condition number and its
// warning (energy.hpp). The linear algebra is in least_squares.cpp.
#include "edgeroof/reports/energy.hpp"

#include "least_squares.hpp"

#include "edgeroof/results/names.hpp"
#include "edgeroof/results/reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace edgeroof::reports {

namespace {

using detail::Conditioning;

// Scales the columns of `a` to unit norm (a zero column stays) and returns the norms.
std::vector<double> scale_to_unit_columns(Matrix& a) {
  std::vector<double> col_norm(a.cols, 0.0);
  for (std::size_t j = 0; j < a.cols; ++j) {
    for (std::size_t i = 0; i < a.rows; ++i) col_norm[j] += a.at(i, j) * a.at(i, j);
    col_norm[j] = std::sqrt(col_norm[j]);
    if (col_norm[j] == 0.0) col_norm[j] = 1.0;
    for (std::size_t i = 0; i < a.rows; ++i) a.at(i, j) /= col_norm[j];
  }
  return col_norm;
}

bool usable(const EnergySample& s) {
  return s.energy_J > 0.0 && std::isfinite(s.energy_J) && s.time_s > 0.0 && std::isfinite(s.time_s) && s.flops >= 0.0 &&
         std::isfinite(s.flops) && s.bytes >= 0.0 && std::isfinite(s.bytes);
}

// The rows of the fit, one per usable repetition, each with its benchmark (its cluster), and the
// columns: one per dtype, one per memory level, π0 last.
struct Rows {
  std::vector<const EnergySample*> used;
  std::vector<std::size_t> cluster;
  std::vector<std::string> benchmarks;  // in the order first seen
  std::map<std::string, std::size_t> flop_col, byte_col;
  std::size_t static_col = 0, cols = 0;
};

Rows rows_of(const std::vector<EnergySample>& samples) {
  Rows r;
  std::map<std::string, std::size_t> index;
  for (const auto& s : samples) {
    if (!usable(s)) continue;
    const auto [it, added] = index.emplace(s.name, r.benchmarks.size());
    if (added) r.benchmarks.push_back(s.name);
    r.used.push_back(&s);
    r.cluster.push_back(it->second);
    if (!s.column_flop.empty() && s.flops > 0.0) r.flop_col.emplace(s.column_flop, 0);
    if (!s.column_byte.empty() && s.bytes > 0.0) r.byte_col.emplace(s.column_byte, 0);
  }
  for (auto& [k, c] : r.flop_col) c = r.cols++;
  for (auto& [k, c] : r.byte_col) c = r.cols++;
  r.static_col = r.cols++;
  return r;
}

// Weighted rows (1 / measured): every row's target is 1 and its residual the relative error.
Matrix design(const Rows& r) {
  Matrix a(r.used.size(), r.cols);
  for (std::size_t i = 0; i < r.used.size(); ++i) {
    const auto& s = *r.used[i];
    const double wgt = 1.0 / s.energy_J;
    if (auto it = r.flop_col.find(s.column_flop); it != r.flop_col.end()) a.at(i, it->second) = s.flops * wgt;
    if (auto it = r.byte_col.find(s.column_byte); it != r.byte_col.end()) a.at(i, it->second) = s.bytes * wgt;
    a.at(i, r.static_col) = s.time_s * wgt;
  }
  return a;
}

// 1 − A x for the first `rows` rows (the data; a prior row follows them).
std::vector<double> relative_residuals(const Matrix& a, const std::vector<double>& x, std::size_t rows) {
  std::vector<double> out(rows, 1.0);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < a.cols; ++j) out[i] -= a.at(i, j) * x[j];
  }
  return out;
}

double mean_square(const std::vector<double>& r, std::size_t dof) {
  double ss = 0.0;
  for (double v : r) ss += v * v;
  return ss / static_cast<double>(dof);
}

// The weighted fit (scaled columns), with the idle prior as one more row when there is one: the
// relative error of π0 against idle, weighted so that it counts as a datum whose scatter is
// kIdlePriorRelativeSigma where the data rows scatter by their own residual spread.
struct Solved {
  Matrix a;  // the data rows, then the prior row if any
  std::vector<double> x;
};

Solved solve(Matrix a, const Rows& r, double static_norm, std::optional<double> idle_W) {
  const std::size_t m = a.rows;
  std::vector<double> rhs(m, 1.0);
  auto x = nnls(a, rhs);
  if (!idle_W || !(*idle_W > 0.0) || !std::isfinite(*idle_W)) return {std::move(a), std::move(x)};
  const double sigma = std::sqrt(mean_square(relative_residuals(a, x, m), m - a.cols));
  const double w = sigma / kIdlePriorRelativeSigma;
  Matrix aug(m + 1, a.cols);
  std::copy(a.values.begin(), a.values.end(), aug.values.begin());
  aug.at(m, r.static_col) = w / (static_norm * *idle_W);
  rhs.push_back(w);
  x = nnls(aug, rhs);
  return {std::move(aug), std::move(x)};
}

// The variance of each scaled constant: the larger of s²·M⁻¹ (M = AᵀA with the prior row) and the
// cluster-robust sandwich M⁻¹ (Σ_g c·s_g s_gᵀ + s²·p pᵀ) M⁻¹, s_g the score Σ a_i r_i of benchmark
// g's repetitions and c = G/(G−1) · (m−1)/(m−n) its small-sample correction.
std::optional<std::vector<double>> variances(const Solved& s, const Rows& r) {
  const auto minv = detail::spd_inverse(detail::gram(s.a));
  if (!minv) return std::nullopt;
  const std::size_t m = r.used.size(), n = s.a.cols, groups = r.benchmarks.size();
  const auto res = relative_residuals(s.a, s.x, m);
  const double s2 = mean_square(res, m - n);
  std::vector<double> score(groups * n, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) score[r.cluster[i] * n + j] += s.a.at(i, j) * res[i];
  }
  const double c = groups > 1 ? static_cast<double>(groups) / static_cast<double>(groups - 1) *
                                    static_cast<double>(m - 1) / static_cast<double>(m - n)
                              : 1.0;
  std::vector<double> robust(n, 0.0);
  for (std::size_t g = 0; g < groups; ++g) {
    const auto u = detail::times(*minv, std::vector<double>(score.begin() + g * n, score.begin() + (g + 1) * n));
    for (std::size_t j = 0; j < n; ++j) robust[j] += c * u[j] * u[j];
  }
  for (std::size_t i = m; i < s.a.rows; ++i) {  // the prior row: its model-based share
    const auto u =
        detail::times(*minv, std::vector<double>(s.a.values.begin() + i * n, s.a.values.begin() + (i + 1) * n));
    for (std::size_t j = 0; j < n; ++j) robust[j] += s2 * u[j] * u[j];
  }
  std::vector<double> out(n);
  for (std::size_t j = 0; j < n; ++j) out[j] = std::max(s2 * minv->at(j, j), robust[j]);
  return out;
}

std::string constant_name(const Rows& r, std::size_t col) {
  if (col == r.static_col) return "π0";
  for (const auto& [k, c] : r.flop_col) {
    if (c == col) return "ε_flop[" + k + "]";
  }
  for (const auto& [k, c] : r.byte_col) {
    if (c == col) return "ε_byte[" + k + "]";
  }
  return "?";
}

// Compute-bound benchmarks of the intensity sweep (their time follows FLOPs, not bytes, so their
// bytes per second differ from a memory benchmark's): for each swept dtype with a known ridge point
// the first power-of-two intensity at 4× the ridge, else fp32 at ai:256, the top of
// kernels::default_intensities() and compute-bound on every device the suite knows.
std::string separating_benchmarks(const Rows& r, const EnergyFitOptions& o) {
  const std::string backend = o.backend.empty() ? "<backend>" : o.backend;
  std::vector<std::string> names;
  for (const auto& [dtype, ridge] : o.ridge_ai) {
    if (!(ridge > 0.0) || !std::isfinite(ridge) || (!r.flop_col.empty() && r.flop_col.count(dtype) == 0)) continue;
    double ai = 1.0;
    while (ai < 4.0 * ridge && ai < 1e6) ai *= 2.0;
    names.push_back(results::format_name(results::ComputeName{backend, dtype, ai}));
    if (names.size() == 2) break;
  }
  if (names.empty()) names.push_back(results::format_name(results::ComputeName{backend, "fp32", 256.0}));
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The warning of an ill-conditioned fit, naming the two constants the weakest direction mixes most.
std::string separation_warning(const Rows& r, const Conditioning& c, const EnergyFitOptions& o) {
  std::vector<std::size_t> order(c.weakest.size());
  for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
  std::sort(order.begin(), order.end(),
            [&](std::size_t x, std::size_t y) { return std::abs(c.weakest[x]) > std::abs(c.weakest[y]); });
  char cond[32];
  std::snprintf(cond, sizeof(cond), "%.3g", c.condition);
  std::size_t first = order[0], second = order.size() > 1 ? order[1] : order[0];
  if (second == r.static_col) std::swap(first, second);
  const std::string pair = constant_name(r, first) + " and " + constant_name(r, second);
  const bool static_byte = first == r.static_col && constant_name(r, second).rfind("ε_byte", 0) == 0;
  if (!static_byte) {
    return pair + " cannot be separated (condition " + cond + "): add benchmarks in which one varies without the other";
  }
  return pair + " cannot be separated (condition " + cond +
         "): add benchmarks with a different bytes-per-second, e.g. " + separating_benchmarks(r, o);
}

// Per benchmark: the median of its measured joules beside the median of its fitted ones; R² over
// the repetitions.
void add_residuals(EnergyFit& fit, const Rows& r) {
  std::vector<std::vector<double>> measured(r.benchmarks.size()), fitted(r.benchmarks.size());
  double mean = 0.0;
  for (const auto* s : r.used) mean += s->energy_J;
  mean /= static_cast<double>(r.used.size());
  double ss_res = 0.0, ss_tot = 0.0;
  for (std::size_t i = 0; i < r.used.size(); ++i) {
    const auto& s = *r.used[i];
    double e = fit.static_W * s.time_s;
    if (auto it = fit.eps_flop_J.find(s.column_flop); it != fit.eps_flop_J.end()) e += it->second * s.flops;
    if (auto it = fit.eps_byte_J.find(s.column_byte); it != fit.eps_byte_J.end()) e += it->second * s.bytes;
    measured[r.cluster[i]].push_back(s.energy_J);
    fitted[r.cluster[i]].push_back(e);
    ss_res += (s.energy_J - e) * (s.energy_J - e);
    ss_tot += (s.energy_J - mean) * (s.energy_J - mean);
  }
  for (std::size_t g = 0; g < r.benchmarks.size(); ++g) {
    fit.residuals.push_back({r.benchmarks[g], results::median(measured[g]), results::median(fitted[g])});
  }
  fit.benchmarks = r.benchmarks;
  fit.r2 = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : 1.0;
}

// The 95% interval of every constant; none when the design is singular or a bound is not finite.
void add_intervals(EnergyFit& fit, const Solved& s, const Rows& r, const std::vector<double>& col_norm) {
  const auto var = variances(s, r);
  if (!var) return;
  const double t = t_quantile_975(static_cast<double>(r.used.size() - r.cols));
  auto interval = [&](std::size_t col) {
    const double x = s.x[col] / col_norm[col], half = t * std::sqrt((*var)[col]) / col_norm[col];
    return Interval{std::max(0.0, x - half), x + half};
  };
  for (std::size_t j = 0; j < r.cols; ++j) {
    const Interval ci = interval(j);
    if (!std::isfinite(ci.lo) || !std::isfinite(ci.hi)) return;
  }
  for (const auto& [k, c] : r.flop_col) fit.eps_flop_ci95[k] = interval(c);
  for (const auto& [k, c] : r.byte_col) fit.eps_byte_ci95[k] = interval(c);
  fit.static_ci95 = interval(r.static_col);
}

bool all_finite(const EnergyFit& fit) {
  // Joules of 1e300 would overflow a sum: no fit rather than an infinite constant.
  bool finite = std::isfinite(fit.static_W) && std::isfinite(fit.r2);
  for (const auto& [k, v] : fit.eps_flop_J) finite = finite && std::isfinite(v);
  for (const auto& [k, v] : fit.eps_byte_J) finite = finite && std::isfinite(v);
  for (const auto& r : fit.residuals) finite = finite && std::isfinite(r.fitted_J) && std::isfinite(r.measured_J);
  return finite;
}

}  // namespace

std::optional<EnergyFit> fit_energy(const std::vector<EnergySample>& samples, const EnergyFitOptions& options) {
  const Rows r = rows_of(samples);
  if (r.used.size() <= r.cols) return std::nullopt;
  // Columns scaled to unit norm so that FLOPs (~1e10), bytes and seconds (~1e-3) meet the solver
  // on equal terms.
  Matrix a = design(r);
  const auto col_norm = scale_to_unit_columns(a);
  const Conditioning cond = detail::conditioning(a);
  const Solved s = solve(std::move(a), r, col_norm[r.static_col], options.idle_power_W);

  EnergyFit fit;
  for (const auto& [k, c] : r.flop_col) fit.eps_flop_J[k] = s.x[c] / col_norm[c];
  for (const auto& [k, c] : r.byte_col) fit.eps_byte_J[k] = s.x[c] / col_norm[c];
  fit.static_W = s.x[r.static_col] / col_norm[r.static_col];
  fit.idle_power_W = options.idle_power_W;
  add_residuals(fit, r);
  if (!all_finite(fit)) return std::nullopt;
  add_intervals(fit, s, r, col_norm);
  fit.condition = cond.condition;
  if (cond.condition > kConditionWarning) fit.warnings.push_back(separation_warning(r, cond, options));
  return fit;
}

}  // namespace edgeroof::reports
