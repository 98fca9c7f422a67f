// GPU layer kernels through cuDNN's descriptor API: convolution (forward, backward data, backward
// filter, with the algorithm cudnnFind* measures fastest and its workspace), pooling, activations,
// softmax, batch normalization and elementwise add/mul.
#include "layer_cuda.hpp"

#include <cudnn.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace edgeroof::dnn {
namespace detail {
namespace {

void check_cudnn(cudnnStatus_t rc, const char* call, const char* file, int line) {
  if (rc != CUDNN_STATUS_SUCCESS)
    kernels::cuda::detail::throw_error("cuDNN", static_cast<int>(rc), cudnnGetErrorString(rc), call, file, line);
}
#define EDGEROOF_CUDNN_CHECK(call) check_cudnn((call), #call, __FILE__, __LINE__)

cudnnHandle_t cudnn_handle(cudaStream_t stream) {
  static cudnnHandle_t handle = [] {
    cudnnHandle_t h = nullptr;
    EDGEROOF_CUDNN_CHECK(cudnnCreate(&h));
    return h;
  }();
  EDGEROOF_CUDNN_CHECK(cudnnSetStream(handle, stream));
  return handle;
}

// Owners of cuDNN's descriptors.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc() { EDGEROOF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d)); }
  TensorDesc(i64 n, i64 c, i64 h, i64 w, cudnnDataType_t t) : TensorDesc() {
    EDGEROOF_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, t, int(n), int(c), int(h), int(w)));
  }
  ~TensorDesc() { (void)cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDesc(i64 k, i64 c, i64 r, i64 s, cudnnDataType_t t) {
    EDGEROOF_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d));
    EDGEROOF_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d, t, CUDNN_TENSOR_NCHW, int(k), int(c), int(r), int(s)));
  }
  ~FilterDesc() { (void)cudnnDestroyFilterDescriptor(d); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
};

struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  ConvDesc() { EDGEROOF_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d)); }
  ~ConvDesc() { (void)cudnnDestroyConvolutionDescriptor(d); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
};

cudnnDataType_t data_type(bool half) { return half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT; }

const float one = 1.0f, zero = 0.0f;

// The first of cudnnFind*'s results (fastest first) that succeeded.
template <class Perf>
const Perf& fastest(const Perf* results, int count, const char* what) {
  for (int i = 0; i < count; ++i) {
    if (results[i].status == CUDNN_STATUS_SUCCESS) return results[i];
  }
  throw LayerKernelError(std::string("cuDNN found no working ") + what + " algorithm for this layer");
}

// cuDNN's names of its convolution algorithms (the enums' order), for the benchmark label.
std::string algorithm_name(Pass pass, int algo) {
  static const char* const forward[] = {"implicit_gemm", "implicit_precomp_gemm", "gemm", "direct", "fft", "fft_tiling",
                                        "winograd",      "winograd_nonfused"};
  static const char* const data[] = {"algo_0", "algo_1", "fft", "fft_tiling", "winograd", "winograd_nonfused"};
  static const char* const filter[] = {"algo_0",    "algo_1", "fft", "algo_3", "winograd", "winograd_nonfused",
                                       "fft_tiling"};
  const auto pick = [algo](const char* const* names, int count) {
    return algo >= 0 && algo < count ? names[algo] : "unknown";
  };
  switch (pass) {
  case Pass::forward:
    return pick(forward, 8);
  case Pass::backward_data:
    return pick(data, 6);
  case Pass::backward_weights:
    return pick(filter, 7);
  }
  return "unknown";
}

// --- convolution -----------------------------------------------------------------------------

class Conv final : public CudaLayerKernel {
public:
  Conv(const LayerCost& l, Pass pass, cudaStream_t stream)
      : CudaLayerKernel(l, pass, stream),
        m_g(conv_geometry(l)),
        m_x(m_g.n, m_g.c, m_g.h, m_g.w, data_type(m_half)),
        m_y(m_g.n, m_g.k, m_g.p, m_g.q, data_type(m_half)),
        m_bias_desc(1, m_g.k, 1, 1, data_type(m_half)),
        m_w(m_g.k, m_g.c / m_g.groups, m_g.r, m_g.s, data_type(m_half)) {}

private:
  void do_prepare() override {
    const ConvGeometry& g = m_g;
    EDGEROOF_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(m_conv.d, int(g.pad_h), int(g.pad_w), int(g.stride_h),
                                                         int(g.stride_w), int(g.dil_h), int(g.dil_w),
                                                         CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    EDGEROOF_CUDNN_CHECK(cudnnSetConvolutionGroupCount(m_conv.d, int(g.groups)));
    // Tensor cores where the library sees fit: fp16 always may, fp32 may as TF32 (cuDNN's default).
    EDGEROOF_CUDNN_CHECK(cudnnSetConvolutionMathType(m_conv.d, m_half ? CUDNN_TENSOR_OP_MATH : CUDNN_DEFAULT_MATH));
    int dims[4] = {};
    EDGEROOF_CUDNN_CHECK(
        cudnnGetConvolution2dForwardOutputDim(m_conv.d, m_x.d, m_w.d, &dims[0], &dims[1], &dims[2], &dims[3]));
    if (dims[0] != g.n || dims[1] != g.k || dims[2] != g.p || dims[3] != g.q) {
      throw LayerKernelError("layer '" + layer().name + "': cuDNN computes another output shape");
    }
    const auto handle = cudnn_handle(m_stream);
    constexpr int max_algos = 16;
    int found = 0;
    switch (pass()) {
    case Pass::forward: {
      m_a = tensor(g.input_size(), fill(g.input_size(), 1));
      m_b = tensor(g.weight_size(), fill(g.weight_size(), 2));
      m_out = tensor(g.output_size());
      if (g.bias) m_bias = tensor(g.k, fill(g.k, 3));
      cudnnConvolutionFwdAlgoPerf_t perf[max_algos];
      EDGEROOF_CUDNN_CHECK(
          cudnnFindConvolutionForwardAlgorithm(handle, m_x.d, m_w.d, m_conv.d, m_y.d, max_algos, &found, perf));
      const auto& best = fastest(perf, found, "forward");
      m_fwd = best.algo;
      use(best.memory, "fwd", int(best.algo), best.mathType);
      break;
    }
    case Pass::backward_data: {
      m_a = tensor(g.output_size(), fill(g.output_size(), 4));
      m_b = tensor(g.weight_size(), fill(g.weight_size(), 2));
      m_out = tensor(g.input_size());
      cudnnConvolutionBwdDataAlgoPerf_t perf[max_algos];
      EDGEROOF_CUDNN_CHECK(
          cudnnFindConvolutionBackwardDataAlgorithm(handle, m_w.d, m_y.d, m_conv.d, m_x.d, max_algos, &found, perf));
      const auto& best = fastest(perf, found, "backward-data");
      m_bwd_data = best.algo;
      use(best.memory, "bwd_data", int(best.algo), best.mathType);
      break;
    }
    case Pass::backward_weights: {
      m_a = tensor(g.input_size(), fill(g.input_size(), 1));
      m_b = tensor(g.output_size(), fill(g.output_size(), 4));
      m_out = tensor(g.weight_size());
      if (g.bias) m_bias = tensor(g.k);
      cudnnConvolutionBwdFilterAlgoPerf_t perf[max_algos];
      EDGEROOF_CUDNN_CHECK(
          cudnnFindConvolutionBackwardFilterAlgorithm(handle, m_x.d, m_y.d, m_conv.d, m_w.d, max_algos, &found, perf));
      const auto& best = fastest(perf, found, "backward-filter");
      m_bwd_filter = best.algo;
      use(best.memory, "bwd_filter", int(best.algo), best.mathType);
      break;
    }
    }
    do_run();
  }
  void use(std::size_t workspace_bytes, const char* pass_name, int algo, cudnnMathType_t math) {
    if (workspace_bytes > 0) m_workspace = kernels::cuda::DeviceBuffer(workspace_bytes);
    set_algorithm(std::string("cudnn:") + pass_name + ":" + algorithm_name(pass(), algo) +
                  (math == CUDNN_DEFAULT_MATH ? "" : ":tensor_op") + ":ws" + std::to_string(workspace_bytes));
  }
  void do_run() override {
    const auto handle = cudnn_handle(m_stream);
    switch (pass()) {
    case Pass::forward:
      EDGEROOF_CUDNN_CHECK(cudnnConvolutionForward(handle, &one, m_x.d, m_a.data(), m_w.d, m_b.data(), m_conv.d, m_fwd,
                                                   m_workspace.data(), m_workspace.bytes(), &zero, m_y.d,
                                                   m_out.data()));
      if (m_g.bias)
        EDGEROOF_CUDNN_CHECK(cudnnAddTensor(handle, &one, m_bias_desc.d, m_bias.data(), &one, m_y.d, m_out.data()));
      break;
    case Pass::backward_data:
      EDGEROOF_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, &one, m_w.d, m_b.data(), m_y.d, m_a.data(), m_conv.d,
                                                        m_bwd_data, m_workspace.data(), m_workspace.bytes(), &zero,
                                                        m_x.d, m_out.data()));
      break;
    case Pass::backward_weights:
      EDGEROOF_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, &one, m_x.d, m_a.data(), m_y.d, m_b.data(), m_conv.d,
                                                          m_bwd_filter, m_workspace.data(), m_workspace.bytes(), &zero,
                                                          m_w.d, m_out.data()));
      if (m_g.bias)
        EDGEROOF_CUDNN_CHECK(
            cudnnConvolutionBackwardBias(handle, &one, m_y.d, m_b.data(), &zero, m_bias_desc.d, m_bias.data()));
      break;
    }
  }
  double do_max_relative_error() override {
    const float* a = m_a.host();
    const float* b = m_b.host();
    switch (pass()) {
    case Pass::forward:
      return sampled(m_out, [&](i64 i) { return conv_forward_at(m_g, a, b, m_g.bias ? m_bias.host() : nullptr, i); });
    case Pass::backward_data:
      return sampled(m_out, [&](i64 i) { return conv_backward_data_at(m_g, a, b, i); });
    case Pass::backward_weights:
      return sampled(m_out, [&](i64 i) { return conv_backward_weights_at(m_g, a, b, i); });
    }
    return 0.0;
  }
  ConvGeometry m_g;
  TensorDesc m_x, m_y, m_bias_desc;
  FilterDesc m_w;
  ConvDesc m_conv;
  cudnnConvolutionFwdAlgo_t m_fwd{};
  cudnnConvolutionBwdDataAlgo_t m_bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t m_bwd_filter{};
  kernels::cuda::DeviceBuffer m_workspace;
  DeviceTensor m_a, m_b, m_out, m_bias;
};

// --- ops whose backward takes the forward's output: pooling, activations, softmax --------------

// prepare() runs the forward once, so that a backward has its y; a run is one forward or one
// backward call.
class ForwardBackward : public CudaLayerKernel {
protected:
  using CudaLayerKernel::CudaLayerKernel;
  virtual void forward(cudnnHandle_t handle) = 0;
  virtual void backward(cudnnHandle_t handle) = 0;
  // x holds `x_values`; y has `y_count` values; a backward also gets dy (from `dy_seed`) and dx.
  void prepare_pass(const std::vector<float>& x_values, i64 y_count, std::uint32_t dy_seed, std::string algorithm) {
    const auto x_count = static_cast<i64>(x_values.size());
    m_x = tensor(x_count, x_values);
    m_y = tensor(y_count);
    forward(cudnn_handle(m_stream));
    if (pass() == Pass::backward_data) {
      (void)m_y.download(m_stream);  // the backward is checked against the y it was given
      m_dy = tensor(y_count, fill(y_count, dy_seed));
      m_dx = tensor(x_count);
    }
    set_algorithm(std::move(algorithm));
    do_run();
  }
  void do_run() override {
    if (pass() == Pass::forward) {
      forward(cudnn_handle(m_stream));
    } else {
      backward(cudnn_handle(m_stream));
    }
  }
  DeviceTensor m_x, m_y, m_dy, m_dx;
};

class Pool final : public ForwardBackward {
public:
  Pool(const LayerCost& l, Pass pass, cudaStream_t stream)
      : ForwardBackward(l, pass, stream),
        m_g(pool_geometry(l)),
        m_x_desc(m_g.n, m_g.c, m_g.h, m_g.w, data_type(m_half)),
        m_y_desc(m_g.n, m_g.c, m_g.p, m_g.q, data_type(m_half)) {
    EDGEROOF_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&m_pool));
  }
  ~Pool() override { (void)cudnnDestroyPoolingDescriptor(m_pool); }
  [[nodiscard]] double tolerance() const override { return m_half ? 2e-3 : 1e-5; }

private:
  void do_prepare() override {
    const PoolGeometry& g = m_g;
    EDGEROOF_CUDNN_CHECK(cudnnSetPooling2dDescriptor(
        m_pool, g.max ? CUDNN_POOLING_MAX : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, CUDNN_NOT_PROPAGATE_NAN,
        int(g.kernel_h), int(g.kernel_w), int(g.pad_h), int(g.pad_w), int(g.stride_h), int(g.stride_w)));
    prepare_pass(fill(g.input_size(), 7), g.output_size(), 8,
                 std::string("cudnn:pooling_") + (g.max ? "max" : "avg_include_pad"));
  }
  void forward(cudnnHandle_t handle) override {
    EDGEROOF_CUDNN_CHECK(
        cudnnPoolingForward(handle, m_pool, &one, m_x_desc.d, m_x.data(), &zero, m_y_desc.d, m_y.data()));
  }
  void backward(cudnnHandle_t handle) override {
    EDGEROOF_CUDNN_CHECK(cudnnPoolingBackward(handle, m_pool, &one, m_y_desc.d, m_y.data(), m_y_desc.d, m_dy.data(),
                                              m_x_desc.d, m_x.data(), &zero, m_x_desc.d, m_dx.data()));
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) return sampled(m_y, [&](i64 i) { return pool_forward_at(m_g, m_x.host(), i); });
    return sampled(m_dx, [&](i64 i) { return pool_backward_at(m_g, m_x.host(), m_dy.host(), i); });
  }
  PoolGeometry m_g;
  TensorDesc m_x_desc, m_y_desc;
  cudnnPoolingDescriptor_t m_pool = nullptr;
};

// ReLU, SiLU (swish with beta 1), sigmoid.
class Activation final : public ForwardBackward {
public:
  Activation(const LayerCost& l, Pass pass, cudaStream_t stream)
      : ForwardBackward(l, pass, stream), m_op(eltwise_of(l)) {
    for (auto d : l.inputs[0]) m_size *= d;
    EDGEROOF_CUDNN_CHECK(cudnnCreateActivationDescriptor(&m_act));
  }
  ~Activation() override { (void)cudnnDestroyActivationDescriptor(m_act); }
  [[nodiscard]] double tolerance() const override { return m_half ? 2e-3 : 1e-5; }

private:
  void do_prepare() override {
    const cudnnActivationMode_t mode = m_op == Eltwise::relu   ? CUDNN_ACTIVATION_RELU
                                       : m_op == Eltwise::silu ? CUDNN_ACTIVATION_SWISH
                                                               : CUDNN_ACTIVATION_SIGMOID;
    EDGEROOF_CUDNN_CHECK(cudnnSetActivationDescriptor(m_act, mode, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    if (m_op == Eltwise::silu) EDGEROOF_CUDNN_CHECK(cudnnSetActivationDescriptorSwishBeta(m_act, 1.0));
    EDGEROOF_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(m_desc.d, CUDNN_TENSOR_NCHW, data_type(m_half), 1, int(m_size), 1, 1));
    prepare_pass(fill(m_size, 9, -4.0f, 4.0f), m_size, 10, "cudnn:activation");
  }
  void forward(cudnnHandle_t handle) override {
    EDGEROOF_CUDNN_CHECK(
        cudnnActivationForward(handle, m_act, &one, m_desc.d, m_x.data(), &zero, m_desc.d, m_y.data()));
  }
  void backward(cudnnHandle_t handle) override {
    EDGEROOF_CUDNN_CHECK(cudnnActivationBackward(handle, m_act, &one, m_desc.d, m_y.data(), m_desc.d, m_dy.data(),
                                                 m_desc.d, m_x.data(), &zero, m_desc.d, m_dx.data()));
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) return sampled(m_y, [&](i64 i) { return eltwise_forward_at(m_op, m_x.host()[i]); });
    return sampled(m_dx, [&](i64 i) { return eltwise_backward_at(m_op, m_x.host()[i], m_dy.host()[i]); });
  }
  Eltwise m_op;
  i64 m_size = 1;
  cudnnActivationDescriptor_t m_act = nullptr;
  TensorDesc m_desc;
};

// Softmax over the last axis: cuDNN's per-instance softmax over C of [rows, cols, 1, 1].
class Softmax final : public ForwardBackward {
public:
  Softmax(const LayerCost& l, Pass pass, cudaStream_t stream)
      : ForwardBackward(l, pass, stream),
        m_g(softmax_geometry(l)),
        m_desc(m_g.rows, m_g.cols, 1, 1, data_type(m_half)) {}
  [[nodiscard]] double tolerance() const override { return m_half ? 2e-3 : 1e-5; }

private:
  void do_prepare() override {
    const i64 n = m_g.rows * m_g.cols;
    prepare_pass(fill(n, 11, -4.0f, 4.0f), n, 12, "cudnn:softmax_accurate");
  }
  void forward(cudnnHandle_t handle) override {
    EDGEROOF_CUDNN_CHECK(cudnnSoftmaxForward(handle, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &one,
                                             m_desc.d, m_x.data(), &zero, m_desc.d, m_y.data()));
  }
  void backward(cudnnHandle_t handle) override {
    EDGEROOF_CUDNN_CHECK(cudnnSoftmaxBackward(handle, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &one,
                                              m_desc.d, m_y.data(), m_desc.d, m_dy.data(), &zero, m_desc.d,
                                              m_dx.data()));
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) return sampled(m_y, [&](i64 i) { return softmax_forward_at(m_g, m_x.host(), i); });
    return sampled(m_dx, [&](i64 i) { return softmax_backward_at(m_g, m_y.host(), m_dy.host(), i); });
  }
  RowGeometry m_g;
  TensorDesc m_desc;
};

// --- batch normalization (spatial): inference with running statistics; training backward -----

class Batchnorm final : public CudaLayerKernel {
public:
  Batchnorm(const LayerCost& l, Pass pass, cudaStream_t stream)
      : CudaLayerKernel(l, pass, stream),
        m_g(norm_geometry(l)),
        m_x_desc(m_g.n, m_g.c, m_g.spatial, 1, data_type(m_half)) {
    EDGEROOF_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(m_param_desc.d, m_x_desc.d, CUDNN_BATCHNORM_SPATIAL));
  }

private:
  void do_prepare() override {
    const i64 n = m_g.size(), c = m_g.c;
    m_x = tensor(n, fill(n, 13));
    m_gamma = float_tensor(c, fill(c, 14, 0.5f, 1.5f));
    m_beta = float_tensor(c, fill(c, 15));
    m_mean = float_tensor(c, fill(c, 16, -0.5f, 0.5f));
    m_var = float_tensor(c, fill(c, 17, 0.5f, 1.5f));
    m_out = tensor(n);
    if (pass() == Pass::backward_data) {
      // The training forward saves the batch's mean and inverse deviation for the backward.
      m_saved_mean = float_tensor(c);
      m_saved_inv_std = float_tensor(c);
      DeviceTensor y = tensor(n);
      EDGEROOF_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
          cudnn_handle(m_stream), CUDNN_BATCHNORM_SPATIAL, &one, &zero, m_x_desc.d, m_x.data(), m_x_desc.d, y.data(),
          m_param_desc.d, m_gamma.data(), m_beta.data(), 0.1, m_mean.data(), m_var.data(), m_g.epsilon,
          m_saved_mean.data(), m_saved_inv_std.data()));
      EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(m_stream));
      m_dy = tensor(n, fill(n, 18));
      m_dgamma = float_tensor(c);
      m_dbeta = float_tensor(c);
    }
    if (training_forward(layer(), pass())) {
      m_saved_mean = float_tensor(c);
      m_saved_inv_std = float_tensor(c);
    }
    set_algorithm(std::string("cudnn:batchnorm_spatial_") + (pass() != Pass::forward             ? "backward"
                                                             : training_forward(layer(), pass()) ? "training"
                                                                                                 : "inference"));
    do_run();
  }
  void do_run() override {
    const auto handle = cudnn_handle(m_stream);
    if (pass() == Pass::forward) {
      if (training_forward(layer(), pass())) {
        EDGEROOF_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
            handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, m_x_desc.d, m_x.data(), m_x_desc.d, m_out.data(),
            m_param_desc.d, m_gamma.data(), m_beta.data(), 0.1, m_mean.data(), m_var.data(), m_g.epsilon,
            m_saved_mean.data(), m_saved_inv_std.data()));
        return;
      }
      EDGEROOF_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
          handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, m_x_desc.d, m_x.data(), m_x_desc.d, m_out.data(),
          m_param_desc.d, m_gamma.data(), m_beta.data(), m_mean.data(), m_var.data(), m_g.epsilon));
      return;
    }
    EDGEROOF_CUDNN_CHECK(cudnnBatchNormalizationBackward(
        handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, m_x_desc.d, m_x.data(), m_x_desc.d, m_dy.data(),
        m_x_desc.d, m_out.data(), m_param_desc.d, m_gamma.data(), m_dgamma.data(), m_dbeta.data(), m_g.epsilon,
        m_saved_mean.data(), m_saved_inv_std.data()));
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) {
      if (training_forward(layer(), pass())) {
        return sampled(m_out,
                       [&](i64 i) { return batchnorm_training_at(m_g, m_x.host(), m_gamma.host(), m_beta.host(), i); });
      }
      return sampled(m_out, [&](i64 i) {
        return batchnorm_inference_at(m_g, m_x.host(), m_gamma.host(), m_beta.host(), m_mean.host(), m_var.host(), i);
      });
    }
    return sampled(m_out,
                   [&](i64 i) { return batchnorm_backward_at(m_g, m_x.host(), m_dy.host(), m_gamma.host(), i); });
  }
  NormGeometry m_g;
  TensorDesc m_x_desc, m_param_desc;
  DeviceTensor m_x, m_gamma, m_beta, m_mean, m_var, m_out, m_saved_mean, m_saved_inv_std, m_dy, m_dgamma, m_dbeta;
};

// --- elementwise add / mul -------------------------------------------------------------------

class Binary final : public CudaLayerKernel {
public:
  Binary(const LayerCost& l, Pass pass, cudaStream_t stream)
      : CudaLayerKernel(l, pass, stream), m_g(binary_geometry(l)) {
    EDGEROOF_CUDNN_CHECK(cudnnCreateOpTensorDescriptor(&m_op));
  }
  ~Binary() override { (void)cudnnDestroyOpTensorDescriptor(m_op); }
  [[nodiscard]] double tolerance() const override { return m_half ? 1e-3 : 1e-6; }

private:
  // A packed row-major descriptor of `shape`, padded with trailing 1s to cuDNN's minimum of 4 dims.
  void describe(TensorDesc& desc, Shape shape) {
    while (shape.size() < 4) shape.push_back(1);
    std::vector<int> dims(shape.begin(), shape.end()), strides(shape.size(), 1);
    for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
    EDGEROOF_CUDNN_CHECK(
        cudnnSetTensorNdDescriptor(desc.d, data_type(m_half), int(dims.size()), dims.data(), strides.data()));
  }
  void do_prepare() override {
    EDGEROOF_CUDNN_CHECK(cudnnSetOpTensorDescriptor(m_op, m_g.mul ? CUDNN_OP_TENSOR_MUL : CUDNN_OP_TENSOR_ADD,
                                                    CUDNN_DATA_FLOAT, CUDNN_NOT_PROPAGATE_NAN));
    describe(m_a_desc, m_g.a);
    describe(m_b_desc, m_g.b);
    m_a = tensor(m_g.size(), fill(m_g.size(), 19));
    m_b = tensor(m_g.b_size(), fill(m_g.b_size(), 20));
    m_c = tensor(m_g.size());
    set_algorithm(std::string("cudnn:op_tensor_") + (m_g.mul ? "mul" : "add"));
    do_run();
  }
  void do_run() override {
    EDGEROOF_CUDNN_CHECK(cudnnOpTensor(cudnn_handle(m_stream), m_op, &one, m_a_desc.d, m_a.data(), &one, m_b_desc.d,
                                       m_b.data(), &zero, m_a_desc.d, m_c.data()));
  }
  double do_max_relative_error() override {
    return sampled(m_c, [&](i64 i) { return binary_at(m_g, m_a.host(), m_b.host(), i); });
  }
  BinaryGeometry m_g;
  TensorDesc m_a_desc, m_b_desc;
  cudnnOpTensorDescriptor_t m_op = nullptr;
  DeviceTensor m_a, m_b, m_c;
};

}  // namespace

bool have_cudnn() { return true; }

std::unique_ptr<LayerKernel> make_cudnn_layer_kernel(const LayerCost& l, Pass pass, cudaStream_t stream) {
  if (l.op == "conv2d") return std::make_unique<Conv>(l, pass, stream);
  if (l.op == "maxpool" || l.op == "avgpool") return std::make_unique<Pool>(l, pass, stream);
  if (l.op == "relu" || l.op == "silu" || l.op == "sigmoid") return std::make_unique<Activation>(l, pass, stream);
  if (l.op == "softmax") return std::make_unique<Softmax>(l, pass, stream);
  if (l.op == "batchnorm") return std::make_unique<Batchnorm>(l, pass, stream);
  if (l.op == "add" || l.op == "mul") return std::make_unique<Binary>(l, pass, stream);
  throw LayerKernelError("no cuDNN kernel for layer '" + l.name + "' (" + l.op + ")");
}

}  // namespace detail

std::optional<std::string> cudnn_version() {
  const std::size_t v = cudnnGetVersion();  // 9.x: major*10000 + minor*100 + patch
  if (v >= 90000)
    return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
  return std::to_string(v / 1000) + "." + std::to_string((v / 100) % 10) + "." + std::to_string(v % 100);
}

}  // namespace edgeroof::dnn
