// The GPU work no library call does: dtype conversions for uploads and checks, and the GELU and
// hardswish activations, which cuDNN's activation API has no mode for.
#include "layer_cuda.hpp"

#include <cuda_fp16.h>

namespace edgeroof::dnn::detail {
namespace {

constexpr int block = 256;

int grid_for(i64 count) {
  const i64 blocks = (count + block - 1) / block;
  return static_cast<int>(blocks < 65535 ? blocks : 65535);
}

__global__ void to_half_kernel(const float* from, __half* to, i64 count) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) to[i] = __float2half_rn(from[i]);
}

__global__ void from_half_kernel(const __half* from, float* to, i64 count) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) to[i] = __half2float(from[i]);
}

__device__ float load(const float* p, i64 i) { return p[i]; }
__device__ float load(const __half* p, i64 i) { return __half2float(p[i]); }
__device__ void store(float* p, i64 i, float v) { p[i] = v; }
__device__ void store(__half* p, i64 i, float v) { p[i] = __float2half_rn(v); }

constexpr float inv_sqrt2 = 0.70710678118654752440f;
constexpr float inv_sqrt_2pi = 0.39894228040143267794f;

template <bool Gelu, class T> __global__ void forward_kernel(const T* x, T* y, i64 count) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) {
    const float v = load(x, i);
    store(y, i, Gelu ? 0.5f * v * (1.0f + erff(v * inv_sqrt2)) : v * fminf(fmaxf(v + 3.0f, 0.0f), 6.0f) / 6.0f);
  }
}

template <bool Gelu, class T> __global__ void backward_kernel(const T* x, const T* dy, T* dx, i64 count) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) {
    const float v = load(x, i);
    const float d = Gelu ? 0.5f * (1.0f + erff(v * inv_sqrt2)) + v * inv_sqrt_2pi * expf(-0.5f * v * v)
                         : (v < -3.0f ? 0.0f : v > 3.0f ? 1.0f : (2.0f * v + 3.0f) / 6.0f);
    store(dx, i, load(dy, i) * d);
  }
}

template <class T> void launch_forward(Eltwise op, const void* x, void* y, i64 count, cudaStream_t stream) {
  if (op == Eltwise::gelu) {
    forward_kernel<true><<<grid_for(count), block, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), count);
  } else {
    forward_kernel<false><<<grid_for(count), block, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), count);
  }
}

template <class T> void launch_backward(Eltwise op, const void* x, const void* dy, void* dx, i64 count, cudaStream_t stream) {
  const auto* xs = static_cast<const T*>(x);
  const auto* dys = static_cast<const T*>(dy);
  auto* dxs = static_cast<T*>(dx);
  if (op == Eltwise::gelu) {
    backward_kernel<true><<<grid_for(count), block, 0, stream>>>(xs, dys, dxs, count);
  } else {
    backward_kernel<false><<<grid_for(count), block, 0, stream>>>(xs, dys, dxs, count);
  }
}

}  // namespace

void convert_to_half(const float* from, void* to, i64 count, cudaStream_t stream) {
  to_half_kernel<<<grid_for(count), block, 0, stream>>>(from, static_cast<__half*>(to), count);
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void convert_from_half(const void* from, float* to, i64 count, cudaStream_t stream) {
  from_half_kernel<<<grid_for(count), block, 0, stream>>>(static_cast<const __half*>(from), to, count);
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void eltwise_forward(Eltwise op, const void* x, void* y, i64 count, bool half, cudaStream_t stream) {
  if (op != Eltwise::gelu && op != Eltwise::hardswish) throw LayerKernelError("no custom CUDA kernel for this activation");
  if (half) {
    launch_forward<__half>(op, x, y, count, stream);
  } else {
    launch_forward<float>(op, x, y, count, stream);
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void eltwise_backward(Eltwise op, const void* x, const void* dy, void* dx, i64 count, bool half, cudaStream_t stream) {
  if (op != Eltwise::gelu && op != Eltwise::hardswish) throw LayerKernelError("no custom CUDA kernel for this activation");
  if (half) {
    launch_backward<__half>(op, x, dy, dx, count, stream);
  } else {
    launch_backward<float>(op, x, dy, dx, count, stream);
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

}  // namespace edgeroof::dnn::detail
