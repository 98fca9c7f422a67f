#include "edgeroof/dnn/ops.hpp"

#include "ops_costs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <utility>

namespace edgeroof::dnn {

using namespace detail;

namespace {

// Counts are whole numbers below 2^63, as a workload table must hold them (workload.hpp): a batch
// or sequence that makes one larger is refused instead of written as a rounded or infinite figure.
void check_count(const std::string& layer, const char* what, double count) {
  if (std::isfinite(count) && count >= 0.0 && count < 9223372036854775808.0 && count == std::floor(count)) return;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", count);
  throw ModelError(layer + ": " + what + " = " + buf + " does not fit in a 64-bit count (batch or sequence too large)");
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
                   double forward_bytes, const std::vector<Phase>& backward, const LayerParams& params) {
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
  l.params = params;
  l.step = training() ? Step::training : Step::inference;
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
  u.step = Step::training;
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
       p);
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
       back, LinearParams{bias});
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
       AttentionParams{h, k.shape[1], causal});
  return produced(q.shape, true);
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
       back, LstmParams{hidden});
  update(name, {w_ih, w_hh, b, b});
  return produced(y, true);
}

}  // namespace edgeroof::dnn
