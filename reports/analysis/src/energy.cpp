#include "edgeroof/reports/energy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace edgeroof::reports {

namespace detail {

// Least squares on the columns `use` of A by Householder QR (stable where normal equations would
// square the condition number). Columns whose pivot vanishes are left at 0.
std::vector<double> least_squares_on(const Matrix& a, const std::vector<double>& b,
                                     const std::vector<std::size_t>& use) {
  const std::size_t m = a.rows, n = use.size();
  std::vector<double> r(m * n);  // column-major copy of the used columns
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t i = 0; i < m; ++i) r[j * m + i] = a.at(i, use[j]);
  }
  std::vector<double> qtb = b;
  std::vector<bool> dead(n, false);
  double scale = 0.0;
  for (double v : r) scale = std::max(scale, std::abs(v));
  const double tiny = scale * 1e-13 * static_cast<double>(std::max(m, n));
  for (std::size_t k = 0; k < n && k < m; ++k) {
    double norm = 0.0;
    for (std::size_t i = k; i < m; ++i) norm += r[k * m + i] * r[k * m + i];
    norm = std::sqrt(norm);
    if (norm <= tiny) {
      dead[k] = true;
      continue;
    }
    const double alpha = r[k * m + k] > 0 ? -norm : norm;
    std::vector<double> v(m, 0.0);
    for (std::size_t i = k; i < m; ++i) v[i] = r[k * m + i];
    v[k] -= alpha;
    double vv = 0.0;
    for (std::size_t i = k; i < m; ++i) vv += v[i] * v[i];
    if (vv == 0.0) continue;
    auto reflect = [&](double* col) {
      double dot = 0.0;
      for (std::size_t i = k; i < m; ++i) dot += v[i] * col[i];
      const double f = 2.0 * dot / vv;
      for (std::size_t i = k; i < m; ++i) col[i] -= f * v[i];
    };
    for (std::size_t j = k; j < n; ++j) reflect(&r[j * m]);
    reflect(qtb.data());
  }
  std::vector<double> z(n, 0.0);
  for (std::size_t kk = std::min(n, m); kk-- > 0;) {
    if (dead[kk]) continue;
    double s = qtb[kk];
    for (std::size_t j = kk + 1; j < n; ++j) s -= r[j * m + kk] * z[j];
    const double d = r[kk * m + kk];
    z[kk] = std::abs(d) <= tiny ? 0.0 : s / d;
  }
  return z;
}

}  // namespace detail

namespace {

// The gradient of the NNLS objective at x: w = Aᵀ(b − A x).
std::vector<double> nnls_gradient(const Matrix& a, const std::vector<double>& b, const std::vector<double>& x) {
  std::vector<double> res = b;
  for (std::size_t i = 0; i < a.rows; ++i) {
    for (std::size_t j = 0; j < a.cols; ++j) res[i] -= a.at(i, j) * x[j];
  }
  std::vector<double> w(a.cols, 0.0);
  for (std::size_t j = 0; j < a.cols; ++j) {
    for (std::size_t i = 0; i < a.rows; ++i) w[j] += a.at(i, j) * res[i];
  }
  return w;
}

double nnls_tolerance(const Matrix& a, const std::vector<double>& b) {
  double a_norm = 0.0;
  for (double v : a.values) a_norm = std::max(a_norm, std::abs(v));
  double b_norm = 0.0;
  for (double v : b) b_norm = std::max(b_norm, std::abs(v));
  return 10.0 * std::numeric_limits<double>::epsilon() * a_norm * std::max(b_norm, 1.0) *
         static_cast<double>(std::max(a.rows, a.cols));
}

// One inner step of Lawson-Hanson: the least-squares solution z on the passive columns; where it is
// feasible x becomes z (returns true). Otherwise x steps towards z as far as feasibility allows and
// the coordinates that reach 0 leave the passive set.
bool nnls_inner_step(const Matrix& a, const std::vector<double>& b, double tol, std::vector<double>& x,
                     std::vector<bool>& passive) {
  const std::size_t n = a.cols;
  std::vector<std::size_t> use;
  for (std::size_t j = 0; j < n; ++j) {
    if (passive[j]) use.push_back(j);
  }
  const auto zs = detail::least_squares_on(a, b, use);
  std::vector<double> z(n, 0.0);
  for (std::size_t k = 0; k < use.size(); ++k) z[use[k]] = zs[k];
  bool feasible = true;
  for (std::size_t j : use) feasible = feasible && z[j] > 0.0;
  if (feasible) {
    x = z;
    return true;
  }
  double alpha = 1.0;
  std::size_t blocking = n;
  for (std::size_t j : use) {
    if (z[j] > 0.0) continue;
    const double denom = x[j] - z[j];
    const double step = denom > 0.0 ? x[j] / denom : 0.0;
    if (blocking == n || step < alpha) {
      alpha = step;
      blocking = j;
    }
  }
  for (std::size_t j = 0; j < n; ++j) x[j] += alpha * (z[j] - x[j]);
  for (std::size_t j : use) {
    if (j == blocking || x[j] <= tol) {
      x[j] = 0.0;
      passive[j] = false;
    }
  }
  return false;
}

}  // namespace

std::vector<double> nnls(const Matrix& a, const std::vector<double>& b) {
  if (b.size() != a.rows || a.values.size() != a.rows * a.cols) {
    throw std::invalid_argument("nnls: matrix and right-hand side sizes disagree");
  }
  const std::size_t n = a.cols;
  std::vector<double> x(n, 0.0);
  std::vector<bool> passive(n, false);
  const double tol = nnls_tolerance(a, b);
  // Every outer step adds one column; the bound stops a rounding-induced cycle.
  for (std::size_t outer = 0; outer < 3 * n + 3; ++outer) {
    const auto w = nnls_gradient(a, b, x);
    std::size_t best = n;
    for (std::size_t j = 0; j < n; ++j) {
      if (!passive[j] && w[j] > tol && (best == n || w[j] > w[best])) best = j;
    }
    if (best == n) break;
    passive[best] = true;
    for (std::size_t inner = 0; inner < 3 * n + 3; ++inner) {
      if (nnls_inner_step(a, b, tol, x, passive)) break;
    }
  }
  return x;
}

namespace {

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

// The fitted energy of every sample beside its measured one, the benchmarks used, and R².
void add_residuals(EnergyFit& fit, const std::vector<const EnergySample*>& used) {
  double mean = 0.0;
  for (const auto* s : used) mean += s->energy_J;
  mean /= static_cast<double>(used.size());
  double ss_res = 0.0, ss_tot = 0.0;
  for (const auto* s : used) {
    double e = fit.static_W * s->time_s;
    if (auto it = fit.eps_flop_J.find(s->column_flop); it != fit.eps_flop_J.end()) e += it->second * s->flops;
    if (auto it = fit.eps_byte_J.find(s->column_byte); it != fit.eps_byte_J.end()) e += it->second * s->bytes;
    fit.residuals.push_back({s->name, s->energy_J, e});
    fit.benchmarks.push_back(s->name);
    ss_res += (s->energy_J - e) * (s->energy_J - e);
    ss_tot += (s->energy_J - mean) * (s->energy_J - mean);
  }
  fit.r2 = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : 1.0;
}

}  // namespace

std::optional<EnergyFit> fit_energy(const std::vector<EnergySample>& samples) {
  std::vector<const EnergySample*> used;
  std::map<std::string, std::size_t> flop_col, byte_col;
  for (const auto& s : samples) {
    if (!(s.energy_J > 0.0) || !std::isfinite(s.energy_J) || !(s.time_s > 0.0) || !std::isfinite(s.time_s) ||
        !(s.flops >= 0.0) || !std::isfinite(s.flops) || !(s.bytes >= 0.0) || !std::isfinite(s.bytes))
      continue;
    used.push_back(&s);
    if (!s.column_flop.empty() && s.flops > 0.0) flop_col.emplace(s.column_flop, 0);
    if (!s.column_byte.empty() && s.bytes > 0.0) byte_col.emplace(s.column_byte, 0);
  }
  std::size_t n = 0;
  for (auto& [k, c] : flop_col) c = n++;
  for (auto& [k, c] : byte_col) c = n++;
  const std::size_t static_col = n++;
  if (used.size() <= n) return std::nullopt;

  // Weighted rows (1 / measured), then columns scaled to unit norm so that FLOPs (~1e10), bytes
  // and seconds (~1e-3) meet the solver on equal terms.
  Matrix a(used.size(), n);
  std::vector<double> rhs(used.size(), 1.0);
  for (std::size_t i = 0; i < used.size(); ++i) {
    const auto& s = *used[i];
    const double wgt = 1.0 / s.energy_J;
    if (auto it = flop_col.find(s.column_flop); it != flop_col.end()) a.at(i, it->second) = s.flops * wgt;
    if (auto it = byte_col.find(s.column_byte); it != byte_col.end()) a.at(i, it->second) = s.bytes * wgt;
    a.at(i, static_col) = s.time_s * wgt;
  }
  const auto col_norm = scale_to_unit_columns(a);
  auto x = nnls(a, rhs);
  for (std::size_t j = 0; j < n; ++j) x[j] /= col_norm[j];

  EnergyFit fit;
  for (const auto& [k, c] : flop_col) fit.eps_flop_J[k] = x[c];
  for (const auto& [k, c] : byte_col) fit.eps_byte_J[k] = x[c];
  fit.static_W = x[static_col];
  add_residuals(fit, used);
  // Joules of 1e300 would overflow a sum: no fit rather than an infinite constant.
  bool finite = std::isfinite(fit.static_W) && std::isfinite(fit.r2);
  for (double v : x) finite = finite && std::isfinite(v);
  for (const auto& r : fit.residuals) finite = finite && std::isfinite(r.fitted_J);
  if (!finite) return std::nullopt;
  return fit;
}

}  // namespace edgeroof::reports
