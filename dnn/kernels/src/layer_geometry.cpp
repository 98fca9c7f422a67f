// Geometry decoding: the problem a forward LayerCost describes, from its shapes and typed
// parameters, checked against each other.
#include "layer_problem.hpp"

#include <map>
#include <numeric>
#include <tuple>
#include <variant>

namespace edgeroof::dnn::detail {

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

// The parameters of the layer's op: a layer without them was not made by the Builder or a table.
template <class Params>
const Params& params_of(const LayerCost& l, const char* what) {
  const auto* p = std::get_if<Params>(&l.params);
  if (p == nullptr) bad_layer(l, std::string("carries no ") + what + " parameters");
  return *p;
}

i64 window_output(i64 in, i64 kernel, i64 stride, i64 pad, i64 dilation) {
  return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
}

}  // namespace

ConvGeometry conv_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  const Shape& y = output(l);
  if (x.size() != 4 || y.size() != 4) bad_layer(l, "conv2d needs NCHW input and output shapes");
  const auto& params = params_of<Conv2dParams>(l, "convolution");
  ConvGeometry g;
  g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
  g.k = y[1], g.p = y[2], g.q = y[3];
  g.r = params.kernel[0], g.s = params.kernel[1];
  g.stride_h = params.stride[0], g.stride_w = params.stride[1];
  g.pad_h = params.padding[0], g.pad_w = params.padding[1];
  g.dil_h = params.dilation[0], g.dil_w = params.dilation[1];
  g.groups = params.groups;
  g.bias = params.bias;
  if (g.r <= 0 || g.s <= 0) bad_layer(l, "conv2d has no kernel size (Conv2dParams::kernel)");
  if (params.out_channels != g.k) bad_layer(l, "output channels differ from the parameters' out_channels");
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
  const auto& params = params_of<PoolParams>(l, "pooling");
  g.kernel_h = params.kernel[0], g.kernel_w = params.kernel[1];
  g.stride_h = params.stride[0], g.stride_w = params.stride[1];
  g.pad_h = params.padding[0], g.pad_w = params.padding[1];
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
  return {x[0], x[1], product(x, 2, x.size()), params_of<NormParams>(l, "normalization").epsilon};
}

RowGeometry softmax_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  if (x.empty()) bad_layer(l, "softmax needs an input shape");
  return {product(x, 0, x.size() - 1), x.back()};
}

RowGeometry layernorm_geometry(const LayerCost& l) {
  const Shape& x = input(l, 0);
  if (x.empty()) bad_layer(l, "layernorm needs an input shape");
  return {product(x, 0, x.size() - 1), x.back(), params_of<NormParams>(l, "normalization").epsilon};
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
      bad_layer(l, "cannot broadcast " + bracket_text(input(l, 1)) + " to " + bracket_text(g.a));
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
  i64 axis = params_of<ConcatParams>(l, "concat").axis;
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
  const i64 scale = params_of<UpsampleParams>(l, "upsample").scale;
  if (x.size() != 4 || y.size() != 4 || scale < 1) bad_layer(l, "upsample needs NCHW shapes and a scale >= 1");
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
}  // namespace edgeroof::dnn::detail
