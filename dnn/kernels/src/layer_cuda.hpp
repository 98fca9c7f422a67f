// What the GPU layer kernels share: the cuBLAS and cuDNN checks, library handles bound to the
// kernel's stream, device tensors whose host copy holds exactly the values the device holds, and
// the few CUDA kernels no library call provides.
#pragma once

#include "edgeroof/dnn/layer_kernels_cuda.hpp"
#include "edgeroof/kernels/cublas_check.hpp"
#include "edgeroof/kernels/cuda.hpp"
#include "layer_problem.hpp"

#include <cublas_v2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace edgeroof::dnn::detail {

// One cuBLAS handle for every GEMM layer, bound to `stream` on each use.
[[nodiscard]] cublasHandle_t cublas_handle(cudaStream_t stream);

// A device tensor of fp32 or fp16 values. `host` holds the values as the device holds them (fp16
// inputs are rounded before the reference sees them), so checks compare like with like.
class DeviceTensor {
public:
  DeviceTensor() = default;
  // Allocates `count` values; uploads `values` (rounded to the dtype) when given.
  DeviceTensor(i64 count, bool half, const std::vector<float>& values, cudaStream_t stream);
  [[nodiscard]] void* data() const { return m_device.data(); }
  [[nodiscard]] i64 count() const { return m_count; }
  // Waits for the stream and copies the device values to host().
  const float* download(cudaStream_t stream);
  [[nodiscard]] const float* host() const { return m_host.data(); }

private:
  i64 m_count = 0;
  bool m_half = false;
  kernels::cuda::DeviceBuffer m_device;
  std::vector<float> m_host;
};

// Custom kernels (layer_cuda_kernels.cu). `half` selects __half data, else float.
void convert_to_half(const float* from, void* to, i64 count, cudaStream_t stream);
void convert_from_half(const void* from, float* to, i64 count, cudaStream_t stream);
// y = f(x) for GELU (erf form) and hardswish, and dx = dy * f'(x).
void eltwise_forward(Eltwise op, const void* x, void* y, i64 count, bool half, cudaStream_t stream);
void eltwise_backward(Eltwise op, const void* x, const void* dy, void* dx, i64 count, bool half, cudaStream_t stream);
// Nearest upsampling of n_c planes of h x w by `scale`: forward copies x into y; backward sums dy
// into dx (`from` is dy, `to` is dx).
void upsample_nearest(const void* from, void* to, i64 n_c, i64 h, i64 w, i64 scale, bool backward, bool half,
                      cudaStream_t stream);
// Layernorm over rows of `cols` values (one block per row): the forward stores each row's mean and
// 1/std when `mean` is not null; the backward computes dx from them.
void layernorm_forward(const void* x, const float* gamma, const float* beta, void* y, float* mean, float* inv_std,
                       i64 rows, i64 cols, double epsilon, bool half, cudaStream_t stream);
void layernorm_backward(const void* x, const void* dy, const float* gamma, const float* mean, const float* inv_std,
                        void* dx, i64 rows, i64 cols, bool half, cudaStream_t stream);

// Optimizer steps over `count` fp32 parameters (optimizer_cuda_kernels.cu), grid-stride like the
// others: SGD (w -= lr g), SGD with momentum (v = mu v + g; w -= lr v) and Adam with its bias
// corrections passed as 1 / (1 - beta^t).
void sgd_step(float* w, const float* g, i64 count, float lr, cudaStream_t stream);
void sgd_momentum_step(float* w, const float* g, float* v, i64 count, float lr, float momentum, cudaStream_t stream);
void adam_step(float* w, const float* g, float* m, float* v, i64 count, float lr, float beta1, float beta2,
               float epsilon, float inv_c1, float inv_c2, cudaStream_t stream);

// The common part of the GPU kernels: the stream, the dtype and checks by sampled references.
class CudaLayerKernel : public LayerKernel {
public:
  CudaLayerKernel(const LayerCost& l, Pass pass, cudaStream_t stream)
      : LayerKernel(l, pass), m_stream(stream), m_half(l.dtype == "fp16") {}
  // fp16 results carry a rounding of 2^-11 of the value; fp32 convolutions may run as TF32
  // (cuDNN's default math on Ampere and later), whose inputs carry 2^-11 each.
  [[nodiscard]] double tolerance() const override { return m_half ? 1e-2 : 4e-3; }

protected:
  DeviceTensor tensor(i64 count, const std::vector<float>& values = {}) {
    return DeviceTensor(count, m_half, values, m_stream);
  }
  DeviceTensor float_tensor(i64 count, const std::vector<float>& values = {}) {
    return DeviceTensor(count, false, values, m_stream);
  }
  template <class ReferenceAt>
  double sampled(DeviceTensor& out, ReferenceAt&& reference) {
    return sampled_error(out.download(m_stream), out.count(), reference);
  }
  cudaStream_t m_stream;
  bool m_half;
};

// cuDNN's kernels (layer_cudnn.cpp, or its stub that says how to enable cuDNN).
[[nodiscard]] std::unique_ptr<LayerKernel> make_cudnn_layer_kernel(const LayerCost& l, Pass pass, cudaStream_t stream);
[[nodiscard]] bool have_cudnn();

}  // namespace edgeroof::dnn::detail
