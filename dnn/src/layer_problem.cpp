#include "layer_problem.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace edgeroof::dnn {

std::optional<Pass> pass_of(std::string_view phase) {
  if (phase == "forward") return Pass::forward;
  if (phase == "backward_data") return Pass::backward_data;
  if (phase == "backward_weights") return Pass::backward_weights;
  return std::nullopt;
}

std::string pass_token(Pass pass, std::string_view op) {
  switch (pass) {
  case Pass::forward:
    return "fwd";
  case Pass::backward_data:
    return "bwd_data";
  case Pass::backward_weights:
    return op == "conv2d" ? "bwd_filter" : "bwd_weights";
  }
  return "?";
}

namespace {

std::string shape_text(const Shape& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

// What makes two layers the same benchmark: everything their kernel is made from.
std::string shape_key(const LayerCost& l, Pass pass) {
  std::string key = l.op + "|" + l.dtype + "|" + pass_token(pass, l.op) + "|";
  for (const auto& s : l.inputs) key += shape_text(s);
  key += "->";
  for (const auto& s : l.outputs) key += shape_text(s);
  for (const auto& [name, values] : l.attrs) key += "|" + name + "=" + shape_text(values);
  return key;
}

std::string base_name(const std::string& name) { return name.substr(0, name.find('/')); }

}  // namespace

std::vector<DistinctLayer> distinct_layers(const Workload& inference, const Workload* training) {
  std::vector<DistinctLayer> out;
  std::map<std::string, std::size_t> seen;
  auto add = [&](const LayerCost& forward, const LayerCost& counted, Pass pass, const std::string& token) {
    const std::string key = shape_key(forward, pass) + "|" + token;
    const auto [it, fresh] = seen.emplace(key, out.size());
    if (fresh) {
      out.push_back({forward, counted, pass, token, 1});
    } else {
      ++out[it->second].instances;
    }
  };
  for (const auto& l : inference.layers) {
    if (pass_of(l.phase) == Pass::forward) add(l, l, Pass::forward, "fwd");
  }
  if (training == nullptr) return out;
  // A layer whose training forward is another computation (batchnorm with the batch's statistics)
  // gets a second forward benchmark, fwd_train, its LayerCost marked with attrs.training = [1].
  std::map<std::string, const LayerCost*> inference_forward;
  for (const auto& l : inference.layers) inference_forward.emplace(l.name, &l);
  for (const auto& l : training->layers) {
    if (pass_of(l.phase) != Pass::forward) continue;
    const auto it = inference_forward.find(l.name);
    if (it == inference_forward.end() || (it->second->flops == l.flops && it->second->bytes == l.bytes)) continue;
    LayerCost marked = l;
    marked.attrs["training"] = {1};
    add(marked, l, Pass::forward, "fwd_train");
  }
  std::map<std::string, std::pair<std::size_t, const LayerCost*>> forward_of;  // position, layer
  for (const auto& l : training->layers) {
    if (pass_of(l.phase) == Pass::forward) forward_of.emplace(base_name(l.name), std::make_pair(forward_of.size(), &l));
  }
  // A training table lists the backward in reverse; take it in forward order so that a shape is
  // named after the first layer that has it, as in the forward.
  std::vector<std::pair<std::size_t, const LayerCost*>> backward;
  for (const auto& l : training->layers) {
    const auto pass = pass_of(l.phase);
    if (!pass || *pass == Pass::forward) continue;
    const auto f = forward_of.find(base_name(l.name));
    if (f != forward_of.end()) backward.emplace_back(f->second.first, &l);
  }
  std::stable_sort(backward.begin(), backward.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [position, layer] : backward) {
    const LayerCost& l = *layer;
    auto pass = *pass_of(l.phase);
    const auto slash = l.name.find('/');
    const std::string token = slash == std::string::npos ? pass_token(pass, l.op) : l.name.substr(slash + 1);
    if (token == "bwd_b") pass = Pass::backward_weights;
    add(*forward_of.at(base_name(l.name)).second, l, pass, token);
  }
  return out;
}

namespace detail {

namespace {

[[noreturn]] void bad_layer(const LayerCost& l, const std::string& what) {
  throw LayerKernelError("layer '" + l.name + "' (" + l.op + "): " + what);
}

i64 product(const Shape& s, std::size_t from, std::size_t to) {
  i64 p = 1;
  for (std::size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

const Shape& input(const LayerCost& l, std::size_t i) {
  if (l.inputs.size() <= i) bad_layer(l, "needs " + std::to_string(i + 1) + " input shape(s)");
  return l.inputs[i];
}

const Shape& output(const LayerCost& l) {
  if (l.outputs.empty()) bad_layer(l, "has no output shape");
  return l.outputs[0];
}

// attrs[name] as a pair: [a, b] -> (a, b), [a] -> (a, a), [a, b, c, d] (begin/end padding) -> (a, b).
std::pair<i64, i64> pair_attr(const LayerCost& l, const std::string& name, std::pair<i64, i64> fallback) {
  const auto it = l.attrs.find(name);
  if (it == l.attrs.end() || it->second.empty()) return fallback;
  const auto& v = it->second;
  if (v.size() == 4 && (v[0] != v[2] || v[1] != v[3])) bad_layer(l, "asymmetric " + name + " is not supported");
  return {v[0], v.size() >= 2 ? v[1] : v[0]};
}

i64 scalar_attr(const LayerCost& l, const std::string& name, i64 fallback) {
  const auto it = l.attrs.find(name);
  return it == l.attrs.end() || it->second.empty() ? fallback : it->second[0];
}

i64 window_output(i64 in, i64 kernel, i64 stride, i64 pad, i64 dilation) {
  return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
}

}  // namespace

ConvGeometry conv_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  const Shape& y = output(l);
  if (x.size() != 4 || y.size() != 4) bad_layer(l, "conv2d needs NCHW input and output shapes");
  ConvGeometry g;
  g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
  g.k = y[1], g.p = y[2], g.q = y[3];
  std::pair<i64, i64> kernel{0, 0};
  if (l.inputs.size() > 1 && l.inputs[1].size() == 4) kernel = {l.inputs[1][2], l.inputs[1][3]};
  kernel = pair_attr(l, "kernel", kernel);
  g.r = kernel.first, g.s = kernel.second;
  std::tie(g.stride_h, g.stride_w) = pair_attr(l, "stride", {1, 1});
  std::tie(g.pad_h, g.pad_w) = pair_attr(l, "padding", {0, 0});
  std::tie(g.dil_h, g.dil_w) = pair_attr(l, "dilation", {1, 1});
  g.groups = scalar_attr(l, "groups", 1);
  g.bias = scalar_attr(l, "bias", 0) != 0;
  if (g.r <= 0 || g.s <= 0) bad_layer(l, "conv2d has no kernel size (attrs.kernel)");
  if (g.groups <= 0 || g.c % g.groups != 0 || g.k % g.groups != 0)
    bad_layer(l, "groups must divide both channel counts");
  if (y[0] != g.n || g.p != window_output(g.h, g.r, g.stride_h, g.pad_h, g.dil_h) ||
      g.q != window_output(g.w, g.s, g.stride_w, g.pad_w, g.dil_w)) {
    bad_layer(l, "output shape does not follow from input, kernel, stride, padding and dilation");
  }
  return g;
}

GemmGeometry gemm_geometry(const LayerCost& l, Pass pass) {
  GemmGeometry g;
  if (l.op == "linear") {
    const Shape& x = input(l, 0);
    const Shape& y = output(l);
    if (x.empty() || y.empty()) bad_layer(l, "linear needs [..., in] and [..., out] shapes");
    const i64 rows = product(x, 0, x.size() - 1);
    const i64 in = x.back(), out = y.back();
    if (product(y, 0, y.size() - 1) != rows) bad_layer(l, "input and output rows differ");
    switch (pass) {
    case Pass::forward:
      g.m = rows, g.n = out, g.k = in, g.trans_b = true;
      break;  // y = x W^T
    case Pass::backward_data:
      g.m = rows, g.n = in, g.k = out;
      break;  // dx = dy W
    case Pass::backward_weights:
      g.m = out, g.n = in, g.k = rows, g.trans_a = true;
      break;  // dW = dy^T x
    }
    return g;
  }
  if (l.op != "matmul" && l.op != "bmm") bad_layer(l, "is not a GEMM layer");
  const Shape& a = input(l, 0);
  const Shape& b = input(l, 1);
  if (a.size() < 2 || b.size() < 2) bad_layer(l, "matmul needs [..., M, K] and [..., K, N] inputs");
  const i64 batch = product(a, 0, a.size() - 2), batch_b = product(b, 0, b.size() - 2);
  const i64 m = a[a.size() - 2], k = a.back(), n = b.back();
  if (b[b.size() - 2] != k) bad_layer(l, "inner dimensions differ");
  if (batch_b != batch && batch_b != 1) bad_layer(l, "only equal or broadcast (1) batches are supported");
  g.batch = batch, g.batch_b = batch_b;
  switch (pass) {
  case Pass::forward:
    g.m = m, g.n = n, g.k = k;
    break;
  case Pass::backward_data:
    g.m = m, g.n = k, g.k = n, g.trans_b = true;
    break;                      // dA = dC B^T
  case Pass::backward_weights:  // dB = A^T dC
    g.trans_a = true, g.m = k, g.n = n, g.k = m;
    if (batch_b == 1 && batch > 1) g.k = batch * m, g.batch = 1;  // a broadcast B sums over the batch
    g.batch_b = g.batch;
    break;
  }
  return g;
}

PoolGeometry pool_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  const Shape& y = output(l);
  if (x.size() != 4) bad_layer(l, "pooling needs an NCHW input");
  PoolGeometry g;
  g.max = l.op == "maxpool";
  g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
  g.p = y.size() == 4 ? y[2] : 1;
  g.q = y.size() == 4 ? y[3] : 1;
  // A global pool may carry no attrs: its window is the whole input.
  const bool global = l.attrs.count("kernel") == 0;
  std::tie(g.kernel_h, g.kernel_w) = global ? std::pair<i64, i64>{g.h, g.w} : pair_attr(l, "kernel", {1, 1});
  std::tie(g.stride_h, g.stride_w) = pair_attr(l, "stride", {g.kernel_h, g.kernel_w});
  std::tie(g.pad_h, g.pad_w) = pair_attr(l, "padding", {0, 0});
  if (g.p != window_output(g.h, g.kernel_h, g.stride_h, g.pad_h, 1) ||
      g.q != window_output(g.w, g.kernel_w, g.stride_w, g.pad_w, 1)) {
    bad_layer(l, "output shape does not follow from input, kernel, stride and padding");
  }
  return g;
}

Eltwise eltwise_of(const LayerCost& l) {
  static const std::map<std::string, Eltwise> ops{{"relu", Eltwise::relu},
                                                  {"gelu", Eltwise::gelu},
                                                  {"silu", Eltwise::silu},
                                                  {"hardswish", Eltwise::hardswish},
                                                  {"sigmoid", Eltwise::sigmoid}};
  const auto it = ops.find(l.op);
  if (it == ops.end()) bad_layer(l, "is not an activation");
  (void)input(l, 0);
  return it->second;
}

NormGeometry norm_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  if (x.size() < 2) bad_layer(l, "batchnorm needs an [N, C, ...] input");
  return {x[0], x[1], product(x, 2, x.size())};
}

RowGeometry softmax_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  if (x.empty()) bad_layer(l, "softmax needs an input shape");
  return {product(x, 0, x.size() - 1), x.back()};
}

RowGeometry layernorm_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  if (x.empty()) bad_layer(l, "layernorm needs an input shape");
  return {product(x, 0, x.size() - 1), x.back()};
}

BinaryGeometry binary_geometry(const LayerCost& l) {
  BinaryGeometry g{input(l, 0), input(l, 1), l.op == "mul"};
  if (g.b.size() > g.a.size()) bad_layer(l, "the second operand has more dimensions than the first");
  g.b.insert(g.b.begin(), g.a.size() - g.b.size(), 1);  // numpy rule: align the trailing dimensions
  // add and mul commute: the operand that broadcasts goes second.
  for (std::size_t i = 0; i < g.a.size(); ++i) {
    if (g.a[i] == 1 && g.b[i] > 1) {
      std::swap(g.a, g.b);
      break;
    }
  }
  for (std::size_t i = 0; i < g.a.size(); ++i) {
    if (g.b[i] != g.a[i] && g.b[i] != 1)
      bad_layer(l, "cannot broadcast " + shape_text(input(l, 1)) + " to " + shape_text(g.a));
  }
  return g;
}

i64 BinaryGeometry::size() const { return product(a, 0, a.size()); }
i64 BinaryGeometry::b_size() const { return product(b, 0, b.size()); }

i64 BinaryGeometry::b_index(i64 index) const {
  i64 at = 0, stride = 1;
  for (std::size_t i = a.size(); i-- > 0;) {
    const i64 coordinate = index % a[i];
    index /= a[i];
    if (b[i] != 1) at += coordinate * stride;
    stride *= b[i];
  }
  return at;
}

ConcatGeometry concat_geometry(const LayerCost& l) {
  const Shape& y = output(l);
  (void)input(l, 0);
  const i64 rank = static_cast<i64>(y.size());
  i64 axis = scalar_attr(l, "axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) bad_layer(l, "concat axis out of range");
  ConcatGeometry g;
  g.outer = product(y, 0, std::size_t(axis));
  g.inner = product(y, std::size_t(axis) + 1, y.size());
  for (const auto& x : l.inputs) {
    Shape other = x, base = y;
    if (other.size() != y.size()) bad_layer(l, "concat of tensors of different rank");
    other[std::size_t(axis)] = base[std::size_t(axis)] = 0;
    if (other != base) bad_layer(l, "concat shapes differ outside the axis");
    g.extents.push_back(x[std::size_t(axis)]);
  }
  if (g.total_extent() != y[std::size_t(axis)]) bad_layer(l, "concat output extent is not the sum of the inputs'");
  return g;
}

i64 ConcatGeometry::total_extent() const { return std::accumulate(extents.begin(), extents.end(), i64{0}); }
i64 ConcatGeometry::offset(std::size_t j) const {
  return std::accumulate(extents.begin(), extents.begin() + std::ptrdiff_t(j), i64{0});
}

UpsampleGeometry upsample_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  const Shape& y = output(l);
  const i64 scale = scalar_attr(l, "scale", 0);
  if (x.size() != 4 || y.size() != 4 || scale < 1) bad_layer(l, "upsample needs NCHW shapes and attrs.scale");
  if (y[2] != x[2] * scale || y[3] != x[3] * scale) bad_layer(l, "output shape is not the input's times the scale");
  return {x[0], x[1], x[2], x[3], scale};
}

bool layer_supported(const LayerCost& l, Pass pass, std::string* why) {
  auto no = [&](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  try {
    if (l.op == "conv2d") {
      (void)conv_geometry(l);
      return true;
    }
    if (l.op == "linear" || l.op == "matmul" || l.op == "bmm") {
      (void)gemm_geometry(l, pass);
      return true;
    }
    const bool backward_weights = pass == Pass::backward_weights;
    if (l.op == "maxpool" || l.op == "avgpool") {
      (void)pool_geometry(l);
      return backward_weights ? no("pooling has no weights") : true;
    }
    if (l.op == "relu" || l.op == "gelu" || l.op == "silu" || l.op == "hardswish" || l.op == "sigmoid") {
      (void)eltwise_of(l);
      return backward_weights ? no("an activation has no weights") : true;
    }
    if (l.op == "softmax") {
      (void)softmax_geometry(l);
      return backward_weights ? no("softmax has no weights") : true;
    }
    if (l.op == "layernorm") {
      (void)layernorm_geometry(l);
      return backward_weights ? no("layernorm's weight gradients are not a separate library call (oneDNN computes them "
                                   "with bwd_data)")
                              : true;
    }
    if (l.op == "batchnorm") {
      (void)norm_geometry(l);
      // The libraries compute the scale and shift gradients in the same call as the input
      // gradient; that call is the bwd_data benchmark.
      return backward_weights ? no("batchnorm's weight gradients come from its bwd_data call") : true;
    }
    if (l.op == "concat" || l.op == "upsample") {
      if (l.op == "concat") (void)concat_geometry(l);
      if (l.op == "upsample") (void)upsample_geometry(l);
      return backward_weights ? no(l.op + " has no weights") : true;
    }
    if (l.op == "add" || l.op == "mul") {
      (void)binary_geometry(l);
      return pass == Pass::forward ? true : no("the backward of an elementwise op is another elementwise op");
    }
  } catch (const LayerKernelError& e) {
    return no(e.what());
  }
  return no("no layer kernel for op '" + l.op + "'");
}

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
  s.inv_std = 1.0 / std::sqrt(var / double(g.cols) + layernorm_epsilon);
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
  const double scaled = double(gamma[c]) * (x[index] - double(mean[c])) / std::sqrt(double(var[c]) + batchnorm_epsilon);
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
  return {mean, 1.0 / std::sqrt(var / count + batchnorm_epsilon)};
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

}  // namespace detail
}  // namespace edgeroof::dnn
