#include "edgeroof/dnn/ops.hpp"

#include "edgeroof/dnn/checked.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <utility>

namespace edgeroof::dnn {
namespace {

// Per-element FLOPs of the pointwise ops (transcendentals count 1, see ops.hpp). Backward reads
// the saved forward input (or output) and dy, and writes dx.
struct ElementwiseCost {
  const char* op;
  double forward;
  double backward;
};
constexpr ElementwiseCost kElementwise[] = {
    // max(x, 0) | dx = x > 0 ? dy : 0 (one compare)
    {"relu", 1, 1},
    // 1/(1+exp(-x)): neg, exp, add, div | dx = dy*y*(1-y): sub, mul, mul
    {"sigmoid", 4, 3},
    // tanh | dx = dy*(1-y*y): mul, sub, mul
    {"tanh", 1, 3},
    // x*sigmoid(x): 4 + mul | s recomputed (4); dx = dy*s*(1 + x*(1-s)): sub, mul, add, mul, mul
    {"silu", 5, 9},
    // erf form 0.5*x*(1+erf(x/sqrt2)): mul, erf, add, mul, mul | Phi(x) (4: mul, erf, add, mul),
    // phi(x) (4: mul, mul, exp, mul), dx = dy*(Phi + x*phi): mul, add, mul
    {"gelu", 5, 11},
    // x*min(max(x+3, 0), 6)/6: add, max, min, mul, mul | two compares, 2x+3 (mul, add), /6, *dy
    {"hardswish", 5, 6},
    // min(max(x+3, 0), 6)/6: add, max, min, mul | two compares, dy/6
    {"hardsigmoid", 4, 3},
    // Pointwise steps of decomposed layers (ONNX exports of layernorm, GELU, ...):
    // sqrt | dx = dy*0.5/y: mul, div
    {"sqrt", 1, 2},
    // erf | dx = dy*(2/sqrt(pi))*exp(-x*x): mul, neg, exp, mul, mul
    {"erf", 1, 5},
    // exp | dx = dy*y
    {"exp", 1, 1},
    // -x | dx = -dy
    {"neg", 1, 1},
    // 1/x | dx = -dy*y*y: mul, mul, neg
    {"reciprocal", 1, 3},
    // min(max(x, lo), hi) | two compares select dy
    {"clip", 2, 2},
    // x < 0 ? a*x : x: compare, mul | compare, mul
    {"leaky_relu", 2, 2},
};

// Binary pointwise ops with broadcasting: forward FLOPs per output element and backward FLOPs per
// output element for the gradient of each operand (before summing a broadcast operand down).
struct BinaryCost {
  const char* op;
  double forward;
  double backward_a;
  double backward_b;
};
constexpr BinaryCost kBinary[] = {
    // a - b | da = dy, db = -dy (neg)
    {"sub", 1, 0, 1},
    // a*b | da = dy*b, db = dy*a
    {"mul", 1, 1, 1},
    // a/b | da = dy/b (div); db = -dy*a/(b*b): mul, mul, div, neg
    {"div", 1, 1, 4},
    // a^b (b a constant exponent in practice) | da = dy*b*a^(b-1): sub, pow, mul, mul;
    // db = dy*y*log(a): log, mul, mul
    {"pow", 1, 4, 3},
};

// Softmax over a row: max, subtract, exp, sum, divide per element; backward
// dx = y*(dy - sum(dy*y)): mul, add, sub, mul.
constexpr double kSoftmaxForward = 5;
constexpr double kSoftmaxBackward = 4;
// Batchnorm: inference y = x*a + b with a, b folded per channel (2). Training forward: mean (add),
// variance (sub, mul, add), y = (x - mean)*s + beta with s = gamma/std per channel (sub, mul,
// add) = 7. Backward: xhat recomputed (sub, mul), dgamma += dy*xhat (mul, add), dbeta += dy
// (add), dx = s*(dy - dbeta/M - xhat*dgamma/M) with per-channel constants (mul, sub, sub, mul).
constexpr double kBatchnormInference = 2;
constexpr double kBatchnormTrainForward = 7;
constexpr double kBatchnormBackward = 9;
// Layernorm: mean (add), variance (sub, mul, add), y = (x - mean)*rstd*gamma + beta (sub, mul,
// mul, add) = 8. Backward: xhat (sub, mul), dgamma (mul, add), dbeta (add), g = dy*gamma (mul),
// sums of g and g*xhat (add, mul, add), dx = rstd*(g - mean(g) - xhat*mean(g*xhat)) (mul, sub,
// sub, mul) = 13.
constexpr double kLayernormForward = 8;
constexpr double kLayernormBackward = 13;
// RMSNorm: square, add (sum), x*rstd, *gamma = 4. Backward: g = dy*gamma, g*x, sum (3), dx =
// rstd*g - x*c with c per row (mul, mul, sub: 3), dgamma += dy*x*rstd (mul, mul, add: 3) = 9.
constexpr double kRmsnormForward = 4;
constexpr double kRmsnormBackward = 9;
// RoPE: y = x*cos + rotate(x)*sin per element (mul, mul, add); backward the transposed rotation.
constexpr double kRope = 3;
// LSTM cell per hidden unit and step: bias adds of the two bias vectors (2 per gate, 8),
// sigmoid of i, f, o (3*4), tanh of g (1), c = f*c + i*g (3), h = o*tanh(c) (2) = 26.
// Backward: do = dh*tc, dtc = dh*o (2), dc += dtc*(1 - tc*tc) (4), di, dg, df, dc_prev (4),
// sigmoid' of three gates (3*3), tanh' of g (3) = 22.
constexpr double kLstmCellForward = 26;
constexpr double kLstmCellBackward = 22;

// Outputs of a window over one dimension; 0 when the window is larger than the padded input.
// check_window() has made k, s, d >= 1 and p >= 0; a file's sizes may still overflow.
std::int64_t conv_out(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d) {
  const auto once = add_int64(in, p);
  const auto padded = once ? add_int64(*once, p) : std::nullopt;
  const auto reach = mul_int64(d, k - 1);
  if (!padded || !reach) throw ModelError("a window or its padding does not fit in 64 bits");
  if (*padded <= *reach) return 0;
  return (*padded - *reach - 1) / s + 1;
}

// Window elements that fall inside the input, summed over all outputs of one dimension.
double valid_window_sum(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t s, std::int64_t p) {
  double sum = 0;
  for (std::int64_t o = 0; o < out; ++o) {
    const std::int64_t first = o * s - p;
    sum += std::max<std::int64_t>(0, std::min(first + k, in) - std::max<std::int64_t>(first, 0));
  }
  return sum;
}

std::vector<std::int64_t> vec(const std::array<std::int64_t, 2>& a) { return {a[0], a[1]}; }

// A product of dimensions of layer `name`; one that does not fit in 64 bits is refused.
std::int64_t dims_product(const std::string& name, std::int64_t a, std::int64_t b) {
  const auto r = mul_int64(a, b);
  if (!r) {
    throw ModelError(name + ": " + std::to_string(a) + " x " + std::to_string(b) +
                     " does not fit in a 64-bit count (batch or sequence too large)");
  }
  return *r;
}

// Counts are whole numbers below 2^63, as a workload table must hold them (workload.hpp): a batch
// or sequence that makes one larger is refused instead of written as a rounded or infinite figure.
void check_count(const std::string& layer, const char* what, double count) {
  if (std::isfinite(count) && count >= 0.0 && count < 9223372036854775808.0 && count == std::floor(count)) return;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", count);
  throw ModelError(layer + ": " + what + " = " + buf + " does not fit in a 64-bit count (batch or sequence too large)");
}

void check_window(const std::string& name, const std::array<std::int64_t, 2>& kernel,
                  const std::array<std::int64_t, 2>& stride, const std::array<std::int64_t, 2>& padding,
                  const std::array<std::int64_t, 2>& dilation) {
  for (int i = 0; i < 2; ++i) {
    if (kernel[i] < 1 || stride[i] < 1 || dilation[i] < 1 || padding[i] < 0) {
      throw ModelError(name + ": kernel, stride and dilation must be at least 1 and padding at least 0");
    }
  }
}

}  // namespace

std::int64_t dtype_size(const std::string& dtype) {
  if (dtype == "fp32") return 4;
  if (dtype == "fp16" || dtype == "bf16") return 2;
  if (dtype == "int8") return 1;
  throw ModelError("unknown dtype '" + dtype + "' (choose fp32, fp16, bf16 or int8)");
}

double element_count(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) {
    const auto next = d < 0 ? std::nullopt : mul_int64(n, d);
    if (!next) {
      throw ModelError("a tensor of shape " + shape_text(shape) +
                       (d < 0 ? " has a negative dimension" : " has more elements than fit in 64 bits"));
    }
    n = *next;
  }
  return static_cast<double>(n);
}

std::string shape_text(const Shape& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s.empty() ? "scalar" : s;
}

OptimizerCost optimizer_cost(const std::string& optimizer) {
  if (optimizer == "sgd") return {2, 2, 1};
  if (optimizer == "sgd_momentum") return {4, 3, 2};
  if (optimizer == "adam") return {14, 4, 3};
  throw ModelError("unknown optimizer '" + optimizer + "' (choose sgd, sgd_momentum or adam)");
}

Builder::Builder(std::string model, const WorkloadOptions& options)
    : m_options(options), m_dsize(dtype_size(options.dtype)) {
  if (options.batch < 1) throw ModelError("batch must be at least 1, not " + std::to_string(options.batch));
  if (training()) {
    (void)optimizer_cost(options.train);
    if (options.dtype == "int8") throw ModelError("int8 is inference-only: train with fp32, fp16 or bf16");
  }
  m_forward.model = std::move(model);
  m_forward.batch = options.batch;
  m_forward.dtype = options.dtype;
  m_forward.phase = training() ? "training:" + options.train : "inference";
}

Tensor Builder::input(Shape shape) const { return {std::move(shape), false}; }

Tensor Builder::parameter(const std::string& name, Shape shape) {
  update(name, {shape});
  return {std::move(shape), true};
}

Tensor Builder::view(const Tensor& x, Shape shape) const {
  if (element_count(shape) != element_count(x.shape)) {
    throw ModelError("cannot view " + shape_text(x.shape) + " as " + shape_text(shape));
  }
  return {std::move(shape), x.needs_grad, x.producer};
}

double Builder::l2_read(const Tensor& x) const {
  const double b = bytes_of(element_count(x.shape));
  const bool just_written = x.producer != 0 && x.producer == m_forward.layers.size();
  return m_options.l2_bytes > 0 && just_written && b <= m_options.l2_bytes ? b : 0.0;
}

Tensor Builder::produced(Shape shape, bool needs_grad) const {
  return {std::move(shape), needs_grad, m_forward.layers.size()};
}

void Builder::emit(const Tensor& primary, const std::string& name, const std::string& op,
                   const std::vector<Shape>& inputs, const Shape& output, bool tensor_op, double forward_flops,
                   double forward_bytes, const std::vector<Phase>& backward,
                   const std::map<std::string, std::vector<std::int64_t>>& attrs) {
  check_count(name, "FLOP", forward_flops);
  check_count(name, "bytes", forward_bytes);
  for (const auto& b : backward) {
    check_count(name + b.suffix, "FLOP", b.flops);
    check_count(name + b.suffix, "bytes", b.bytes);
  }
  LayerCost l;
  l.name = name;
  l.op = op;
  l.phase = "forward";
  l.inputs = inputs;
  l.outputs = {output};
  l.flops = forward_flops;
  l.bytes = forward_bytes - l2_read(primary);
  l.dtype = m_options.dtype;
  l.tensor_op = tensor_op;
  l.attrs = attrs;
  if (!training()) {
    m_forward.layers.push_back(std::move(l));
    return;
  }
  // Reverse order within the op too, so the whole list reversed at finish() keeps each op's
  // phases in the order given.
  for (auto it = backward.rbegin(); it != backward.rend(); ++it) {
    LayerCost b = l;
    b.name = name + it->suffix;
    b.phase = it->phase;
    b.flops = it->flops;
    b.bytes = it->bytes;
    m_backward.push_back(std::move(b));
  }
  m_forward.layers.push_back(std::move(l));
}

void Builder::update(const std::string& name, const std::vector<Shape>& params) {
  if (!training()) return;
  const auto cost = optimizer_cost(m_options.train);
  double n = 0.0;
  for (const auto& p : params) n += element_count(p);
  LayerCost u;
  u.name = name + "/update";
  u.op = m_options.train;
  u.phase = "optimizer";
  u.inputs = params;
  u.outputs = params;
  u.flops = cost.flops_per_param * n;
  u.bytes = (cost.tensors_read + cost.tensors_written) * bytes_of(n);
  check_count(u.name, "FLOP", u.flops);
  check_count(u.name, "bytes", u.bytes);
  u.dtype = m_options.dtype;
  m_updates.push_back(std::move(u));
}

void Builder::unsupported(const std::string& op) {
  if (std::find(m_forward.unsupported.begin(), m_forward.unsupported.end(), op) == m_forward.unsupported.end()) {
    m_forward.unsupported.push_back(op);
  }
}

Workload Builder::finish() const {
  Workload w = m_forward;
  w.layers.insert(w.layers.end(), m_backward.rbegin(), m_backward.rend());
  w.layers.insert(w.layers.end(), m_updates.begin(), m_updates.end());
  return w;
}

Tensor Builder::conv2d(const std::string& name, const Tensor& x, const Conv2dParams& p) {
  if (x.shape.size() != 4) throw ModelError(name + ": conv2d needs an NCHW input, got " + shape_text(x.shape));
  const auto n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
  check_window(name, p.kernel, p.stride, p.padding, p.dilation);
  if (p.out_channels < 1) throw ModelError(name + ": conv2d needs at least one output channel");
  if (p.groups < 1 || c % p.groups != 0 || p.out_channels % p.groups != 0) {
    throw ModelError(name + ": groups " + std::to_string(p.groups) + " do not divide the channels");
  }
  const auto oh = conv_out(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
  const auto ow = conv_out(wd, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
  if (oh < 1 || ow < 1) throw ModelError(name + ": kernel larger than the padded input " + shape_text(x.shape));
  const Shape y{n, p.out_channels, oh, ow};
  const Shape w{p.out_channels, c / p.groups, p.kernel[0], p.kernel[1]};
  const double out_elems = element_count(y);
  const double macs =
      out_elems * static_cast<double>(dims_product(name, dims_product(name, c / p.groups, p.kernel[0]), p.kernel[1]));
  const double bias = p.bias ? static_cast<double>(p.out_channels) : 0.0;
  const double xb = bytes_of(element_count(x.shape)), wb = bytes_of(element_count(w)), yb = bytes_of(out_elems);
  std::vector<Phase> back;
  if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", 2 * macs, yb + wb + xb});
  back.push_back(
      {"/bwd_filter", "backward_weights", 2 * macs + (p.bias ? out_elems : 0.0), yb + xb + wb + bytes_of(bias)});
  std::vector<Shape> inputs{x.shape, w};
  if (p.bias) inputs.push_back({p.out_channels});
  emit(x, name, "conv2d", inputs, y, true, 2 * macs + (p.bias ? out_elems : 0.0), xb + wb + bytes_of(bias) + yb, back,
       {{"kernel", vec(p.kernel)},
        {"stride", vec(p.stride)},
        {"padding", vec(p.padding)},
        {"dilation", vec(p.dilation)},
        {"groups", {p.groups}},
        {"bias", {p.bias ? 1 : 0}}});
  std::vector<Shape> params{w};
  if (p.bias) params.push_back({p.out_channels});
  update(name, params);
  return produced(y, true);
}

Tensor Builder::linear(const std::string& name, const Tensor& x, std::int64_t out_features, bool bias,
                       bool shared_weight) {
  if (x.shape.empty()) throw ModelError(name + ": linear needs an input [..., in]");
  const auto in = x.shape.back();
  Shape y = x.shape;
  y.back() = out_features;
  const Shape w{out_features, in};
  const double rows = element_count(x.shape) / static_cast<double>(in);
  const double macs = rows * static_cast<double>(in) * static_cast<double>(out_features);
  const double out_elems = element_count(y);
  const double bias_elems = bias ? static_cast<double>(out_features) : 0.0;
  const double xb = bytes_of(element_count(x.shape)), wb = bytes_of(element_count(w)), yb = bytes_of(out_elems);
  std::vector<Phase> back;
  if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", 2 * macs, yb + wb + xb});
  back.push_back(
      {"/bwd_weights", "backward_weights", 2 * macs + (bias ? out_elems : 0.0), yb + xb + wb + bytes_of(bias_elems)});
  std::vector<Shape> inputs{x.shape, w};
  if (bias) inputs.push_back({out_features});
  emit(x, name, "linear", inputs, y, true, 2 * macs + (bias ? out_elems : 0.0), xb + wb + bytes_of(bias_elems) + yb,
       back, {{"bias", {bias ? 1 : 0}}});
  std::vector<Shape> params;
  if (!shared_weight) params.push_back(w);
  if (bias) params.push_back({out_features});
  if (!params.empty()) update(name, params);
  return produced(y, true);
}

Tensor Builder::matmul(const std::string& name, const Tensor& a, const Tensor& b) {
  if (a.shape.size() != 2 || b.shape.size() != 2 || a.shape[1] != b.shape[0]) {
    throw ModelError(name + ": matmul needs [M, K] x [K, N], got " + shape_text(a.shape) + " x " + shape_text(b.shape));
  }
  return gemm(name, "matmul", a, b, {a.shape[0], b.shape[1]}, static_cast<double>(a.shape[1]));
}

Tensor Builder::bmm(const std::string& name, const Tensor& a, const Tensor& b) {
  if (a.shape.size() != 3 || b.shape.size() != 3 || a.shape[0] != b.shape[0] || a.shape[2] != b.shape[1]) {
    throw ModelError(name + ": bmm needs [B, M, K] x [B, K, N], got " + shape_text(a.shape) + " x " +
                     shape_text(b.shape));
  }
  return gemm(name, "bmm", a, b, {a.shape[0], a.shape[1], b.shape[2]}, static_cast<double>(a.shape[2]));
}

Tensor Builder::gemm(const std::string& name, const std::string& op, const Tensor& a, const Tensor& b, const Shape& y,
                     double k) {
  const double macs = element_count(y) * k;
  const double bytes = bytes_of(element_count(a.shape) + element_count(b.shape) + element_count(y));
  // dA = dC x B^T and dB = A^T x dC: each the forward's multiply-adds, reading two of the three
  // matrices and writing the third.
  std::vector<Phase> back;
  if (a.needs_grad) back.push_back({"/bwd_a", "backward_data", 2 * macs, bytes});
  if (b.needs_grad) back.push_back({"/bwd_b", "backward_data", 2 * macs, bytes});
  emit(a, name, op, {a.shape, b.shape}, y, true, 2 * macs, bytes, back);
  return produced(y, a.needs_grad || b.needs_grad);
}

Tensor Builder::attention(const std::string& name, const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  if (q.shape.size() != 4 || k.shape.size() != 4 || k.shape != v.shape || q.shape[0] != k.shape[0] ||
      q.shape[3] != k.shape[3] || k.shape[1] < 1 || q.shape[1] % k.shape[1] != 0 || k.shape[2] < q.shape[2]) {
    throw ModelError(
        name + ": attention needs q [N, h, Lq, d] and k = v [N, hk, Lk, d] with hk dividing h and Lk >= Lq, got " +
        shape_text(q.shape) + ", " + shape_text(k.shape) + ", " + shape_text(v.shape));
  }
  const auto n = q.shape[0], h = q.shape[1], lq = q.shape[2], d = q.shape[3], lk = k.shape[2];
  const std::int64_t nh = dims_product(name, n, h);
  const double heads = static_cast<double>(nh);
  if (!m_options.fused_attention) {
    // The grouped K and V are expanded to h heads (the copy is not counted: a view in most kernels).
    const Tensor qb = view(q, {nh, lq, d});
    const Tensor kt{{nh, d, lk}, k.needs_grad};
    const Tensor vb{{nh, lk, d}, v.needs_grad};
    const Tensor scores = bmm(name + ".scores", qb, kt);
    const Tensor probs = softmax(name + ".softmax", view(scores, {n, h, lq, lk}));
    const Tensor ctx = bmm(name + ".context", view(probs, {nh, lq, lk}), vb);
    return view(ctx, {n, h, lq, d});
  }
  // Unmasked query-key pairs per head: all of them, or for causal attention query i (at position
  // Lk - Lq + i) sees Lk - Lq + i + 1 keys.
  const double lqd = static_cast<double>(lq), lkd = static_cast<double>(lk);
  const double pairs = causal ? lqd * (lkd - lqd) + lqd * (lqd + 1) / 2 : lqd * lkd;
  const double dd = static_cast<double>(d);
  const double forward = heads * pairs * (4 * dd + kSoftmaxForward);  // QK^T, softmax, PV
  const double qo = 2 * bytes_of(element_count(q.shape)), kv = 2 * bytes_of(element_count(k.shape));
  // Training keeps the log-sum-exp of every row (fp32) for the backward pass.
  const double lse = training() ? heads * lqd * 4.0 : 0.0;
  // Backward (FlashAttention-2): recompute S = QK^T, then dV = P^T dO, dP = dO V^T, dQ = dS K,
  // dK = dS^T Q (5 GEMM passes); P = exp(S - lse) (sub, exp) and dS = P*(dP - D) (sub, mul) per
  // pair; D = rowsum(dO*O) (mul, add per query element).
  const double backward = heads * pairs * (10 * dd + 4) + heads * lqd * dd * 2;
  // Reads Q, K, V, O, dO and lse; writes dQ, dK, dV.
  const double backward_bytes =
      qo + kv + bytes_of(element_count(q.shape)) + lse + bytes_of(element_count(q.shape)) + kv;
  std::vector<Phase> back;
  if (q.needs_grad || k.needs_grad || v.needs_grad)
    back.push_back({"/bwd_data", "backward_data", backward, backward_bytes});
  emit(q, name, "attention", {q.shape, k.shape, v.shape}, q.shape, true, forward, qo + kv + lse, back,
       {{"heads", {h}}, {"kv_heads", {k.shape[1]}}, {"causal", {causal ? 1 : 0}}});
  return produced(q.shape, true);
}

Tensor Builder::batchnorm(const std::string& name, const Tensor& x) {
  if (x.shape.size() < 2) throw ModelError(name + ": batchnorm needs [N, C, ...], got " + shape_text(x.shape));
  const double e = element_count(x.shape);
  const double c = static_cast<double>(x.shape[1]);
  const double xb = bytes_of(e);
  std::vector<Phase> back;
  if (x.needs_grad) {
    // Reads x, dy, gamma, saved mean and 1/std; writes dx, dgamma, dbeta.
    back.push_back({"/bwd_data", "backward_data", kBatchnormBackward * e, 3 * xb + bytes_of(5 * c)});
  } else {
    // Only dgamma and dbeta: xhat (2), dgamma (2), dbeta (1).
    back.push_back({"/bwd_weights", "backward_weights", 5 * e, 2 * xb + bytes_of(5 * c)});
  }
  if (training()) {
    // Reads x, gamma, beta, running mean and variance; writes y, saved mean and 1/std, running stats.
    emit(x, name, "batchnorm", {x.shape, {x.shape[1]}, {x.shape[1]}}, x.shape, false, kBatchnormTrainForward * e,
         2 * xb + bytes_of(8 * c), back);
  } else {
    // Reads x, gamma, beta, running mean and variance; writes y.
    emit(x, name, "batchnorm", {x.shape, {x.shape[1]}, {x.shape[1]}}, x.shape, false, kBatchnormInference * e,
         2 * xb + bytes_of(4 * c), back);
  }
  update(name, {{x.shape[1]}, {x.shape[1]}});
  return produced(x.shape, true);
}

Tensor Builder::layernorm(const std::string& name, const Tensor& x) {
  if (x.shape.empty()) throw ModelError(name + ": layernorm needs a non-scalar input");
  const double e = element_count(x.shape);
  const double dim = static_cast<double>(x.shape.back());
  const double rows = e / dim;
  const double xb = bytes_of(e);
  // Training keeps the mean and 1/std of every row.
  const double saved = training() ? bytes_of(2 * rows) : 0.0;
  std::vector<Phase> back;
  if (x.needs_grad) {
    // Reads x, dy, gamma, saved stats; writes dx, dgamma, dbeta.
    back.push_back({"/bwd_data", "backward_data", kLayernormBackward * e, 3 * xb + bytes_of(3 * dim) + saved});
  } else {
    back.push_back({"/bwd_weights", "backward_weights", 5 * e, 2 * xb + bytes_of(2 * dim) + saved});
  }
  emit(x, name, "layernorm", {x.shape, {x.shape.back()}, {x.shape.back()}}, x.shape, false, kLayernormForward * e,
       2 * xb + bytes_of(2 * dim) + saved, back);
  update(name, {{x.shape.back()}, {x.shape.back()}});
  return produced(x.shape, true);
}

Tensor Builder::rmsnorm(const std::string& name, const Tensor& x) {
  if (x.shape.empty()) throw ModelError(name + ": rmsnorm needs a non-scalar input");
  const double e = element_count(x.shape);
  const double dim = static_cast<double>(x.shape.back());
  const double rows = e / dim;
  const double xb = bytes_of(e);
  const double saved = training() ? bytes_of(rows) : 0.0;  // 1/rms of every row
  std::vector<Phase> back;
  // Reads x, dy, gamma, saved 1/rms; writes dx and dgamma.
  if (x.needs_grad)
    back.push_back({"/bwd_data", "backward_data", kRmsnormBackward * e, 3 * xb + bytes_of(2 * dim) + saved});
  emit(x, name, "rmsnorm", {x.shape, {x.shape.back()}}, x.shape, false, kRmsnormForward * e,
       2 * xb + bytes_of(dim) + saved, back);
  update(name, {{x.shape.back()}});
  return produced(x.shape, true);
}

Tensor Builder::rope(const std::string& name, const Tensor& x) {
  if (x.shape.size() != 4 || x.shape[3] % 2 != 0) {
    throw ModelError(name + ": rope needs [N, h, L, d] with an even d, got " + shape_text(x.shape));
  }
  const double e = element_count(x.shape);
  const double tables =
      bytes_of(static_cast<double>(dims_product(name, x.shape[2], x.shape[3])));  // cos and sin, [L, d/2] each
  std::vector<Phase> back;
  if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", kRope * e, bytes_of(2 * e) + tables});
  emit(x, name, "rope", {x.shape}, x.shape, false, kRope * e, bytes_of(2 * e) + tables, back);
  return produced(x.shape, x.needs_grad);
}

Tensor Builder::softmax(const std::string& name, const Tensor& x) {
  const double e = element_count(x.shape);
  std::vector<Phase> back;
  if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", kSoftmaxBackward * e, 3 * bytes_of(e)});
  emit(x, name, "softmax", {x.shape}, x.shape, false, kSoftmaxForward * e, 2 * bytes_of(e), back);
  return produced(x.shape, x.needs_grad);
}

Tensor Builder::elementwise(const std::string& name, const std::string& op, const Tensor& x) {
  const auto* cost = std::find_if(std::begin(kElementwise), std::end(kElementwise),
                                  [&](const ElementwiseCost& c) { return op == c.op; });
  if (cost == std::end(kElementwise)) throw ModelError(name + ": unknown activation '" + op + "'");
  const double e = element_count(x.shape);
  std::vector<Phase> back;
  // Reads the saved input (or output) and dy, writes dx.
  if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", cost->backward * e, 3 * bytes_of(e)});
  emit(x, name, op, {x.shape}, x.shape, false, cost->forward * e, 2 * bytes_of(e), back);
  return produced(x.shape, x.needs_grad);
}

Tensor Builder::activation(const std::string& name, const std::string& op, const Tensor& x) {
  return elementwise(name, op, x);
}

Tensor Builder::broadcast_binary(const std::string& name, const std::string& op, const Tensor& a, const Tensor& b) {
  // b broadcasts against a (same rank, each dim equal or 1): [N, C, H, W] * [N, C, 1, 1].
  bool ok = a.shape.size() == b.shape.size();
  for (std::size_t i = 0; ok && i < a.shape.size(); ++i) ok = b.shape[i] == a.shape[i] || b.shape[i] == 1;
  if (!ok) throw ModelError(name + ": cannot broadcast " + shape_text(b.shape) + " to " + shape_text(a.shape));
  const double ya = element_count(a.shape), eb = element_count(b.shape);
  std::vector<Phase> back;
  if (op == "add") {
    // dy flows to both inputs unchanged; the cost is where the two gradient streams meet again
    // (residual: dx = dy + dy_branch, one add per element) or, for a broadcast b, the sum of dy
    // down to b's shape.
    if (a.needs_grad && b.needs_grad && eb == ya) {
      back.push_back({"/bwd_data", "backward_data", ya, 3 * bytes_of(ya)});
    } else if (b.needs_grad && eb < ya) {
      back.push_back({"/bwd_data", "backward_data", ya - eb, bytes_of(ya + eb)});
    }
  } else {
    const auto* cost =
        std::find_if(std::begin(kBinary), std::end(kBinary), [&](const BinaryCost& c) { return op == c.op; });
    if (cost == std::end(kBinary)) throw ModelError(name + ": unknown binary op '" + op + "'");
    // Each operand's gradient reads dy and the other operand (or its own) and is written; b's is
    // summed down to b's shape when broadcast (one add per extra element).
    double flops = 0.0, bytes = bytes_of(ya);  // dy
    if (a.needs_grad) flops += cost->backward_a * ya, bytes += bytes_of(eb + ya);
    if (b.needs_grad) flops += cost->backward_b * ya + (ya - eb), bytes += bytes_of(ya + eb);
    if (a.needs_grad || b.needs_grad) back.push_back({"/bwd_data", "backward_data", flops, bytes});
    emit(a, name, op, {a.shape, b.shape}, a.shape, false, cost->forward * ya, bytes_of(2 * ya + eb), back);
    return produced(a.shape, a.needs_grad || b.needs_grad);
  }
  emit(a, name, op, {a.shape, b.shape}, a.shape, false, ya, bytes_of(2 * ya + eb), back);
  return produced(a.shape, a.needs_grad || b.needs_grad);
}

Tensor Builder::add(const std::string& name, const Tensor& a, const Tensor& b) {
  return broadcast_binary(name, "add", a, b);
}

Tensor Builder::mul(const std::string& name, const Tensor& a, const Tensor& b) {
  return broadcast_binary(name, "mul", a, b);
}

Tensor Builder::binary(const std::string& name, const std::string& op, const Tensor& a, const Tensor& b) {
  return broadcast_binary(name, op, a, b);
}

Tensor Builder::reduce(const std::string& name, const std::string& op, const Tensor& x, Shape y) {
  const double e = element_count(x.shape), o = element_count(y);
  if (o <= 0 || e < o || static_cast<std::int64_t>(e) % static_cast<std::int64_t>(o) != 0) {
    throw ModelError(name + ": cannot reduce " + shape_text(x.shape) + " to " + shape_text(y));
  }
  double forward = 0.0, backward = 0.0;
  if (op == "reduce_sum") {
    forward = e - o;  // adds; backward broadcasts dy back (a copy)
  } else if (op == "reduce_mean") {
    forward = e;   // adds and one divide per output
    backward = e;  // dy/n broadcast back: the divide per input element
  } else {
    throw ModelError(name + ": unknown reduction '" + op + "'");
  }
  std::vector<Phase> back;
  if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", backward, bytes_of(e + o)});
  emit(x, name, op, {x.shape}, y, false, forward, bytes_of(e + o), back);
  return produced(std::move(y), x.needs_grad);
}

Tensor Builder::concat(const std::string& name, const std::vector<Tensor>& xs, std::int64_t axis) {
  if (xs.empty()) throw ModelError(name + ": concat of nothing");
  const auto rank = static_cast<std::int64_t>(xs.front().shape.size());
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) throw ModelError(name + ": concat axis out of range");
  Shape y = xs.front().shape;
  y[axis] = 0;
  std::vector<Shape> inputs;
  bool grad = false;
  for (const auto& x : xs) {
    Shape other = x.shape;
    if (other.size() != y.size()) throw ModelError(name + ": concat of tensors of different rank");
    y[axis] += other[axis];
    other[axis] = 0;
    Shape base = y;
    base[axis] = 0;
    if (other != base) throw ModelError(name + ": concat shapes differ outside axis " + std::to_string(axis));
    inputs.push_back(x.shape);
    grad = grad || x.needs_grad;
  }
  const double e = element_count(y);
  std::vector<Phase> back;
  // Copies: read every input, write the output; backward splits dy the same way.
  if (grad) back.push_back({"/bwd_data", "backward_data", 0.0, 2 * bytes_of(e)});
  emit(xs.front(), name, "concat", inputs, y, false, 0.0, 2 * bytes_of(e), back, {{"axis", {axis}}});
  return produced(y, grad);
}

Tensor Builder::upsample(const std::string& name, const Tensor& x, std::int64_t scale) {
  if (x.shape.size() != 4 || scale < 1) throw ModelError(name + ": upsample needs NCHW and a scale >= 1");
  const Shape y{x.shape[0], x.shape[1], dims_product(name, x.shape[2], scale), dims_product(name, x.shape[3], scale)};
  const double ex = element_count(x.shape), ey = element_count(y);
  std::vector<Phase> back;
  // Nearest: a copy forward; backward sums the scale*scale gradients of each input element.
  if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", ey - ex, bytes_of(ex + ey)});
  emit(x, name, "upsample", {x.shape}, y, false, 0.0, bytes_of(ex + ey), back, {{"scale", {scale, scale}}});
  return produced(y, x.needs_grad);
}

Tensor Builder::pool(const std::string& name, const std::string& op, const Tensor& x, const PoolParams& p) {
  if (x.shape.size() != 4) throw ModelError(name + ": " + op + " needs an NCHW input, got " + shape_text(x.shape));
  check_window(name, p.kernel, p.stride, p.padding, {1, 1});
  const auto oh = conv_out(x.shape[2], p.kernel[0], p.stride[0], p.padding[0], 1);
  const auto ow = conv_out(x.shape[3], p.kernel[1], p.stride[1], p.padding[1], 1);
  if (oh < 1 || ow < 1) throw ModelError(name + ": pooling window larger than the padded input");
  const Shape y{x.shape[0], x.shape[1], oh, ow};
  const double planes = static_cast<double>(dims_product(name, x.shape[0], x.shape[1]));
  // Input elements inside all windows (padding excluded), over all outputs.
  const double valid = planes *
                       static_cast<double>(valid_window_sum(x.shape[2], oh, p.kernel[0], p.stride[0], p.padding[0])) *
                       static_cast<double>(valid_window_sum(x.shape[3], ow, p.kernel[1], p.stride[1], p.padding[1]));
  const double ex = element_count(x.shape), ey = element_count(y);
  double forward = 0.0;
  std::vector<Phase> back;
  if (op == "maxpool") {
    // A window of v elements takes v - 1 compares. Backward adds dy into dx at the argmax
    // (windows overlap), reading x, y and dy and writing dx, as cuDNN's interface does.
    forward = valid - ey;
    if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", ey, bytes_of(2 * ex + 2 * ey)});
  } else {
    // v - 1 adds and one divide per window; backward divides dy once per output and adds it to
    // every element of its window.
    forward = valid;
    if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", valid + ey, bytes_of(ex + ey)});
  }
  emit(x, name, op, {x.shape}, y, false, forward, bytes_of(ex + ey), back,
       {{"kernel", vec(p.kernel)}, {"stride", vec(p.stride)}, {"padding", vec(p.padding)}});
  return produced(y, x.needs_grad);
}

Tensor Builder::maxpool(const std::string& name, const Tensor& x, const PoolParams& p) {
  return pool(name, "maxpool", x, p);
}

Tensor Builder::avgpool(const std::string& name, const Tensor& x, const PoolParams& p) {
  return pool(name, "avgpool", x, p);
}

Tensor Builder::global_avgpool(const std::string& name, const Tensor& x) {
  if (x.shape.size() != 4) throw ModelError(name + ": global average pooling needs NCHW, got " + shape_text(x.shape));
  return pool(name, "avgpool", x, {{x.shape[2], x.shape[3]}, {1, 1}, {0, 0}});
}

Tensor Builder::embedding(const std::string& name, const Tensor& ids, std::int64_t vocab, std::int64_t dim) {
  Shape y = ids.shape;
  y.push_back(dim);
  const double rows = element_count(ids.shape), ey = element_count(y);
  const double id_bytes = rows * 8.0;  // int64 token ids
  // Forward gathers one row per id; backward adds each dy row into its row of dW (read-modify-
  // write of the touched rows; zeroing the dense gradient is not counted).
  std::vector<Phase> back{{"/bwd_weights", "backward_weights", ey, id_bytes + bytes_of(3 * ey)}};
  emit(ids, name, "embedding", {ids.shape, {vocab, dim}}, y, false, 0.0, id_bytes + bytes_of(2 * ey), back);
  update(name, {{vocab, dim}});
  return produced(y, true);
}

Tensor Builder::lstm(const std::string& name, const Tensor& x, std::int64_t hidden) {
  if (x.shape.size() != 3) throw ModelError(name + ": lstm needs x [T, N, I], got " + shape_text(x.shape));
  const auto t = x.shape[0], n = x.shape[1], in = x.shape[2];
  const Shape y{t, n, hidden};
  if (hidden < 1) throw ModelError(name + ": lstm needs at least one hidden unit");
  const std::int64_t gates = dims_product(name, 4, hidden);
  const Shape w_ih{gates, in}, w_hh{gates, hidden}, b{gates};
  const double steps = static_cast<double>(dims_product(name, t, n));  // (step, sequence) pairs
  const double hd = static_cast<double>(hidden), id = static_cast<double>(in);
  const double gate_macs = steps * 4 * hd * (id + hd);
  const double cell = steps * hd;
  const double wb = bytes_of(4 * hd * (id + hd) + 8 * hd);  // both weights and both biases
  const double xb = bytes_of(element_count(x.shape)), yb = bytes_of(element_count(y));
  const double state = bytes_of(static_cast<double>(n) * hd);  // one h or c
  // Forward reads x, weights, h0, c0; writes y, hn, cn (training also keeps the gates and cell
  // states for the backward pass: 5H per step).
  const double saved = training() ? bytes_of(5 * cell) : 0.0;
  const double forward_bytes = xb + wb + yb + 4 * state + saved;
  // Backward data: dgates x W_hh for the recurrence (always), dgates x W_ih for dx (when x needs
  // it), and the cell's pointwise backward. Backward weights: dW += dgates^T [x, h] per step
  // (same multiply-adds as forward) and the bias gradient (one add per gate element).
  const double data_macs = steps * 4 * hd * (hd + (x.needs_grad ? id : 0.0));
  std::vector<Phase> back{{"/bwd_data", "backward_data", 2 * data_macs + kLstmCellBackward * cell,
                           yb + saved + wb + (x.needs_grad ? xb : 0.0) + 2 * state},
                          {"/bwd_weights", "backward_weights", 2 * gate_macs + 4 * cell, xb + yb + saved + wb}};
  emit(x, name, "lstm", {x.shape, w_ih, w_hh, b, b}, y, true, 2 * gate_macs + kLstmCellForward * cell, forward_bytes,
       back, {{"hidden", {hidden}}});
  update(name, {w_ih, w_hh, b, b});
  return produced(y, true);
}

}  // namespace edgeroof::dnn
