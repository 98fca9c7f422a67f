// Layer ops with analytic FLOPs and DRAM bytes for every phase of inference and training. The zoo
// and the ONNX importer build models through one Builder, so every count has one formula.
//
// Counting conventions (also in the README):
//  * 1 multiply-add = 2 FLOP. GEMM-like ops (conv2d, linear, matmul, bmm, attention, lstm) count
//    2 FLOP per multiply-add; the alpha/beta scaling of a GEMM and the 1/sqrt(d) of attention
//    (folded into the GEMM's alpha) are not counted, as usual for GEMM.
//  * Every other arithmetic or comparison step on one element is 1 FLOP, and so is a
//    transcendental (exp, erf, tanh, sqrt): it is one instruction of the special-function unit or
//    one library call per element, and counting its polynomial would make counts
//    implementation-specific. The per-element counts of each op are in kElementwise (ops.cpp)
//    with their derivations; per-channel scalar work (O(C), e.g. batchnorm's 1/sqrt(var+eps))
//    is not counted, being below 1/(N*H*W) of the op.
//  * int8: "FLOP" means integer operations (the multiply-add of int8 x int8 -> int32 counts 2).
//    int8 is inference-only (training with int8 tensors throws ModelError).
//  * bytes = DRAM traffic of the layer's inputs, weights and outputs at the dtype's size, each
//    tensor counted once per layer and phase, with no reuse between layers. Token ids are int64.
//  * Reshapes, permutes, splits and views are free (no layer): the kernels that follow read
//    strided layouts.
//
// Phases of a training step (WorkloadOptions::train non-empty): every layer's "forward" (training
// variant, e.g. batchnorm with batch statistics), then in reverse order its "backward_data"
// (gradient of the inputs; omitted when no input needs one, e.g. the first conv of a CNN) and
// "backward_weights" (gradient of the parameters, bias gradient included), then one "optimizer"
// layer per parameterised layer. Every phase of a layer carries the FORWARD shapes (inputs = x,
// weights...; outputs = y) and the forward parameters (layer_params.hpp), so a kernel for that phase can be built from
// it; its name is the forward name plus a suffix: "/bwd_data", "/bwd_filter" (conv2d),
// "/bwd_weights" (others), "/bwd_a", "/bwd_b" (the two operand gradients of matmul and bmm),
// "/update" (optimizer).
//  * conv2d / linear: backward-data and backward-weights are each one GEMM-like pass with the
//    same multiply-add count as forward: every forward product x*w appears once in dx (as dy*w)
//    and once in dw (as dy*x). Bias gradient: one add per output element.
//  * Optimizers, per parameter, state and weights in the workload's dtype (no fp32 master copy):
//      sgd           w -= lr*g                                   2 FLOP, read w g,     write w
//      sgd_momentum  v = mu*v + g; w -= lr*v                     4 FLOP, read w g v,   write w v
//      adam          m = b1*m + (1-b1)*g (3); v = b2*v + (1-b2)*g*g (4);
//                    mh = m/(1-b1^t) (1); vh = v/(1-b2^t) (1); w -= lr*mh/(sqrt(vh)+eps) (5)
//                                                                14 FLOP, read w g m v, write w m v
#pragma once

#include "edgeroof/dnn/workload.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace edgeroof::dnn {

// Bytes of one element of "fp32", "fp16", "bf16" or "int8"; throws ModelError for anything else.
[[nodiscard]] std::int64_t dtype_size(const std::string& dtype);
[[nodiscard]] double element_count(const Shape& shape);
// "1x3x224x224"
[[nodiscard]] std::string shape_text(const Shape& shape);

// FLOP and multiply-add counts, and bytes per element, of one optimizer step (see above).
struct OptimizerCost {
  double flops_per_param;
  double tensors_read;     // w, g and the optimizer's state
  double tensors_written;  // w and the state
};
// Throws ModelError naming the choices for an unknown optimizer.
[[nodiscard]] OptimizerCost optimizer_cost(const std::string& optimizer);

// A tensor as the builder sees it: its shape and whether a gradient flows back into it (false
// for model inputs and token ids, so the first layer gets no backward-data pass).
struct Tensor {
  Shape shape;
  bool needs_grad = true;
  // 1 + the index of the forward layer that wrote it (0: a model input, parameter or unknown),
  // for the L2 reuse option.
  std::size_t producer = 0;
};

// Conv2dParams, PoolParams and the other typed parameters: layer_params.hpp.

// Adds layers to a workload, one op at a time, with the counts of every phase the options ask
// for. Shapes are checked: a mismatch throws ModelError naming the layer.
class Builder {
public:
  Builder(std::string model, const WorkloadOptions& options);

  // A model input: no gradient flows into it.
  [[nodiscard]] Tensor input(Shape shape) const;
  // A learned tensor used directly (ViT's class token and position embedding): no layer of its
  // own, but an optimizer update in training.
  Tensor parameter(const std::string& name, Shape shape);
  // The same elements seen with another shape (reshape, permute, split): free, no layer.
  [[nodiscard]] Tensor view(const Tensor& x, Shape shape) const;

  Tensor conv2d(const std::string& name, const Tensor& x, const Conv2dParams& p);  // NCHW
  // x [..., in], weight [out, in]. A weight shared with another layer (GPT-2's lm_head and its
  // token embedding) is updated once, by its owner: shared_weight = true skips the update here.
  Tensor linear(const std::string& name, const Tensor& x, std::int64_t out_features, bool bias,
                bool shared_weight = false);
  Tensor matmul(const std::string& name, const Tensor& a, const Tensor& b);  // [M, K] x [K, N]
  Tensor bmm(const std::string& name, const Tensor& a, const Tensor& b);     // [B, M, K] x [B, K, N]
  // Scaled dot-product attention: q [N, h, Lq, d], k and v [N, hk, Lk, d] (hk divides h: grouped
  // queries). Fused (the default, WorkloadOptions::fused_attention) is one "attention" layer whose
  // score matrix never reaches DRAM and which, when causal, computes only the unmasked
  // query-key pairs (query i sits at position Lk - Lq + i, so a one-token decode sees the whole
  // cache); unfused is bmm "<name>.scores", softmax "<name>.softmax", bmm "<name>.context"
  // over the full Lq x Lk matrix (the mask is applied inside the softmax).
  Tensor attention(const std::string& name, const Tensor& q, const Tensor& k, const Tensor& v, bool causal);
  Tensor batchnorm(const std::string& name, const Tensor& x);  // per channel of NCHW
  Tensor layernorm(const std::string& name, const Tensor& x);  // over the last dim, with gamma and beta
  Tensor rmsnorm(const std::string& name, const Tensor& x);    // over the last dim, with gamma (Llama)
  Tensor softmax(const std::string& name, const Tensor& x);    // over the last dim
  // Rotary position embedding of q or k [N, h, L, d]: each pair of elements rotated by the
  // position's angle, with cos and sin tables of [L, d/2] each.
  Tensor rope(const std::string& name, const Tensor& x);
  Tensor maxpool(const std::string& name, const Tensor& x, const PoolParams& p);
  Tensor avgpool(const std::string& name, const Tensor& x, const PoolParams& p);  // padding not counted
  Tensor global_avgpool(const std::string& name, const Tensor& x);                // -> [N, C, 1, 1]
  // relu, gelu, silu, hardswish, hardsigmoid, sigmoid, tanh; and sqrt, erf, exp, neg, reciprocal,
  // clip, leaky_relu (decomposed layers of ONNX files).
  Tensor activation(const std::string& name, const std::string& op, const Tensor& x);
  Tensor add(const std::string& name, const Tensor& a, const Tensor& b);  // b may broadcast
  Tensor mul(const std::string& name, const Tensor& a, const Tensor& b);  // b may broadcast
  // sub, mul, div, pow (b may broadcast), as met in decomposed layers of ONNX files.
  Tensor binary(const std::string& name, const std::string& op, const Tensor& a, const Tensor& b);
  // reduce_sum or reduce_mean of x down to y (the reduced dims kept as 1 or dropped).
  Tensor reduce(const std::string& name, const std::string& op, const Tensor& x, Shape y);
  Tensor concat(const std::string& name, const std::vector<Tensor>& xs, std::int64_t axis);
  Tensor upsample(const std::string& name, const Tensor& x, std::int64_t scale);  // nearest, NCHW
  Tensor embedding(const std::string& name, const Tensor& ids, std::int64_t vocab, std::int64_t dim);
  // One LSTM layer (two bias vectors, as cuDNN and PyTorch): x [T, N, I] -> [T, N, H].
  Tensor lstm(const std::string& name, const Tensor& x, std::int64_t hidden);

  // An op that cannot be counted: named in Workload::unsupported, never counted as zero.
  void unsupported(const std::string& op);

  [[nodiscard]] bool training() const { return !m_options.train.empty(); }
  [[nodiscard]] const WorkloadOptions& options() const { return m_options; }

  // The workload: forward layers, then (training) backward layers in reverse, then updates.
  [[nodiscard]] Workload finish() const;

private:
  struct Phase {
    std::string suffix;
    std::string phase;
    double flops;
    double bytes;  // already in bytes
  };
  // Adds the forward layer and the backward phases of one op.
  // `primary` is the activation input the L2 option may find in L2 (WorkloadOptions::l2_bytes).
  void emit(const Tensor& primary, const std::string& name, const std::string& op, const std::vector<Shape>& inputs,
            const Shape& output, bool tensor_op, double forward_flops, double forward_bytes,
            const std::vector<Phase>& backward, const LayerParams& params = {});
  // The optimizer update of one layer's parameters (training only).
  void update(const std::string& name, const std::vector<Shape>& params);
  Tensor gemm(const std::string& name, const std::string& op, const Tensor& a, const Tensor& b, const Shape& y,
              double k);
  Tensor elementwise(const std::string& name, const std::string& op, const Tensor& x);
  Tensor broadcast_binary(const std::string& name, const std::string& op, const Tensor& a, const Tensor& b);
  Tensor pool(const std::string& name, const std::string& op, const Tensor& x, const PoolParams& p);
  // The DRAM read of x the L2 option saves: x was written by the layer just before and fits.
  [[nodiscard]] double l2_read(const Tensor& x) const;
  // An op's output, written by the forward layer just emitted.
  [[nodiscard]] Tensor produced(Shape shape, bool needs_grad) const;
  [[nodiscard]] double bytes_of(double elements) const { return elements * static_cast<double>(m_dsize); }

  WorkloadOptions m_options;
  std::int64_t m_dsize;
  Workload m_forward;
  std::vector<LayerCost> m_backward;
  std::vector<LayerCost> m_updates;
};

}  // namespace edgeroof::dnn
