// The optimizer updates on the GPU: one grid-stride loop per step, each element's state read and
// written once, as dnn/model's optimizer_cost() counts it.
#include "layer_cuda.hpp"

namespace edgeroof::dnn::detail {
namespace {

constexpr int block = 256;

int grid_for(i64 count) {
  const i64 blocks = (count + block - 1) / block;
  return static_cast<int>(blocks < 65535 ? blocks : 65535);
}

__global__ void sgd_kernel(float* w, const float* g, i64 count, float lr) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x)
    w[i] -= lr * g[i];
}

__global__ void sgd_momentum_kernel(float* w, const float* g, float* v, i64 count, float lr, float momentum) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) {
    const float vi = momentum * v[i] + g[i];
    v[i] = vi;
    w[i] -= lr * vi;
  }
}

__global__ void adam_kernel(float* w, const float* g, float* m, float* v, i64 count, float lr, float beta1, float beta2,
                            float epsilon, float inv_c1, float inv_c2) {
  for (i64 i = blockIdx.x * i64(blockDim.x) + threadIdx.x; i < count; i += i64(gridDim.x) * blockDim.x) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= lr * (mi * inv_c1) / (sqrtf(vi * inv_c2) + epsilon);
  }
}

}  // namespace

void sgd_step(float* w, const float* g, i64 count, float lr, cudaStream_t stream) {
  sgd_kernel<<<grid_for(count), block, 0, stream>>>(w, g, count, lr);
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void sgd_momentum_step(float* w, const float* g, float* v, i64 count, float lr, float momentum, cudaStream_t stream) {
  sgd_momentum_kernel<<<grid_for(count), block, 0, stream>>>(w, g, v, count, lr, momentum);
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void adam_step(float* w, const float* g, float* m, float* v, i64 count, float lr, float beta1, float beta2,
               float epsilon, float inv_c1, float inv_c2, cudaStream_t stream) {
  adam_kernel<<<grid_for(count), block, 0, stream>>>(w, g, m, v, count, lr, beta1, beta2, epsilon, inv_c1, inv_c2);
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

}  // namespace edgeroof::dnn::detail
