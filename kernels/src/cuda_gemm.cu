// Tensor-core ceilings through cuBLAS: C = A^T * B on square matrices whose entries are small
// integers, so every product and sum is exact and sampled entries can be checked on the host.
#include "edgeroof/kernels/cublas_check.hpp"
#include "edgeroof/kernels/cuda.hpp"

#include <cublas_v2.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace edgeroof::kernels::cuda {
namespace {

__host__ __device__ int pattern_a(std::size_t idx) { return static_cast<int>((idx * 7) % 5) - 2; }
__host__ __device__ int pattern_b(std::size_t idx) { return static_cast<int>((idx * 3) % 7) - 3; }

template <class T>
__device__ T from_int(int v) {
  return static_cast<T>(v);
}
template <>
__device__ __half from_int<__half>(int v) {
  return __int2half_rn(v);
}

template <class T>
__global__ void fill_pattern(T* x, std::size_t n, int which) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    x[i] = from_int<T>(which == 0 ? pattern_a(i) : pattern_b(i));
  }
}

std::size_t in_size(GemmType t) { return t == GemmType::fp16 ? 2 : t == GemmType::tf32 ? 4 : 1; }
std::size_t out_size(GemmType t) { return t == GemmType::fp16 ? 2 : 4; }

}  // namespace

std::string_view name_of(GemmType t) {
  switch (t) {
  case GemmType::fp16:
    return "fp16-tensor";
  case GemmType::tf32:
    return "tf32-tensor";
  case GemmType::int8:
    return "int8-tensor";
  }
  return "?";
}

bool supports(GemmType t, int cc_major, int cc_minor) {
  const int cc = cc_major * 10 + cc_minor;
  switch (t) {
  case GemmType::fp16:
    return cc >= 70;
  case GemmType::tf32:
    return cc >= 80;
  case GemmType::int8:
    return cc >= 72;
  }
  return false;
}

Gemm::Gemm(GemmType type, int n, cudaStream_t stream) : m_type(type), m_n(n), m_stream(stream) {
  const std::size_t elems = std::size_t(n) * std::size_t(n);
  m_a = DeviceBuffer(elems * in_size(type));
  m_b = DeviceBuffer(elems * in_size(type));
  m_c = DeviceBuffer(elems * out_size(type));
  cublasHandle_t handle = nullptr;
  EDGEROOF_CUBLAS_CHECK(cublasCreate(&handle));
  m_handle = handle;
  EDGEROOF_CUBLAS_CHECK(cublasSetStream(handle, stream));
  switch (type) {
  case GemmType::fp16:
    fill_pattern<<<1024, 256, 0, stream>>>(static_cast<__half*>(m_a.data()), elems, 0);
    fill_pattern<<<1024, 256, 0, stream>>>(static_cast<__half*>(m_b.data()), elems, 1);
    break;
  case GemmType::tf32:
    fill_pattern<<<1024, 256, 0, stream>>>(static_cast<float*>(m_a.data()), elems, 0);
    fill_pattern<<<1024, 256, 0, stream>>>(static_cast<float*>(m_b.data()), elems, 1);
    break;
  case GemmType::int8:
    fill_pattern<<<1024, 256, 0, stream>>>(static_cast<std::int8_t*>(m_a.data()), elems, 0);
    fill_pattern<<<1024, 256, 0, stream>>>(static_cast<std::int8_t*>(m_b.data()), elems, 1);
    break;
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

Gemm::~Gemm() {
  if (m_handle != nullptr) (void)cublasDestroy(static_cast<cublasHandle_t>(m_handle));
}

double Gemm::bytes() const {
  const double elems = double(m_n) * double(m_n);
  return elems * double(2 * in_size(m_type) + out_size(m_type));
}

void Gemm::launch() {
  auto handle = static_cast<cublasHandle_t>(m_handle);
  const int n = m_n;
  if (m_type == GemmType::int8) {
    const std::int32_t alpha = 1, beta = 0;
    EDGEROOF_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, m_a.data(), CUDA_R_8I, n,
                                       m_b.data(), CUDA_R_8I, n, &beta, m_c.data(), CUDA_R_32I, n, CUBLAS_COMPUTE_32I,
                                       CUBLAS_GEMM_DEFAULT));
    return;
  }
  const float alpha = 1.0f, beta = 0.0f;
  const cudaDataType_t t = m_type == GemmType::fp16 ? CUDA_R_16F : CUDA_R_32F;
  const cublasComputeType_t compute = m_type == GemmType::fp16 ? CUBLAS_COMPUTE_32F : CUBLAS_COMPUTE_32F_FAST_TF32;
  EDGEROOF_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, m_a.data(), t, n, m_b.data(), t,
                                     n, &beta, m_c.data(), t, n, compute, CUBLAS_GEMM_DEFAULT));
}

double Gemm::max_relative_error() {
  EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(m_stream));
  const std::size_t n = static_cast<std::size_t>(m_n);
  double worst = 0.0;
  for (int s = 0; s < 32; ++s) {
    const std::size_t i = (std::size_t(s) * 2654435761u) % n;
    const std::size_t j = (std::size_t(s) * 40503u + 17) % n;
    double want = 0.0, magnitude = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      const double term = double(pattern_a(k + i * n)) * double(pattern_b(k + j * n));
      want += term;
      magnitude += std::fabs(term);
    }
    double got = 0.0;
    const std::size_t at = i + j * n;
    if (m_type == GemmType::fp16) {
      __half h;
      EDGEROOF_CUDA_CHECK(
          cudaMemcpy(&h, static_cast<const __half*>(m_c.data()) + at, sizeof(h), cudaMemcpyDeviceToHost));
      got = __half2float(h);
    } else if (m_type == GemmType::tf32) {
      float f = 0;
      EDGEROOF_CUDA_CHECK(
          cudaMemcpy(&f, static_cast<const float*>(m_c.data()) + at, sizeof(f), cudaMemcpyDeviceToHost));
      got = f;
    } else {
      std::int32_t v = 0;
      EDGEROOF_CUDA_CHECK(
          cudaMemcpy(&v, static_cast<const std::int32_t*>(m_c.data()) + at, sizeof(v), cudaMemcpyDeviceToHost));
      got = v;
    }
    worst = std::max(worst, std::fabs(got - want) / std::max(magnitude, 1.0));
  }
  return worst;
}

}  // namespace edgeroof::kernels::cuda
