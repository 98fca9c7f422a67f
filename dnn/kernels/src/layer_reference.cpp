// Reference maths: deterministic inputs and direct evaluations of each layer's definition at one
// output element, against which the libraries' results are checked.
#include "layer_problem.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace edgeroof::dnn::detail {

std::vector<float> fill(i64 count, std::uint32_t seed, float lo, float hi) {
  std::vector<float> v(static_cast<std::size_t>(count));
  std::uint64_t state = 0x9e3779b97f4a7c15ull * (seed + 1);
  for (auto& x : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double unit = static_cast<double>(state >> 40) / static_cast<double>(1ull << 24);  // [0, 1)
    x = static_cast<float>(lo + (hi - lo) * unit);
  }
  return v;
}

double relative_error(double got, const Reference& ref) {
  if (!std::isfinite(got)) return std::numeric_limits<double>::infinity();
  return std::abs(got - ref.value) / std::max(ref.magnitude, 1e-30);
}

std::vector<i64> sample_indices(i64 count, i64 samples) {
  std::vector<i64> out;
  if (count <= 0) return out;
  if (count <= samples) {
    out.resize(static_cast<std::size_t>(count));
    std::iota(out.begin(), out.end(), i64{0});
    return out;
  }
  for (i64 i = 0; i < samples; ++i) out.push_back(i * (count - 1) / (samples - 1));
  return out;
}

Reference conv_forward_at(const ConvGeometry& g, const float* x, const float* w, const float* bias, i64 index) {
  const i64 q = index % g.q, p = (index / g.q) % g.p, k = (index / (g.q * g.p)) % g.k, n = index / (g.q * g.p * g.k);
  const i64 cpg = g.c / g.groups, kpg = g.k / g.groups, c0 = (k / kpg) * cpg;
  Reference ref;
  for (i64 cc = 0; cc < cpg; ++cc) {
    for (i64 r = 0; r < g.r; ++r) {
      const i64 h = p * g.stride_h - g.pad_h + r * g.dil_h;
      if (h < 0 || h >= g.h) continue;
      for (i64 s = 0; s < g.s; ++s) {
        const i64 col = q * g.stride_w - g.pad_w + s * g.dil_w;
        if (col < 0 || col >= g.w) continue;
        const double t =
            double(x[((n * g.c + c0 + cc) * g.h + h) * g.w + col]) * double(w[((k * cpg + cc) * g.r + r) * g.s + s]);
        ref.value += t;
        ref.magnitude += std::abs(t);
      }
    }
  }
  if (g.bias && bias) {
    ref.value += bias[k];
    ref.magnitude += std::abs(double(bias[k]));
  }
  return ref;
}

Reference conv_backward_data_at(const ConvGeometry& g, const float* dy, const float* w, i64 index) {
  const i64 col = index % g.w, h = (index / g.w) % g.h, c = (index / (g.w * g.h)) % g.c, n = index / (g.w * g.h * g.c);
  const i64 cpg = g.c / g.groups, kpg = g.k / g.groups, group = c / cpg, cc = c % cpg;
  Reference ref;
  for (i64 kk = 0; kk < kpg; ++kk) {
    const i64 k = group * kpg + kk;
    for (i64 r = 0; r < g.r; ++r) {
      const i64 hp = h + g.pad_h - r * g.dil_h;
      if (hp < 0 || hp % g.stride_h != 0 || hp / g.stride_h >= g.p) continue;
      for (i64 s = 0; s < g.s; ++s) {
        const i64 wq = col + g.pad_w - s * g.dil_w;
        if (wq < 0 || wq % g.stride_w != 0 || wq / g.stride_w >= g.q) continue;
        const double t = double(dy[((n * g.k + k) * g.p + hp / g.stride_h) * g.q + wq / g.stride_w]) *
                         double(w[((k * cpg + cc) * g.r + r) * g.s + s]);
        ref.value += t;
        ref.magnitude += std::abs(t);
      }
    }
  }
  return ref;
}

Reference conv_backward_weights_at(const ConvGeometry& g, const float* x, const float* dy, i64 index) {
  const i64 cpg = g.c / g.groups, kpg = g.k / g.groups;
  const i64 s = index % g.s, r = (index / g.s) % g.r, cc = (index / (g.s * g.r)) % cpg, k = index / (g.s * g.r * cpg);
  const i64 c = (k / kpg) * cpg + cc;
  Reference ref;
  for (i64 n = 0; n < g.n; ++n) {
    for (i64 p = 0; p < g.p; ++p) {
      const i64 h = p * g.stride_h - g.pad_h + r * g.dil_h;
      if (h < 0 || h >= g.h) continue;
      for (i64 q = 0; q < g.q; ++q) {
        const i64 col = q * g.stride_w - g.pad_w + s * g.dil_w;
        if (col < 0 || col >= g.w) continue;
        const double t =
            double(dy[((n * g.k + k) * g.p + p) * g.q + q]) * double(x[((n * g.c + c) * g.h + h) * g.w + col]);
        ref.value += t;
        ref.magnitude += std::abs(t);
      }
    }
  }
  return ref;
}

Reference gemm_at(const GemmGeometry& g, const float* a, const float* b, i64 index) {
  const i64 j = index % g.n, i = (index / g.n) % g.m, batch = index / (g.n * g.m);
  const float* ab = a + batch * g.m * g.k;
  const float* bb = b + (g.batch_b == 1 ? 0 : batch) * g.k * g.n;
  Reference ref;
  for (i64 kk = 0; kk < g.k; ++kk) {
    const double av = g.trans_a ? ab[kk * g.m + i] : ab[i * g.k + kk];
    const double bv = g.trans_b ? bb[j * g.k + kk] : bb[kk * g.n + j];
    ref.value += av * bv;
    ref.magnitude += std::abs(av * bv);
  }
  return ref;
}

namespace {

// The input element a max-pooling window selects (the first largest), or -1 for an empty window;
// `tied` tells whether another element of the window equals it.
i64 window_argmax(const PoolGeometry& g, const float* x, i64 plane, i64 p, i64 q, bool* tied = nullptr) {
  i64 best = -1;
  bool tie = false;
  for (i64 i = 0; i < g.kernel_h; ++i) {
    const i64 h = p * g.stride_h - g.pad_h + i;
    if (h < 0 || h >= g.h) continue;
    for (i64 j = 0; j < g.kernel_w; ++j) {
      const i64 col = q * g.stride_w - g.pad_w + j;
      if (col < 0 || col >= g.w) continue;
      const i64 at = plane + h * g.w + col;
      if (best >= 0 && x[at] == x[best]) tie = true;
      if (best < 0 || x[at] > x[best]) best = at, tie = false;
    }
  }
  if (tied) *tied = tie;
  return best;
}

}  // namespace

Reference pool_forward_at(const PoolGeometry& g, const float* x, i64 index) {
  const i64 q = index % g.q, p = (index / g.q) % g.p, plane = (index / (g.q * g.p)) * g.h * g.w;
  if (g.max) {
    const i64 at = window_argmax(g, x, plane, p, q);
    const double v = at < 0 ? 0.0 : x[at];
    return {v, std::abs(v)};
  }
  Reference ref;
  const double area = double(g.kernel_h * g.kernel_w);
  for (i64 i = 0; i < g.kernel_h; ++i) {
    const i64 h = p * g.stride_h - g.pad_h + i;
    if (h < 0 || h >= g.h) continue;
    for (i64 j = 0; j < g.kernel_w; ++j) {
      const i64 col = q * g.stride_w - g.pad_w + j;
      if (col < 0 || col >= g.w) continue;
      ref.value += x[plane + h * g.w + col] / area;
      ref.magnitude += std::abs(x[plane + h * g.w + col]) / area;
    }
  }
  return ref;
}

Reference pool_backward_at(const PoolGeometry& g, const float* x, const float* dy, i64 index) {
  const i64 col = index % g.w, h = (index / g.w) % g.h, nc = index / (g.w * g.h);
  const i64 plane = nc * g.h * g.w;
  const double area = double(g.kernel_h * g.kernel_w);
  Reference ref;
  for (i64 p = 0; p < g.p; ++p) {
    const i64 top = p * g.stride_h - g.pad_h;
    if (h < top || h >= top + g.kernel_h) continue;
    for (i64 q = 0; q < g.q; ++q) {
      const i64 left = q * g.stride_w - g.pad_w;
      if (col < left || col >= left + g.kernel_w) continue;
      const double d = dy[(nc * g.p + p) * g.q + q];
      double t = d / area;
      if (g.max) {
        bool tied = false;
        const i64 at = window_argmax(g, x, plane, p, q, &tied);
        if (tied && x[at] == x[plane + h * g.w + col]) ref.ambiguous = true;
        t = at == plane + h * g.w + col ? d : 0.0;
      }
      ref.value += t;
      ref.magnitude += std::abs(t);
    }
  }
  return ref;
}

namespace {
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
constexpr double inv_sqrt2 = 0.70710678118654752440;
constexpr double inv_sqrt_2pi = 0.39894228040143267794;
}  // namespace

Reference eltwise_forward_at(Eltwise op, double x) {
  switch (op) {
  case Eltwise::relu:
    return {x > 0.0 ? x : 0.0, std::abs(x)};
  case Eltwise::gelu: {  // the exact (erf) form
    const double half = 0.5 * x, erf_term = half * std::erf(x * inv_sqrt2);
    return {half + erf_term, std::abs(half) + std::abs(erf_term)};
  }
  case Eltwise::silu:
    return {x * sigmoid(x), std::abs(x * sigmoid(x))};
  case Eltwise::hardswish: {
    const double v = x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
    return {v, std::abs(v)};
  }
  case Eltwise::sigmoid:
    return {sigmoid(x), sigmoid(x)};
  }
  return {};
}

Reference eltwise_backward_at(Eltwise op, double x, double dy) {
  double terms[3] = {0.0, 0.0, 0.0};
  switch (op) {
  case Eltwise::relu:
    terms[0] = x > 0.0 ? 1.0 : 0.0;
    break;
  case Eltwise::gelu:
    terms[0] = 0.5, terms[1] = 0.5 * std::erf(x * inv_sqrt2), terms[2] = x * inv_sqrt_2pi * std::exp(-0.5 * x * x);
    break;
  case Eltwise::silu:
    terms[0] = sigmoid(x), terms[1] = sigmoid(x) * x * (1.0 - sigmoid(x));
    break;
  case Eltwise::hardswish:
    terms[0] = x < -3.0 ? 0.0 : x > 3.0 ? 1.0 : (2.0 * x + 3.0) / 6.0;
    break;
  case Eltwise::sigmoid:
    terms[0] = sigmoid(x) * (1.0 - sigmoid(x));
    break;
  }
  Reference ref;
  for (double t : terms) {
    ref.value += dy * t;
    ref.magnitude += std::abs(dy * t);
  }
  return ref;
}

Reference softmax_forward_at(const RowGeometry& g, const float* x, i64 index) {
  const float* row = x + (index / g.cols) * g.cols;
  const double top = *std::max_element(row, row + g.cols);
  double sum = 0.0;
  for (i64 j = 0; j < g.cols; ++j) sum += std::exp(row[j] - top);
  const double v = std::exp(x[index] - top) / sum;
  return {v, v};
}

Reference softmax_backward_at(const RowGeometry& g, const float* y, const float* dy, i64 index) {
  const i64 row = (index / g.cols) * g.cols;
  double dot = 0.0, dot_magnitude = 0.0;
  for (i64 j = 0; j < g.cols; ++j) {
    dot += double(dy[row + j]) * y[row + j];
    dot_magnitude += std::abs(double(dy[row + j]) * y[row + j]);
  }
  const double yv = y[index];
  return {yv * (dy[index] - dot), std::abs(yv) * (std::abs(double(dy[index])) + dot_magnitude)};
}

namespace {

struct RowStats {
  double mean = 0.0, inv_std = 0.0;
};

RowStats row_stats(const RowGeometry& g, const float* x, i64 index) {
  const float* row = x + (index / g.cols) * g.cols;
  RowStats s;
  for (i64 j = 0; j < g.cols; ++j) s.mean += row[j];
  s.mean /= double(g.cols);
  double var = 0.0;
  for (i64 j = 0; j < g.cols; ++j) var += (row[j] - s.mean) * (row[j] - s.mean);
  s.inv_std = 1.0 / std::sqrt(var / double(g.cols) + g.epsilon);
  return s;
}

}  // namespace

Reference layernorm_forward_at(const RowGeometry& g, const float* x, const float* gamma, const float* beta, i64 index) {
  const RowStats s = row_stats(g, x, index);
  const i64 j = index % g.cols;
  const double scaled = double(gamma[j]) * (x[index] - s.mean) * s.inv_std;
  return {scaled + beta[j], std::abs(scaled) + std::abs(double(beta[j]))};
}

Reference layernorm_backward_at(const RowGeometry& g, const float* x, const float* dy, const float* gamma, i64 index) {
  const RowStats s = row_stats(g, x, index);
  const i64 row = (index / g.cols) * g.cols;
  // With g = dy * gamma the gradient of the normalized value: dx = inv_std (g - mean(g) - xhat mean(g xhat)).
  double mean_g = 0.0, mean_g_xhat = 0.0, mean_abs_g = 0.0, mean_abs_g_xhat = 0.0;
  for (i64 j = 0; j < g.cols; ++j) {
    const double gj = double(dy[row + j]) * gamma[j], xhat = (x[row + j] - s.mean) * s.inv_std;
    mean_g += gj, mean_g_xhat += gj * xhat, mean_abs_g += std::abs(gj), mean_abs_g_xhat += std::abs(gj * xhat);
  }
  const double n = double(g.cols);
  mean_g /= n, mean_g_xhat /= n, mean_abs_g /= n, mean_abs_g_xhat /= n;
  const double gi = double(dy[index]) * gamma[index % g.cols], xhat = (x[index] - s.mean) * s.inv_std;
  return {s.inv_std * (gi - mean_g - xhat * mean_g_xhat),
          s.inv_std * (std::abs(gi) + mean_abs_g + std::abs(xhat) * mean_abs_g_xhat)};
}

Reference binary_at(const BinaryGeometry& g, const float* a, const float* b, i64 index) {
  const double x = a[index], y = b[g.b_index(index)];
  return g.mul ? Reference{x * y, std::abs(x * y)} : Reference{x + y, std::abs(x) + std::abs(y)};
}

Reference concat_forward_at(const ConcatGeometry& g, const std::vector<const float*>& inputs, i64 index) {
  const i64 total = g.total_extent();
  const i64 inner = index % g.inner, along = (index / g.inner) % total, outer = index / (g.inner * total);
  std::size_t j = 0;
  while (along >= g.offset(j) + g.extents[j]) ++j;
  const double v = inputs[j][(outer * g.extents[j] + along - g.offset(j)) * g.inner + inner];
  return {v, std::abs(v)};
}

Reference concat_backward_at(const ConcatGeometry& g, const float* dy, std::size_t j, i64 index) {
  const i64 inner = index % g.inner, along = (index / g.inner) % g.extents[j], outer = index / (g.inner * g.extents[j]);
  const double v = dy[(outer * g.total_extent() + g.offset(j) + along) * g.inner + inner];
  return {v, std::abs(v)};
}

Reference upsample_forward_at(const UpsampleGeometry& g, const float* x, i64 index) {
  const i64 wy = g.w * g.scale, hy = g.h * g.scale;
  const i64 col = index % wy, row = (index / wy) % hy, plane = index / (wy * hy);
  const double v = x[(plane * g.h + row / g.scale) * g.w + col / g.scale];
  return {v, std::abs(v)};
}

Reference upsample_backward_at(const UpsampleGeometry& g, const float* dy, i64 index) {
  const i64 wy = g.w * g.scale, hy = g.h * g.scale;
  const i64 col = index % g.w, row = (index / g.w) % g.h, plane = index / (g.w * g.h);
  Reference ref;
  for (i64 i = 0; i < g.scale; ++i) {
    for (i64 j = 0; j < g.scale; ++j) {
      const double d = dy[(plane * hy + row * g.scale + i) * wy + col * g.scale + j];
      ref.value += d;
      ref.magnitude += std::abs(d);
    }
  }
  return ref;
}

Reference batchnorm_inference_at(const NormGeometry& g, const float* x, const float* gamma, const float* beta,
                                 const float* mean, const float* var, i64 index) {
  const i64 c = (index / g.spatial) % g.c;
  const double scaled = double(gamma[c]) * (x[index] - double(mean[c])) / std::sqrt(double(var[c]) + g.epsilon);
  return {scaled + beta[c], std::abs(scaled) + std::abs(double(beta[c]))};
}

namespace {

// Mean and 1/sqrt(var + eps) of channel c over the batch and the spatial positions.
std::pair<double, double> channel_stats(const NormGeometry& g, const float* x, i64 c) {
  const double count = double(g.n * g.spatial);
  double mean = 0.0, var = 0.0;
  for (i64 n = 0; n < g.n; ++n)
    for (i64 i = 0; i < g.spatial; ++i) mean += x[(n * g.c + c) * g.spatial + i];
  mean /= count;
  for (i64 n = 0; n < g.n; ++n)
    for (i64 i = 0; i < g.spatial; ++i) var += std::pow(x[(n * g.c + c) * g.spatial + i] - mean, 2);
  return {mean, 1.0 / std::sqrt(var / count + g.epsilon)};
}

}  // namespace

Reference batchnorm_training_at(const NormGeometry& g, const float* x, const float* gamma, const float* beta,
                                i64 index) {
  const i64 c = (index / g.spatial) % g.c;
  const auto [mean, inv_std] = channel_stats(g, x, c);
  const double scaled = double(gamma[c]) * (x[index] - mean) * inv_std;
  return {scaled + beta[c], std::abs(scaled) + std::abs(double(beta[c]))};
}

Reference batchnorm_backward_at(const NormGeometry& g, const float* x, const float* dy, const float* gamma, i64 index) {
  const i64 c = (index / g.spatial) % g.c;
  const double count = double(g.n * g.spatial);
  const auto [mean, inv_std] = channel_stats(g, x, c);
  double mean_dy = 0.0, mean_dy_xhat = 0.0, mean_abs_dy = 0.0, mean_abs_dy_xhat = 0.0;
  for (i64 n = 0; n < g.n; ++n) {
    for (i64 i = 0; i < g.spatial; ++i) {
      const i64 at = (n * g.c + c) * g.spatial + i;
      const double xhat = (x[at] - mean) * inv_std;
      mean_dy += dy[at];
      mean_dy_xhat += dy[at] * xhat;
      mean_abs_dy += std::abs(double(dy[at]));
      mean_abs_dy_xhat += std::abs(dy[at] * xhat);
    }
  }
  mean_dy /= count, mean_dy_xhat /= count, mean_abs_dy /= count, mean_abs_dy_xhat /= count;
  const double xhat = (x[index] - mean) * inv_std;
  const double scale = std::abs(double(gamma[c])) * inv_std;
  return {double(gamma[c]) * inv_std * (dy[index] - mean_dy - xhat * mean_dy_xhat),
          scale * (std::abs(double(dy[index])) + mean_abs_dy + std::abs(xhat) * mean_abs_dy_xhat)};
}

}  // namespace edgeroof::dnn::detail
