// What every backend of the layer kernels shares: the problem a forward LayerCost describes
// (geometry read from its shapes and typed parameters, layer_geometry.cpp), deterministic input values, and direct
// evaluations of each layer's definition at one output element, which check the libraries' results
// (layer_reference.cpp).
#pragma once

#include "edgeroof/dnn/layer_kernels.hpp"
#include "edgeroof/dnn/optimizer_kernels.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace edgeroof::dnn::detail {

using i64 = std::int64_t;

// "[2,3,4]": a shape in error messages and benchmark keys.
[[nodiscard]] inline std::string bracket_text(const std::vector<i64>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

// Convolution, NCHW activations and KCRS weights (C per group).
struct ConvGeometry {
  i64 n = 0, c = 0, h = 0, w = 0;  // input
  i64 k = 0, p = 0, q = 0;         // output channels and size
  i64 r = 1, s = 1;                // filter
  i64 stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1;
  i64 groups = 1;
  bool bias = false;
  [[nodiscard]] i64 input_size() const { return n * c * h * w; }
  [[nodiscard]] i64 weight_size() const { return k * (c / groups) * r * s; }
  [[nodiscard]] i64 output_size() const { return n * k * p * q; }
};

// C[b] = op(A[b]) * op(B[b]) with A stored [m][k] ([k][m] when trans_a) and B stored [k][n]
// ([n][k] when trans_b), all row-major; a batch of B of 1 is broadcast over A's batch.
struct GemmGeometry {
  i64 batch = 1, m = 0, n = 0, k = 0;
  i64 batch_b = 1;
  bool trans_a = false, trans_b = false;
  [[nodiscard]] i64 a_size() const { return batch * m * k; }
  [[nodiscard]] i64 b_size() const { return batch_b * k * n; }
  [[nodiscard]] i64 c_size() const { return batch * m * n; }
};

// Max or average (padding counted, as PyTorch's default count_include_pad) pooling, NCHW.
struct PoolGeometry {
  i64 n = 0, c = 0, h = 0, w = 0, p = 0, q = 0;
  i64 kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  bool max = true;
  [[nodiscard]] i64 input_size() const { return n * c * h * w; }
  [[nodiscard]] i64 output_size() const { return n * c * p * q; }
};

enum class Eltwise { relu, gelu, silu, hardswish, sigmoid };

// Batch normalization over the channels of an [N, C, spatial...] tensor.
struct NormGeometry {
  i64 n = 0, c = 0, spatial = 1;
  double epsilon = 0.0;  // NormParams::epsilon
  [[nodiscard]] i64 size() const { return n * c * spatial; }
};

// Softmax and layernorm over the last axis: `rows` vectors of `cols` values.
struct RowGeometry {
  i64 rows = 0, cols = 0;
  double epsilon = 0.0;  // layernorm's NormParams::epsilon; unused by softmax
};

// Elementwise add or mul; the second operand may broadcast (a dimension of 1 where the first has
// more, as a squeeze-excitation scale [N, C, 1, 1] over [N, C, H, W]). Both shapes have one rank.
struct BinaryGeometry {
  Shape a, b;
  bool mul = false;
  [[nodiscard]] i64 size() const;
  [[nodiscard]] i64 b_size() const;
  // Index into b of element `index` of a.
  [[nodiscard]] i64 b_index(i64 index) const;
};

// Concatenation along one axis: each tensor is `outer` rows of extent[j] x `inner` values.
struct ConcatGeometry {
  i64 outer = 1, inner = 1;
  std::vector<i64> extents;  // per input, along the axis
  [[nodiscard]] i64 total_extent() const;
  [[nodiscard]] i64 input_size(std::size_t j) const { return outer * extents[j] * inner; }
  [[nodiscard]] i64 output_size() const { return outer * total_extent() * inner; }
  // Where input j starts along the axis.
  [[nodiscard]] i64 offset(std::size_t j) const;
};

// Nearest-neighbour upsampling of NCHW by an integer factor.
struct UpsampleGeometry {
  i64 n = 0, c = 0, h = 0, w = 0, scale = 1;
  [[nodiscard]] i64 input_size() const { return n * c * h * w; }
  [[nodiscard]] i64 output_size() const { return input_size() * scale * scale; }
};

// Whether the kernel of `l` at `pass` is a training step's forward (Step::training), which
// computes differently from inference for some ops (batchnorm with the batch's statistics).
[[nodiscard]] inline bool training_forward(const LayerCost& l, Pass pass) {
  return pass == Pass::forward && l.step == Step::training;
}

// Readers of a forward LayerCost; each throws LayerKernelError naming the layer when its shapes
// or parameters do not describe such a layer.
[[nodiscard]] ConvGeometry conv_geometry(const LayerCost& l);
// The GEMM a linear/matmul/bmm layer performs at `pass` (backward_weights of matmul/bmm is the
// gradient of the second operand).
[[nodiscard]] GemmGeometry gemm_geometry(const LayerCost& l, Pass pass);
[[nodiscard]] PoolGeometry pool_geometry(const LayerCost& l);
[[nodiscard]] Eltwise eltwise_of(const LayerCost& l);
[[nodiscard]] NormGeometry norm_geometry(const LayerCost& l);
[[nodiscard]] RowGeometry softmax_geometry(const LayerCost& l);
[[nodiscard]] RowGeometry layernorm_geometry(const LayerCost& l);
[[nodiscard]] BinaryGeometry binary_geometry(const LayerCost& l);
[[nodiscard]] ConcatGeometry concat_geometry(const LayerCost& l);
[[nodiscard]] UpsampleGeometry upsample_geometry(const LayerCost& l);

// Ops and passes the library backends run (both backends cover the same set).
[[nodiscard]] bool layer_supported(const LayerCost& l, Pass pass, std::string* why);

// Fixed pseudo-random values in [lo, hi); `seed` makes different tensors differ.
[[nodiscard]] std::vector<float> fill(i64 count, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// A direct evaluation at one element: the value and the sum of magnitudes of its terms, which
// bounds the rounding error any summation order can make.
struct Reference {
  double value = 0.0;
  double magnitude = 0.0;
  // The definition leaves the value open (a gradient routed to one of several equal maxima, which
  // fp16 inputs make likely): the check skips the element.
  bool ambiguous = false;
};

// Relative error of `got` against a Reference, with a floor so that exact zeros compare.
[[nodiscard]] double relative_error(double got, const Reference& ref);

// The optimizer state at `indices` of plain host copies (an empty buffer reads as 0), for the
// optimizer kernels' check.
[[nodiscard]] std::vector<OptimizerElement> read_elements(const std::vector<i64>& indices, const std::vector<float>& w,
                                                          const std::vector<float>& g, const std::vector<float>& m,
                                                          const std::vector<float>& v);

// Element indices a check visits: up to `samples` spread over [0, count), first and last included.
[[nodiscard]] std::vector<i64> sample_indices(i64 count, i64 samples = 384);

// Largest relative error of `got` (`count` plain values) at the sampled indices against
// reference(index) -> Reference.
template <class ReferenceAt>
[[nodiscard]] double sampled_error(const float* got, i64 count, ReferenceAt&& reference) {
  double worst = 0.0;
  for (i64 i : sample_indices(count)) {
    const Reference ref = reference(i);
    if (ref.ambiguous) continue;
    const double e = relative_error(got[i], ref);
    if (!(e <= worst)) worst = e;  // a NaN error stays
  }
  return worst;
}

// Output element `index` (row-major) of each layer and pass. Tensors are plain row-major.
[[nodiscard]] Reference conv_forward_at(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                                        i64 index);
[[nodiscard]] Reference conv_backward_data_at(const ConvGeometry& g, const float* dy, const float* w, i64 index);
[[nodiscard]] Reference conv_backward_weights_at(const ConvGeometry& g, const float* x, const float* dy, i64 index);
[[nodiscard]] Reference gemm_at(const GemmGeometry& g, const float* a, const float* b, i64 index);
[[nodiscard]] Reference pool_forward_at(const PoolGeometry& g, const float* x, i64 index);
[[nodiscard]] Reference pool_backward_at(const PoolGeometry& g, const float* x, const float* dy, i64 index);
// Activations at one element; the magnitude sums the terms of the formula (GELU's x/2 and
// x/2 erf(x/sqrt 2) cancel for negative x, so its rounding is relative to |x|, not to the value).
[[nodiscard]] Reference eltwise_forward_at(Eltwise op, double x);
// dy times the derivative at x: the input gradient.
[[nodiscard]] Reference eltwise_backward_at(Eltwise op, double x, double dy);
[[nodiscard]] Reference softmax_forward_at(const RowGeometry& g, const float* x, i64 index);
[[nodiscard]] Reference softmax_backward_at(const RowGeometry& g, const float* y, const float* dy, i64 index);
// Layernorm over each row with its own statistics: y = gamma (x - mean) / sqrt(var + eps) + beta,
// and its input gradient.
// Element `index` of a + b or a * b.
[[nodiscard]] Reference binary_at(const BinaryGeometry& g, const float* a, const float* b, i64 index);
// Element `index` of the concatenation of `inputs`; element `index` of input j cut from `dy`.
[[nodiscard]] Reference concat_forward_at(const ConcatGeometry& g, const std::vector<const float*>& inputs, i64 index);
[[nodiscard]] Reference concat_backward_at(const ConcatGeometry& g, const float* dy, std::size_t j, i64 index);
[[nodiscard]] Reference upsample_forward_at(const UpsampleGeometry& g, const float* x, i64 index);
[[nodiscard]] Reference upsample_backward_at(const UpsampleGeometry& g, const float* dy, i64 index);
[[nodiscard]] Reference layernorm_forward_at(const RowGeometry& g, const float* x, const float* gamma,
                                             const float* beta, i64 index);
[[nodiscard]] Reference layernorm_backward_at(const RowGeometry& g, const float* x, const float* dy, const float* gamma,
                                              i64 index);
// Inference batchnorm with running statistics: y = gamma (x - mean) / sqrt(var + eps) + beta.
[[nodiscard]] Reference batchnorm_inference_at(const NormGeometry& g, const float* x, const float* gamma,
                                               const float* beta, const float* mean, const float* var, i64 index);
// Training batchnorm's forward: normalized with the batch's own (biased) statistics.
[[nodiscard]] Reference batchnorm_training_at(const NormGeometry& g, const float* x, const float* gamma,
                                              const float* beta, i64 index);
// Training batchnorm's input gradient, with the batch's own (biased) statistics.
[[nodiscard]] Reference batchnorm_backward_at(const NormGeometry& g, const float* x, const float* dy,
                                              const float* gamma, i64 index);

}  // namespace edgeroof::dnn::detail
