// The optimizer updates: their definition (the scalar reference), the check every backend shares,
// and the CPU kernel, one OpenMP loop per step over the layer's parameters.
#include "edgeroof/dnn/optimizer_kernels.hpp"

#include "layer_problem.hpp"

#include <cmath>
#include <utility>
#include <vector>

namespace edgeroof::dnn {
namespace {

using detail::i64;

std::int64_t parameter_count(const LayerCost& update) {  // OptimizerKernel::parameters_of
  double n = 0.0;
  for (const auto& shape : update.inputs) {
    double e = 1.0;
    for (auto d : shape) e *= static_cast<double>(d);
    n += e;
  }
  // 2^53: past it a count is no longer a whole number in a double, and no buffer is that large.
  if (!(n >= 1.0 && n < 9007199254740992.0))
    throw LayerKernelError("optimizer update '" + update.name + "': its inputs hold no parameters");
  return static_cast<std::int64_t>(n);
}

Optimizer checked_optimizer(const LayerCost& update) {
  std::string why;
  if (!optimizer_supported(update, &why))
    throw LayerKernelError("no optimizer kernel for layer '" + update.name + "': " + why);
  return *optimizer_of(update.op);
}

// The reference of one field as the layer checks compare it: the value and the sum of the
// magnitudes of the terms that make it.
detail::Reference term_sum(double value, double a, double b) { return {value, std::abs(a) + std::abs(b), false}; }

// Adam's step size of one element: the bias-corrected first moment over the corrected RMS.
double adam_direction(const OptimizerSettings& s, double m, double v, std::int64_t step) {
  const double c1 = 1.0 - std::pow(double(s.beta1), double(step));
  const double c2 = 1.0 - std::pow(double(s.beta2), double(step));
  return (m / c1) / (std::sqrt(v / c2) + s.epsilon);
}

class CpuOptimizer final : public OptimizerKernel {
public:
  using OptimizerKernel::OptimizerKernel;
  [[nodiscard]] std::string algorithm() const override {
    const char* names[] = {"sgd", "sgd_momentum", "adam"};
    return std::string("cpu:") + names[static_cast<int>(optimizer())] + ":openmp";
  }

private:
  void do_prepare() override {
    const i64 n = parameters();
    m_w = detail::fill(n, 21);
    m_g = detail::fill(n, 22);
    if (optimizer() == Optimizer::adam) m_m = detail::fill(n, 23, -0.1f, 0.1f);
    if (optimizer() != Optimizer::sgd) m_v = detail::fill(n, 24, 0.0f, 1.0f);
  }
  void do_step(std::int64_t step) override {
    const OptimizerSettings& s = settings();
    const i64 n = parameters();
    float* w = m_w.data();
    const float* g = m_g.data();
    float* m = m_m.data();
    float* v = m_v.data();
    const float lr = s.lr;
    // A small layer (a bias) is not worth waking the threads for.
    const bool wide = n >= 32768;
    switch (optimizer()) {
    case Optimizer::sgd:
#pragma omp parallel for schedule(static) if (wide)
      for (i64 i = 0; i < n; ++i) w[i] -= lr * g[i];
      break;
    case Optimizer::sgd_momentum: {
      const float mu = s.momentum;
#pragma omp parallel for schedule(static) if (wide)
      for (i64 i = 0; i < n; ++i) {
        v[i] = mu * v[i] + g[i];
        w[i] -= lr * v[i];
      }
      break;
    }
    case Optimizer::adam: {
      const float b1 = s.beta1, b2 = s.beta2, eps = s.epsilon;
      const float inv_c1 = static_cast<float>(1.0 / (1.0 - std::pow(double(b1), double(step))));
      const float inv_c2 = static_cast<float>(1.0 / (1.0 - std::pow(double(b2), double(step))));
#pragma omp parallel for schedule(static) if (wide)
      for (i64 i = 0; i < n; ++i) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        w[i] -= lr * (m[i] * inv_c1) / (std::sqrt(v[i] * inv_c2) + eps);
      }
      break;
    }
    }
  }
  std::vector<OptimizerElement> do_read(const std::vector<i64>& indices) override {
    return detail::read_elements(indices, m_w, m_g, m_m, m_v);
  }
  std::vector<float> m_w, m_g, m_m, m_v;
};

}  // namespace

namespace detail {

std::vector<OptimizerElement> read_elements(const std::vector<i64>& indices, const std::vector<float>& w,
                                            const std::vector<float>& g, const std::vector<float>& m,
                                            const std::vector<float>& v) {
  const auto at = [](const std::vector<float>& x, i64 i) { return x.empty() ? 0.0 : double(x[std::size_t(i)]); };
  std::vector<OptimizerElement> out;
  out.reserve(indices.size());
  for (i64 i : indices) out.push_back({at(w, i), at(g, i), at(m, i), at(v, i)});
  return out;
}

}  // namespace detail

std::optional<Optimizer> optimizer_of(std::string_view op) {
  if (op == "sgd") return Optimizer::sgd;
  if (op == "sgd_momentum") return Optimizer::sgd_momentum;
  if (op == "adam") return Optimizer::adam;
  return std::nullopt;
}

OptimizerElement optimizer_reference(Optimizer optimizer, const OptimizerSettings& s, const OptimizerElement& e,
                                     std::int64_t step) {
  OptimizerElement out = e;
  switch (optimizer) {
  case Optimizer::sgd:
    out.w = e.w - double(s.lr) * e.g;
    break;
  case Optimizer::sgd_momentum:
    out.v = double(s.momentum) * e.v + e.g;
    out.w = e.w - double(s.lr) * out.v;
    break;
  case Optimizer::adam:
    out.m = double(s.beta1) * e.m + (1.0 - double(s.beta1)) * e.g;
    out.v = double(s.beta2) * e.v + (1.0 - double(s.beta2)) * e.g * e.g;
    out.w = e.w - double(s.lr) * adam_direction(s, out.m, out.v, step);
    break;
  }
  return out;
}

OptimizerKernel::OptimizerKernel(const LayerCost& update)
    : m_layer(update), m_optimizer(checked_optimizer(update)), m_parameters(parameter_count(update)) {}

std::int64_t OptimizerKernel::parameters_of(const LayerCost& update) { return parameter_count(update); }

void OptimizerKernel::prepare() {
  do_prepare();
  run();
}

void OptimizerKernel::run() { do_step(++m_steps); }

double OptimizerKernel::max_relative_error() {
  const auto indices = detail::sample_indices(m_parameters);
  const std::vector<OptimizerElement> before = do_read(indices);
  run();
  const std::vector<OptimizerElement> after = do_read(indices);
  const OptimizerSettings& s = m_settings;
  double worst = 0.0;
  const auto track = [&worst](double got, const detail::Reference& ref) {
    const double e = detail::relative_error(got, ref);
    if (!(e <= worst)) worst = e;  // a NaN error stays
  };
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const OptimizerElement& b = before[k];
    const OptimizerElement want = optimizer_reference(m_optimizer, s, b, m_steps);
    const OptimizerElement& got = after[k];
    track(got.w, term_sum(want.w, b.w, want.w - b.w));
    if (m_optimizer == Optimizer::sgd_momentum) track(got.v, term_sum(want.v, s.momentum * b.v, b.g));
    if (m_optimizer == Optimizer::adam) {
      track(got.m, term_sum(want.m, s.beta1 * b.m, (1.0 - s.beta1) * b.g));
      track(got.v, term_sum(want.v, s.beta2 * b.v, (1.0 - s.beta2) * b.g * b.g));
    }
  }
  return worst;
}

bool optimizer_supported(const LayerCost& update, std::string* why) {
  const auto fail = [why](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (update.phase != "optimizer") return fail("phase " + update.phase + " is not an optimizer update");
  if (!optimizer_of(update.op)) return fail("no kernel for optimizer " + update.op + " (sgd, sgd_momentum, adam)");
  if (update.dtype != "fp32") return fail("the optimizer kernels run fp32 only, not " + update.dtype);
  return true;
}

std::unique_ptr<OptimizerKernel> make_cpu_optimizer_kernel(const LayerCost& update) {
  return std::make_unique<CpuOptimizer>(update);
}

}  // namespace edgeroof::dnn
