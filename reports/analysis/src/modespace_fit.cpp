#include "modespace_fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace edgeroof::reports::detail {

namespace {

const double kWidestLogHalf = std::log(1e3);

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

// Solves A x = b for a small symmetric positive definite A (row-major) by Cholesky; false when A
// is not positive definite.
bool cholesky_solve(std::vector<double> a, std::vector<double>& b, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    double s = b[i];
    for (std::size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {
    double s = b[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  return true;
}

// JᵀJ of a row-major n × p matrix.
std::vector<double> normal_matrix(const std::vector<double>& j, std::size_t n, std::size_t p) {
  std::vector<double> a(p * p, 0.0);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t u = 0; u < p; ++u) {
      for (std::size_t v = 0; v < p; ++v) a[u * p + v] += j[r * p + u] * j[r * p + v];
    }
  }
  return a;
}

double quadratic_form(const std::vector<double>& cov, const std::vector<double>& g) {
  const std::size_t p = g.size();
  double q = 0.0;
  for (std::size_t u = 0; u < p; ++u) {
    for (std::size_t v = 0; v < p; ++v) q += g[u] * cov[u * p + v] * g[v];
  }
  return std::max(q, 0.0);
}

}  // namespace

std::vector<double> relative_sigmas(const std::vector<Observation>& obs) {
  std::vector<double> known;
  for (const auto& o : obs) {
    if (o.rel_sigma > 0.0 && std::isfinite(o.rel_sigma)) known.push_back(o.rel_sigma);
  }
  const double typical = known.empty() ? 0.01 : median(known);
  const double floor = std::max(0.002, 0.5 * typical);
  std::vector<double> out;
  for (const auto& o : obs) {
    const bool ok = o.rel_sigma > 0.0 && std::isfinite(o.rel_sigma);
    out.push_back(ok ? std::max(o.rel_sigma, floor) : typical);
  }
  return out;
}

double t95(double dof) { return t_quantile_975(std::max(1.0, dof)); }

std::vector<std::pair<std::size_t, double>> level_weights(const std::vector<double>& levels, double v,
                                                          bool extrapolate) {
  if (levels.size() < 2) return {{0, 1.0}};
  const auto it = std::lower_bound(levels.begin(), levels.end(), v * (1.0 - 1e-12));
  if (it != levels.end() && std::abs(*it - v) <= 1e-12 * v)
    return {{static_cast<std::size_t>(it - levels.begin()), 1.0}};
  std::size_t hi = static_cast<std::size_t>(it - levels.begin());
  hi = std::min(std::max<std::size_t>(hi, 1), levels.size() - 1);
  const std::size_t lo = hi - 1;
  double t = (std::log(v) - std::log(levels[lo])) / (std::log(levels[hi]) - std::log(levels[lo]));
  if (!extrapolate) t = std::min(1.0, std::max(0.0, t));
  return {{lo, 1.0 - t}, {hi, t}};
}

std::vector<double> levels_of(const std::vector<Observation>& obs, const std::function<double(const Features&)>& knob) {
  std::vector<double> v;
  for (const auto& o : obs) v.push_back(knob(o.x));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end(), [](double a, double b) { return std::abs(a - b) <= 1e-12 * std::abs(b); }),
          v.end());
  return v;
}

double robust_sse(const std::vector<double>& z) {
  std::vector<double> a;
  for (double v : z) a.push_back(std::abs(v));
  const double clip = 3.0 * 1.4826 * median(a);
  double sse = 0.0;
  for (double v : a) sse += std::min(v, clip) * std::min(v, clip);
  return sse;
}

double residual_scale(double sse, double dof) {
  if (dof >= 8.0) return sse / dof;
  return std::max(dof >= 1.0 ? sse / dof : 1.0, 1.0);
}

std::vector<double> huber_factors(const std::vector<double>& z) {
  std::vector<double> a;
  for (double v : z) a.push_back(std::abs(v));
  const double scale = std::max(1.4826 * median(a), 1e-12);
  std::vector<double> h;
  for (double v : a) h.push_back(v <= 2.5 * scale ? 1.0 : 2.5 * scale / v);
  return h;
}

std::vector<double> invert_spd(std::vector<double> a, std::size_t n) {
  double trace = 0.0;
  for (std::size_t i = 0; i < n; ++i) trace += a[i * n + i];
  const double scale = trace > 0.0 ? trace / static_cast<double>(n) : 1.0;
  // A nearly singular matrix (two columns that move together) gets a larger ridge rather than
  // no covariance at all: its intervals then stay wide where they should.
  for (double ridge : {1e-12, 1e-9, 1e-6, 1e-3}) {
    auto b = a;
    for (std::size_t i = 0; i < n; ++i) b[i * n + i] += ridge * scale;
    std::vector<double> inv(n * n, 0.0);
    bool ok = true;
    for (std::size_t c = 0; c < n && ok; ++c) {
      std::vector<double> e(n, 0.0);
      e[c] = 1.0;
      ok = cholesky_solve(b, e, n);
      for (std::size_t r = 0; r < n && ok; ++r) inv[r * n + c] = e[r];
    }
    if (ok) return inv;
  }
  return std::vector<double>(n * n, 0.0);
}

// ---- PowerLawFit ----

PowerLawFit::PowerLawFit(const std::vector<Observation>& obs, std::vector<PowerTerm> terms)
    : m_terms(std::move(terms)) {
  std::size_t np = 0;
  for (auto& t : m_terms) {
    if (t.table_knob) {
      const auto levels = levels_of(obs, t.table_knob);
      std::size_t fewest = obs.size();
      for (double l : levels) {
        std::size_t n = 0;
        for (const auto& o : obs) n += std::abs(t.table_knob(o.x) - l) <= 1e-12 * l ? 1 : 0;
        fewest = std::min(fewest, n);
      }
      const bool table_fits = fewest >= 2 && obs.size() >= 3 * levels.size();
      if (levels.size() > kMaxTableLevels || (levels.size() > 1 && !table_fits)) {
        t.knobs.push_back(t.table_knob);
        t.names.push_back(t.table_name);
      } else if (levels.size() > 1) {
        t.levels = levels;
      }
    }
    m_offset.push_back(np);
    np += (t.levels.empty() ? 1 : t.levels.size()) + t.knobs.size();
  }
  m_free.assign(np, true);
  choose_free(obs);
  const auto sigma = relative_sigmas(obs);
  std::vector<double> w;
  for (double s : sigma) w.push_back(1.0 / s);
  double sse = fit_all_sharpness(obs, w);
  // Two Huber rounds: a mode whose figure a throttled or disturbed run pulled down counts less.
  for (int round = 0; round < 2; ++round) {
    std::vector<double> z;
    for (std::size_t i = 0; i < obs.size(); ++i)
      z.push_back(w[i] * (log_value(obs[i].x, m_theta) - std::log(obs[i].value)));
    const auto h = huber_factors(z);
    for (std::size_t i = 0; i < obs.size(); ++i) w[i] = std::sqrt(h[i]) / sigma[i];
    sse = fit_all_sharpness(obs, w);
  }
  (void)sse;
  std::vector<double> z;
  for (std::size_t i = 0; i < obs.size(); ++i)
    z.push_back((log_value(obs[i].x, m_theta) - std::log(obs[i].value)) / sigma[i]);
  finish(obs, w, robust_sse(z));
  m_sigma_new = median(sigma);
}

// An exponent is free where its knob varies; with few modes the exponents beyond them stay 1.
void PowerLawFit::choose_free(const std::vector<Observation>& obs) {
  std::size_t free_count = 0;
  for (std::size_t t = 0; t < m_terms.size(); ++t) {
    free_count += bases(t);
    for (std::size_t k = 0; k < m_terms[t].knobs.size(); ++k) {
      double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
      for (const auto& o : obs) {
        const double v = m_terms[t].knobs[k](o.x);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      const bool varies = hi > lo * (1.0 + 1e-9);
      m_free[m_offset[t] + bases(t) + k] = varies && free_count + 1 < obs.size();
      if (m_free[m_offset[t] + bases(t) + k]) ++free_count;
    }
  }
}

// Each term starts as the upper envelope of the data with unit exponents; the sharpness of the
// smooth minimum is the best of a few.
double PowerLawFit::fit_all_sharpness(const std::vector<Observation>& obs, const std::vector<double>& w) {
  std::vector<double> theta0(m_free.size(), 1.0);
  for (std::size_t t = 0; t < m_terms.size(); ++t) {
    const auto& term = m_terms[t];
    std::vector<double> c(bases(t), -std::numeric_limits<double>::infinity());
    for (const auto& o : obs) {
      double l = std::log(o.value);
      for (const auto& knob : term.knobs) l -= std::log(knob(o.x));
      const std::size_t j = term.levels.empty() ? 0 : level_weights(term.levels, term.table_knob(o.x), false)[0].first;
      c[j] = std::max(c[j], l);
    }
    for (std::size_t j = 0; j < c.size(); ++j) theta0[m_offset[t] + j] = c[j] + (m_terms.size() > 1 ? 0.05 : 0.0);
  }
  const std::vector<double> sharpness =
      m_terms.size() > 1 ? std::vector<double>{2, 4, 8, 16, 32} : std::vector<double>{8};
  double best = std::numeric_limits<double>::infinity(), best_p = 8.0;
  for (double p : sharpness) {
    m_p = p;
    auto theta = theta0;
    const double sse = solve(obs, w, theta);
    if (sse < best) {
      best = sse;
      best_p = p;
      m_theta = theta;
    }
  }
  m_p = best_p;
  return best;
}

// Covariance of the free parameters from the weighted Jacobian at the solution.
void PowerLawFit::finish(const std::vector<Observation>& obs, const std::vector<double>& w, double sse) {
  std::size_t pf = 0;
  for (bool f : m_free) pf += f ? 1 : 0;
  std::vector<double> jac;
  double rms = 0.0;
  for (std::size_t i = 0; i < obs.size(); ++i) {
    const auto g = gradient(obs[i].x, m_theta);
    for (double v : g) jac.push_back(w[i] * v);
    const double rel = std::exp(log_value(obs[i].x, m_theta) - std::log(obs[i].value)) - 1.0;
    rms += rel * rel;
  }
  m_rms = std::sqrt(rms / static_cast<double>(obs.size()));
  m_dof = static_cast<double>(obs.size()) - static_cast<double>(pf);
  m_s2 = residual_scale(sse, m_dof);
  m_cov = invert_spd(normal_matrix(jac, obs.size(), pf), pf);
  for (double& v : m_cov) v *= m_s2;
}

// Each term's log value: its constant (or its table, interpolated) plus its exponents' part.
std::vector<double> PowerLawFit::term_values(const Features& x, const std::vector<double>& theta) const {
  std::vector<double> l;
  for (std::size_t t = 0; t < m_terms.size(); ++t) {
    const auto& term = m_terms[t];
    double v = 0.0;
    if (term.levels.empty()) {
      v = theta[m_offset[t]];
    } else {
      for (const auto& [j, w] : level_weights(term.levels, term.table_knob(x), true)) v += w * theta[m_offset[t] + j];
    }
    for (std::size_t k = 0; k < term.knobs.size(); ++k)
      v += theta[m_offset[t] + bases(t) + k] * std::log(term.knobs[k](x));
    l.push_back(v);
  }
  return l;
}

double PowerLawFit::log_value(const Features& x, const std::vector<double>& theta) const {
  const auto l = term_values(x, theta);
  const double lo = *std::min_element(l.begin(), l.end());
  if (l.size() == 1) return lo;
  double s = 0.0;
  for (double v : l) s += std::exp(-m_p * (v - lo));
  return lo - std::log(s) / m_p;
}

std::vector<double> PowerLawFit::gradient(const Features& x, const std::vector<double>& theta) const {
  const auto l = term_values(x, theta);
  const double lo = *std::min_element(l.begin(), l.end());
  double s = 0.0;
  for (double v : l) s += std::exp(-m_p * (v - lo));
  std::vector<double> g;
  for (std::size_t t = 0; t < m_terms.size(); ++t) {
    const auto& term = m_terms[t];
    const double share = l.size() == 1 ? 1.0 : std::exp(-m_p * (l[t] - lo)) / s;  // d log F / d term
    std::vector<double> base(bases(t), 0.0);
    if (term.levels.empty()) {
      base[0] = 1.0;
    } else {
      for (const auto& [j, w] : level_weights(term.levels, term.table_knob(x), true)) base[j] = w;
    }
    for (std::size_t j = 0; j < base.size(); ++j) {
      if (m_free[m_offset[t] + j]) g.push_back(share * base[j]);
    }
    for (std::size_t k = 0; k < term.knobs.size(); ++k) {
      if (m_free[m_offset[t] + bases(t) + k]) g.push_back(share * std::log(term.knobs[k](x)));
    }
  }
  return g;
}

// Levenberg–Marquardt on the free parameters, exponents kept >= 0 by projection; returns the
// weighted sum of squares in log space.
double PowerLawFit::solve(const std::vector<Observation>& obs, const std::vector<double>& w,
                          std::vector<double>& theta) const {
  auto sse_of = [&](const std::vector<double>& th) {
    double s = 0.0;
    for (std::size_t i = 0; i < obs.size(); ++i) {
      const double r = w[i] * (log_value(obs[i].x, th) - std::log(obs[i].value));
      s += r * r;
    }
    return s;
  };
  std::vector<std::size_t> index;
  for (std::size_t j = 0; j < theta.size(); ++j) {
    if (m_free[j]) index.push_back(j);
  }
  const std::size_t pf = index.size();
  double sse = sse_of(theta), lambda = 1e-3;
  for (int iter = 0; iter < 200 && lambda < 1e12; ++iter) {
    std::vector<double> jac, rhs(pf, 0.0);
    for (std::size_t i = 0; i < obs.size(); ++i) {
      const auto g = gradient(obs[i].x, theta);
      const double r = w[i] * (log_value(obs[i].x, theta) - std::log(obs[i].value));
      for (std::size_t u = 0; u < pf; ++u) {
        jac.push_back(w[i] * g[u]);
        rhs[u] -= w[i] * g[u] * r;
      }
    }
    auto a = normal_matrix(jac, obs.size(), pf);
    for (std::size_t u = 0; u < pf; ++u) a[u * pf + u] *= 1.0 + lambda, a[u * pf + u] += 1e-12;
    if (!cholesky_solve(a, rhs, pf)) {
      lambda *= 10.0;
      continue;
    }
    auto trial = theta;
    for (std::size_t u = 0; u < pf; ++u) trial[index[u]] += rhs[u];
    for (std::size_t t = 0; t < m_terms.size(); ++t) {
      for (std::size_t k = 0; k < m_terms[t].knobs.size(); ++k)
        trial[m_offset[t] + bases(t) + k] = std::max(0.0, trial[m_offset[t] + bases(t) + k]);
    }
    const double s = sse_of(trial);
    if (s < sse) {
      const bool converged = sse - s < 1e-12 * (1.0 + sse);
      theta = trial;
      sse = s;
      lambda = std::max(lambda / 3.0, 1e-9);
      if (converged) break;
    } else {
      lambda *= 4.0;
    }
  }
  return sse;
}

double PowerLawFit::predict(const Features& x) const { return std::exp(log_value(x, m_theta)); }

Interval PowerLawFit::interval(const Features& x) const {
  const auto g = gradient(x, m_theta);
  const double var = m_s2 * m_sigma_new * m_sigma_new + quadratic_form(m_cov, g);
  // Beyond a factor of 1000 either way an interval says nothing more (and exp would overflow).
  const double half = std::min(t95(m_dof) * std::sqrt(var), kWidestLogHalf);
  const double v = predict(x);
  return {v * std::exp(-half), v * std::exp(half)};
}

std::string PowerLawFit::form() const {
  std::string out;
  for (std::size_t t = 0; t < m_terms.size(); ++t) {
    const auto& term = m_terms[t];
    std::string c;
    if (term.levels.empty()) {
      c = number(std::exp(m_theta[m_offset[t]]));
    } else {
      for (std::size_t j = 0; j < term.levels.size(); ++j)
        c += (j ? ", " : "") + number(std::exp(m_theta[m_offset[t] + j])) + " at " + number(term.levels[j]);
      c = "[" + c + " by " + term.table_name + "]";
    }
    for (std::size_t k = 0; k < term.knobs.size(); ++k)
      c += " * " + term.names[k] + "^" + number(m_theta[m_offset[t] + bases(t) + k]);
    out += (t ? ", " : "") + c;
  }
  return m_terms.size() > 1 ? "smin_" + number(m_p) + "(" + out + ")" : out;
}

// ---- BasisFit ----

BasisFit::BasisFit(const std::vector<Observation>& obs, Basis basis) : m_basis(std::move(basis)) {
  const auto sigma = relative_sigmas(obs);
  auto sig = sigma;
  double sse = fit_knees(obs, sig);
  for (int round = 0; round < 2; ++round) {  // Huber, as for the ceilings
    std::vector<double> z;
    for (std::size_t i = 0; i < obs.size(); ++i) z.push_back((predict(obs[i].x) / obs[i].value - 1.0) / sigma[i]);
    const auto h = huber_factors(z);
    for (std::size_t i = 0; i < obs.size(); ++i) sig[i] = sigma[i] / std::sqrt(h[i]);
    sse = fit_knees(obs, sig);
  }
  (void)sse;
  std::vector<double> z;
  for (std::size_t i = 0; i < obs.size(); ++i) z.push_back((predict(obs[i].x) / obs[i].value - 1.0) / sigma[i]);
  finish(obs, sig, robust_sse(z));
  m_sigma_new = median(sigma);
}

double BasisFit::fit_knees(const std::vector<Observation>& obs, const std::vector<double>& sigma) {
  double best = std::numeric_limits<double>::infinity();
  for (double knee : m_basis.knees) {
    std::vector<double> theta;
    const double sse = fit_at(obs, sigma, knee, theta);
    if (sse < best) {
      best = sse;
      m_knee = knee;
      m_theta = theta;
    }
  }
  return best;
}

void BasisFit::finish(const std::vector<Observation>& obs, const std::vector<double>& sigma, double sse) {
  m_active.clear();
  for (std::size_t j = 0; j < m_theta.size(); ++j) {
    if (m_theta[j] > 0.0) m_active.push_back(j);
  }
  std::vector<double> jac;
  double rms = 0.0;
  for (std::size_t i = 0; i < obs.size(); ++i) {
    const auto phi = m_basis.phi(obs[i].x, m_knee);
    const double scale = 1.0 / (sigma[i] * obs[i].value);
    for (std::size_t j : m_active) jac.push_back(scale * phi[j]);
    const double rel = predict(obs[i].x) / obs[i].value - 1.0;
    rms += rel * rel;
  }
  m_rms = std::sqrt(rms / static_cast<double>(obs.size()));
  m_dof = static_cast<double>(obs.size()) - static_cast<double>(m_active.size());
  m_s2 = residual_scale(sse, m_dof);
  m_cov = invert_spd(normal_matrix(jac, obs.size(), m_active.size()), m_active.size());
  for (double& v : m_cov) v *= m_s2;
}

// NNLS on the rows scaled by 1 / (σ·value) and the columns to unit norm; the weighted sum of squares.
double BasisFit::fit_at(const std::vector<Observation>& obs, const std::vector<double>& sigma, double knee,
                        std::vector<double>& theta) const {
  const std::size_t m = std::min(m_basis.names.size(), obs.size() > 1 ? obs.size() - 1 : 1);
  Matrix a(obs.size(), m);
  std::vector<double> b(obs.size());
  for (std::size_t i = 0; i < obs.size(); ++i) {
    const auto phi = m_basis.phi(obs[i].x, knee);
    const double scale = 1.0 / (sigma[i] * obs[i].value);
    for (std::size_t j = 0; j < m; ++j) a.at(i, j) = scale * phi[j];
    b[i] = scale * obs[i].value;
  }
  std::vector<double> norm(m, 0.0);
  for (std::size_t j = 0; j < m; ++j) {
    for (std::size_t i = 0; i < obs.size(); ++i) norm[j] += a.at(i, j) * a.at(i, j);
    norm[j] = norm[j] > 0.0 ? std::sqrt(norm[j]) : 1.0;
    for (std::size_t i = 0; i < obs.size(); ++i) a.at(i, j) /= norm[j];
  }
  auto x = nnls(a, b);
  double sse = 0.0;
  for (std::size_t i = 0; i < obs.size(); ++i) {
    double r = -b[i];
    for (std::size_t j = 0; j < m; ++j) r += a.at(i, j) * x[j];
    sse += r * r;
  }
  theta.assign(m_basis.names.size(), 0.0);
  for (std::size_t j = 0; j < m; ++j) theta[j] = x[j] / norm[j];
  return sse;
}

double BasisFit::predict(const Features& x) const {
  const auto phi = m_basis.phi(x, m_knee);
  double v = 0.0;
  for (std::size_t j = 0; j < m_theta.size(); ++j) v += m_theta[j] * phi[j];
  return v;
}

Interval BasisFit::interval(const Features& x) const {
  const auto phi = m_basis.phi(x, m_knee);
  std::vector<double> g;
  for (std::size_t j : m_active) g.push_back(phi[j]);
  const double v = predict(x);
  const double var = m_s2 * (m_sigma_new * v) * (m_sigma_new * v) + quadratic_form(m_cov, g);
  const double half = std::min(t95(m_dof) * std::sqrt(var), 1e3 * std::abs(v));
  return {std::max(0.0, v - half), v + half};
}

std::string BasisFit::form() const {
  std::string out;
  for (std::size_t j = 0; j < m_theta.size(); ++j) {
    if (m_theta[j] > 0.0) out += (out.empty() ? "" : " + ") + number(m_theta[j]) + "*" + m_basis.names[j];
  }
  if (out.empty()) out = "0";
  return out + (m_knee > 0.0 ? " (knee at " + number(m_knee) + " of the top clock)" : "");
}

}  // namespace edgeroof::reports::detail
