// The GPU work no library call does: dtype conversions for uploads and checks, and the GELU and
// hardswish activations, which cuDNN's activation API has no mode for, and layernorm (cuDNN 9 has
// it only in its graph API).
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
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x)
    to[i] = __float2half_rn(from[i]);
}

__global__ void from_half_kernel(const __half* from, float* to, i64 count) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x)
    to[i] = __half2float(from[i]);
}

__device__ float load(const float* p, i64 i) { return p[i]; }
__device__ float load(const __half* p, i64 i) { return __half2float(p[i]); }
__device__ void store(float* p, i64 i, float v) { p[i] = v; }
__device__ void store(__half* p, i64 i, float v) { p[i] = __float2half_rn(v); }

constexpr float inv_sqrt2 = 0.70710678118654752440f;
constexpr float inv_sqrt_2pi = 0.39894228040143267794f;

template <bool Gelu, class T>
__global__ void forward_kernel(const T* x, T* y, i64 count) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) {
    const float v = load(x, i);
    store(y, i, Gelu ? 0.5f * v * (1.0f + erff(v * inv_sqrt2)) : v * fminf(fmaxf(v + 3.0f, 0.0f), 6.0f) / 6.0f);
  }
}

template <bool Gelu, class T>
__global__ void backward_kernel(const T* x, const T* dy, T* dx, i64 count) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) {
    const float v = load(x, i);
    const float d = Gelu ? 0.5f * (1.0f + erff(v * inv_sqrt2)) + v * inv_sqrt_2pi * expf(-0.5f * v * v)
                         : (v < -3.0f  ? 0.0f
                            : v > 3.0f ? 1.0f
                                       : (2.0f * v + 3.0f) / 6.0f);
    store(dx, i, load(dy, i) * d);
  }
}

// Sum over the block; every thread gets the result. `scratch` holds blockDim.x floats.
__device__ float block_sum(float v, float* scratch) {
  scratch[threadIdx.x] = v;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) scratch[threadIdx.x] += scratch[threadIdx.x + half];
    __syncthreads();
  }
  const float total = scratch[0];
  __syncthreads();
  return total;
}

// One block per row. Also stores each row's mean and 1/std when asked (training forward).
template <class T>
__global__ void layernorm_forward_kernel(const T* x, const float* gamma, const float* beta, T* y, float* mean_out,
                                         float* inv_std_out, i64 cols, float eps) {
  __shared__ float scratch[block];
  const i64 base = blockIdx.x * cols;
  float sum = 0.0f;
  for (i64 j = threadIdx.x; j < cols; j += blockDim.x) sum += load(x, base + j);
  const float mean = block_sum(sum, scratch) / float(cols);
  float squares = 0.0f;
  for (i64 j = threadIdx.x; j < cols; j += blockDim.x)
    squares += (load(x, base + j) - mean) * (load(x, base + j) - mean);
  const float inv_std = rsqrtf(block_sum(squares, scratch) / float(cols) + eps);
  for (i64 j = threadIdx.x; j < cols; j += blockDim.x)
    store(y, base + j, gamma[j] * (load(x, base + j) - mean) * inv_std + beta[j]);
  if (threadIdx.x == 0 && mean_out != nullptr) {
    mean_out[blockIdx.x] = mean;
    inv_std_out[blockIdx.x] = inv_std;
  }
}

// dx = inv_std (g - mean(g) - xhat mean(g xhat)) with g = dy gamma, from the saved statistics.
template <class T>
__global__ void layernorm_backward_kernel(const T* x, const T* dy, const float* gamma, const float* mean,
                                          const float* inv_std, T* dx, i64 cols) {
  __shared__ float scratch[block];
  const i64 base = blockIdx.x * cols;
  const float m = mean[blockIdx.x], s = inv_std[blockIdx.x];
  float sum_g = 0.0f, sum_g_xhat = 0.0f;
  for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
    const float g = load(dy, base + j) * gamma[j];
    sum_g += g;
    sum_g_xhat += g * (load(x, base + j) - m) * s;
  }
  const float mean_g = block_sum(sum_g, scratch) / float(cols);
  const float mean_g_xhat = block_sum(sum_g_xhat, scratch) / float(cols);
  for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
    const float xhat = (load(x, base + j) - m) * s;
    store(dx, base + j, s * (load(dy, base + j) * gamma[j] - mean_g - xhat * mean_g_xhat));
  }
}

template <class T>
__global__ void upsample_forward_kernel(const T* x, T* y, i64 h, i64 w, i64 scale, i64 count) {
  const i64 wy = w * scale, hy = h * scale;
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) {
    const i64 col = i % wy, row = (i / wy) % hy, plane = i / (wy * hy);
    y[i] = x[(plane * h + row / scale) * w + col / scale];
  }
}

// Each input element sums the scale x scale outputs it was copied to.
template <class T>
__global__ void upsample_backward_kernel(const T* dy, T* dx, i64 h, i64 w, i64 scale, i64 count) {
  const i64 wy = w * scale, hy = h * scale;
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) {
    const i64 col = i % w, row = (i / w) % h, plane = i / (w * h);
    float sum = 0.0f;
    for (i64 a = 0; a < scale; ++a)
      for (i64 b = 0; b < scale; ++b) sum += load(dy, (plane * hy + row * scale + a) * wy + col * scale + b);
    store(dx, i, sum);
  }
}

template <class T>
void launch_forward(Eltwise op, const void* x, void* y, i64 count, cudaStream_t stream) {
  if (op == Eltwise::gelu) {
    forward_kernel<true><<<grid_for(count), block, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), count);
  } else {
    forward_kernel<false><<<grid_for(count), block, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), count);
  }
}

template <class T>
void launch_backward(Eltwise op, const void* x, const void* dy, void* dx, i64 count, cudaStream_t stream) {
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

void layernorm_forward(const void* x, const float* gamma, const float* beta, void* y, float* mean, float* inv_std,
                       i64 rows, i64 cols, double epsilon, bool half, cudaStream_t stream) {
  const float eps = static_cast<float>(epsilon);
  if (half) {
    layernorm_forward_kernel<<<unsigned(rows), block, 0, stream>>>(static_cast<const __half*>(x), gamma, beta,
                                                                   static_cast<__half*>(y), mean, inv_std, cols, eps);
  } else {
    layernorm_forward_kernel<<<unsigned(rows), block, 0, stream>>>(static_cast<const float*>(x), gamma, beta,
                                                                   static_cast<float*>(y), mean, inv_std, cols, eps);
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void layernorm_backward(const void* x, const void* dy, const float* gamma, const float* mean, const float* inv_std,
                        void* dx, i64 rows, i64 cols, bool half, cudaStream_t stream) {
  if (half) {
    layernorm_backward_kernel<<<unsigned(rows), block, 0, stream>>>(static_cast<const __half*>(x),
                                                                    static_cast<const __half*>(dy), gamma, mean,
                                                                    inv_std, static_cast<__half*>(dx), cols);
  } else {
    layernorm_backward_kernel<<<unsigned(rows), block, 0, stream>>>(static_cast<const float*>(x),
                                                                    static_cast<const float*>(dy), gamma, mean, inv_std,
                                                                    static_cast<float*>(dx), cols);
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void upsample_nearest(const void* from, void* to, i64 n_c, i64 h, i64 w, i64 scale, bool backward, bool half,
                      cudaStream_t stream) {
  const i64 count = backward ? n_c * h * w : n_c * h * w * scale * scale;
  if (half) {
    if (backward) {
      upsample_backward_kernel<<<grid_for(count), block, 0, stream>>>(static_cast<const __half*>(from),
                                                                      static_cast<__half*>(to), h, w, scale, count);
    } else {
      upsample_forward_kernel<<<grid_for(count), block, 0, stream>>>(static_cast<const __half*>(from),
                                                                     static_cast<__half*>(to), h, w, scale, count);
    }
  } else {
    if (backward) {
      upsample_backward_kernel<<<grid_for(count), block, 0, stream>>>(static_cast<const float*>(from),
                                                                      static_cast<float*>(to), h, w, scale, count);
    } else {
      upsample_forward_kernel<<<grid_for(count), block, 0, stream>>>(static_cast<const float*>(from),
                                                                     static_cast<float*>(to), h, w, scale, count);
    }
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void convert_to_half(const float* from, void* to, i64 count, cudaStream_t stream) {
  to_half_kernel<<<grid_for(count), block, 0, stream>>>(from, static_cast<__half*>(to), count);
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void convert_from_half(const void* from, float* to, i64 count, cudaStream_t stream) {
  from_half_kernel<<<grid_for(count), block, 0, stream>>>(static_cast<const __half*>(from), to, count);
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void eltwise_forward(Eltwise op, const void* x, void* y, i64 count, bool half, cudaStream_t stream) {
  if (op != Eltwise::gelu && op != Eltwise::hardswish)
    throw LayerKernelError("no custom CUDA kernel for this activation");
  if (half) {
    launch_forward<__half>(op, x, y, count, stream);
  } else {
    launch_forward<float>(op, x, y, count, stream);
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void eltwise_backward(Eltwise op, const void* x, const void* dy, void* dx, i64 count, bool half, cudaStream_t stream) {
  if (op != Eltwise::gelu && op != Eltwise::hardswish)
    throw LayerKernelError("no custom CUDA kernel for this activation");
  if (half) {
    launch_backward<__half>(op, x, dy, dx, count, stream);
  } else {
    launch_backward<float>(op, x, dy, dx, count, stream);
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

}  // namespace edgeroof::dnn::detail
