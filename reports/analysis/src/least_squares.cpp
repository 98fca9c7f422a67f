// The linear algebra of the energy fit: non-negative least squares (Lawson-Hanson), the inverse
// of a small symmetric positive definite matrix, the condition number (one-sided Jacobi), and
// Student's t quantile of the intervals.
#include "least_squares.hpp"

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

double t_quantile_975(double dof) {
  if (!(dof >= 1.0)) throw std::invalid_argument("t_quantile_975: fewer than 1 degree of freedom");
  if (dof < 2.0) return 12.706204736174704;  // tan(0.475 π)
  if (dof < 3.0) return 4.302652729749464;   // 0.95 · sqrt(2 / (4 · 0.975 · 0.025))
  if (dof < 4.0) return 3.182446305284263;   // the expansion is 0.12% low at 3
  const double z = 1.959963984540054, z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
  const double g1 = (z3 + z) / 4.0, g2 = (5 * z5 + 16 * z3 + 3 * z) / 96.0,
               g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384.0,
               g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160.0;
  return z + g1 / dof + g2 / (dof * dof) + g3 / (dof * dof * dof) + g4 / (dof * dof * dof * dof);
}

namespace detail {

Matrix gram(const Matrix& a) {
  Matrix g(a.cols, a.cols);
  for (std::size_t i = 0; i < a.rows; ++i) {
    for (std::size_t j = 0; j < a.cols; ++j) {
      for (std::size_t k = j; k < a.cols; ++k) g.at(j, k) += a.at(i, j) * a.at(i, k);
    }
  }
  for (std::size_t j = 0; j < a.cols; ++j) {
    for (std::size_t k = 0; k < j; ++k) g.at(j, k) = g.at(k, j);
  }
  return g;
}

std::optional<Matrix> spd_inverse(const Matrix& m) {
  const std::size_t n = m.cols;
  Matrix l(n, n);
  for (std::size_t j = 0; j < n; ++j) {
    double d = m.at(j, j);
    for (std::size_t k = 0; k < j; ++k) d -= l.at(j, k) * l.at(j, k);
    if (!(d > 1e-13 * m.at(j, j))) return std::nullopt;
    l.at(j, j) = std::sqrt(d);
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = m.at(i, j);
      for (std::size_t k = 0; k < j; ++k) s -= l.at(i, k) * l.at(j, k);
      l.at(i, j) = s / l.at(j, j);
    }
  }
  Matrix inv(n, n);
  for (std::size_t c = 0; c < n; ++c) {
    std::vector<double> y(n, 0.0);  // L y = e_c, then Lᵀ x = y
    for (std::size_t i = 0; i < n; ++i) {
      double s = i == c ? 1.0 : 0.0;
      for (std::size_t k = 0; k < i; ++k) s -= l.at(i, k) * y[k];
      y[i] = s / l.at(i, i);
    }
    for (std::size_t i = n; i-- > 0;) {
      double s = y[i];
      for (std::size_t k = i + 1; k < n; ++k) s -= l.at(k, i) * inv.at(k, c);
      inv.at(i, c) = s / l.at(i, i);
    }
  }
  return inv;
}

std::vector<double> times(const Matrix& m, const std::vector<double>& v) {
  std::vector<double> out(m.rows, 0.0);
  for (std::size_t i = 0; i < m.rows; ++i) {
    for (std::size_t j = 0; j < m.cols; ++j) out[i] += m.at(i, j) * v[j];
  }
  return out;
}

Conditioning conditioning(const Matrix& a) {
  const std::size_t m = a.rows, n = a.cols;
  std::vector<double> u(m * n), v(n * n, 0.0);  // both column-major
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t i = 0; i < m; ++i) u[j * m + i] = a.at(i, j);
    v[j * n + j] = 1.0;
  }
  auto dot = [m](const double* x, const double* y) {
    double s = 0.0;
    for (std::size_t i = 0; i < m; ++i) s += x[i] * y[i];
    return s;
  };
  auto rotate = [](double* x, double* y, std::size_t len, double c, double s) {
    for (std::size_t i = 0; i < len; ++i) {
      const double xi = x[i], yi = y[i];
      x[i] = c * xi - s * yi;
      y[i] = s * xi + c * yi;
    }
  };
  for (int sweep = 0; sweep < 60; ++sweep) {
    bool rotated = false;
    for (std::size_t p = 0; p + 1 < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        const double alpha = dot(&u[p * m], &u[p * m]), beta = dot(&u[q * m], &u[q * m]),
                     gamma = dot(&u[p * m], &u[q * m]);
        if (std::abs(gamma) <= 1e-15 * std::sqrt(alpha * beta)) continue;
        rotated = true;
        const double zeta = (beta - alpha) / (2.0 * gamma);
        const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::abs(zeta) + std::sqrt(1.0 + zeta * zeta));
        const double c = 1.0 / std::sqrt(1.0 + t * t);
        rotate(&u[p * m], &u[q * m], m, c, c * t);
        rotate(&v[p * n], &v[q * n], n, c, c * t);
      }
    }
    if (!rotated) break;
  }
  std::size_t lo = 0;
  double s_max = 0.0, s_min = std::numeric_limits<double>::infinity();
  for (std::size_t j = 0; j < n; ++j) {
    const double sj = std::sqrt(dot(&u[j * m], &u[j * m]));
    s_max = std::max(s_max, sj);
    if (sj < s_min) {
      s_min = sj;
      lo = j;
    }
  }
  Conditioning out;
  // Exactly collinear columns give 0: reported as 1/ε, the most that double precision can tell.
  out.condition = s_max / std::max(s_min, s_max * std::numeric_limits<double>::epsilon());
  out.weakest.assign(v.begin() + lo * n, v.begin() + (lo + 1) * n);
  return out;
}

}  // namespace detail

}  // namespace edgeroof::reports
