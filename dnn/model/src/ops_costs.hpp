// What the op files of the Builder share (ops.cpp: the core and the GEMM-like ops;
// ops_pointwise.cpp: normalizations, pointwise ops, pooling and data movement): the per-element
// costs with their derivations, and the window and overflow checks.
#pragma once

#include "edgeroof/dnn/checked.hpp"
#include "edgeroof/dnn/ops.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace edgeroof::dnn::detail {

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
inline std::int64_t conv_out(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d) {
  const auto once = add_int64(in, p);
  const auto padded = once ? add_int64(*once, p) : std::nullopt;
  const auto reach = mul_int64(d, k - 1);
  if (!padded || !reach) throw ModelError("a window or its padding does not fit in 64 bits");
  if (*padded <= *reach) return 0;
  return (*padded - *reach - 1) / s + 1;
}

// Window elements that fall inside the input, summed over all outputs of one dimension.
inline double valid_window_sum(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t s, std::int64_t p) {
  double sum = 0;
  for (std::int64_t o = 0; o < out; ++o) {
    const std::int64_t first = o * s - p;
    sum += std::max<std::int64_t>(0, std::min(first + k, in) - std::max<std::int64_t>(first, 0));
  }
  return sum;
}

// A product of dimensions of layer `name`; one that does not fit in 64 bits is refused.
inline std::int64_t dims_product(const std::string& name, std::int64_t a, std::int64_t b) {
  const auto r = mul_int64(a, b);
  if (!r) {
    throw ModelError(name + ": " + std::to_string(a) + " x " + std::to_string(b) +
                     " does not fit in a 64-bit count (batch or sequence too large)");
  }
  return *r;
}

inline void check_window(const std::string& name, const std::array<std::int64_t, 2>& kernel,
                         const std::array<std::int64_t, 2>& stride, const std::array<std::int64_t, 2>& padding,
                         const std::array<std::int64_t, 2>& dilation) {
  for (int i = 0; i < 2; ++i) {
    if (kernel[i] < 1 || stride[i] < 1 || dilation[i] < 1 || padding[i] < 0) {
      throw ModelError(name + ": kernel, stride and dilation must be at least 1 and padding at least 0");
    }
  }
}

}  // namespace edgeroof::dnn::detail
