// The Builder's normalizations, pointwise ops, reductions, data movement and pooling.
#include "edgeroof/dnn/ops.hpp"

#include "ops_costs.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

namespace edgeroof::dnn {

using namespace detail;

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
         2 * xb + bytes_of(8 * c), back, NormParams{});
  } else {
    // Reads x, gamma, beta, running mean and variance; writes y.
    emit(x, name, "batchnorm", {x.shape, {x.shape[1]}, {x.shape[1]}}, x.shape, false, kBatchnormInference * e,
         2 * xb + bytes_of(4 * c), back, NormParams{});
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
       2 * xb + bytes_of(2 * dim) + saved, back, NormParams{});
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
       2 * xb + bytes_of(dim) + saved, back, NormParams{});
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
  emit(xs.front(), name, "concat", inputs, y, false, 0.0, 2 * bytes_of(e), back, ConcatParams{axis});
  return produced(y, grad);
}

Tensor Builder::upsample(const std::string& name, const Tensor& x, std::int64_t scale) {
  if (x.shape.size() != 4 || scale < 1) throw ModelError(name + ": upsample needs NCHW and a scale >= 1");
  const Shape y{x.shape[0], x.shape[1], dims_product(name, x.shape[2], scale), dims_product(name, x.shape[3], scale)};
  const double ex = element_count(x.shape), ey = element_count(y);
  std::vector<Phase> back;
  // Nearest: a copy forward; backward sums the scale*scale gradients of each input element.
  if (x.needs_grad) back.push_back({"/bwd_data", "backward_data", ey - ex, bytes_of(ex + ey)});
  emit(x, name, "upsample", {x.shape}, y, false, 0.0, bytes_of(ex + ey), back, UpsampleParams{scale});
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
  emit(x, name, op, {x.shape}, y, false, forward, bytes_of(ex + ey), back, p);
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
}  // namespace edgeroof::dnn
