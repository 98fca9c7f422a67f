// Typed layer parameters: what a layer's shapes do not say. One struct per kind of op, held by
// every LayerCost of the layer (all its phases), read by the FLOP/byte counting of ops.cpp and by
// the layer kernels of dnn/kernels alike, so a default lives in one place: the struct below.
// The workload table writes them as its "attrs" (README.md, Contracts: workload tables).
#pragma once

#include <array>
#include <cstdint>
#include <variant>

namespace edgeroof::dnn {

// A window dimension pair: [height, width].
using Pair = std::array<std::int64_t, 2>;

// conv2d over NCHW with KCRS weights (C per group). attrs: kernel, stride, padding, dilation,
// groups, bias (out_channels is the output's channel count, not written).
struct Conv2dParams {
  std::int64_t out_channels = 0;
  Pair kernel{1, 1};
  Pair stride{1, 1};
  Pair padding{0, 0};
  Pair dilation{1, 1};
  std::int64_t groups = 1;  // in_channels for depthwise
  bool bias = false;
};

// maxpool and avgpool (a global pool's window is the whole input). attrs: kernel, stride, padding.
struct PoolParams {
  Pair kernel{1, 1};
  Pair stride{1, 1};
  Pair padding{0, 0};
};

// linear: y = x W^T (+ b). attrs: bias.
struct LinearParams {
  bool bias = false;
};

// Scaled dot-product attention, fused. attrs: heads, kv_heads, causal.
struct AttentionParams {
  std::int64_t heads = 1;
  std::int64_t kv_heads = 1;  // grouped queries when fewer than heads
  bool causal = false;
};

// batchnorm, layernorm and rmsnorm. Not in attrs: every layer of the zoo and of an ONNX file
// normalizes with this epsilon.
struct NormParams {
  double epsilon = 1e-5;
};

// concat along a non-negative axis. attrs: axis.
struct ConcatParams {
  std::int64_t axis = 0;
};

// Nearest upsampling of NCHW by an integer factor in both dimensions. attrs: scale [s, s].
struct UpsampleParams {
  std::int64_t scale = 1;
};

// One LSTM layer. attrs: hidden.
struct LstmParams {
  std::int64_t hidden = 0;
};

// monostate: an op whose shapes say everything (activations, softmax, add, matmul, optimizers...).
using LayerParams = std::variant<std::monostate, Conv2dParams, PoolParams, LinearParams, AttentionParams, NormParams,
                                 ConcatParams, UpsampleParams, LstmParams>;

// The step a layer belongs to. A training step's forward may compute differently from inference
// (batchnorm with the batch's statistics, layernorm keeping its row statistics), so a kernel of a
// forward layer needs to know which it is.
enum class Step { inference, training };

}  // namespace edgeroof::dnn
