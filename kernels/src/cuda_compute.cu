// The compute family on the GPU: one templated kernel, the FLOP count a template parameter.
// Each thread keeps several independent chains (elements) in registers; every chain starts from
// its own loaded value, so the compiler cannot merge them.
#include "edgeroof/kernels/cuda.hpp"

#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace edgeroof::kernels::cuda {
namespace {

constexpr int block_threads = 256;
constexpr int chains_per_thread = 4;
constexpr int elements_per_block = block_threads * chains_per_thread;

template <class T>
struct Ops {
  static __device__ T mul(T x, T a) { return x * a; }
  static __device__ T fma(T x, T a, T b) { return ::fma(x, a, b); }
};
template <>
struct Ops<float> {
  static __device__ float mul(float x, float a) { return x * a; }
  static __device__ float fma(float x, float a, float b) { return __fmaf_rn(x, a, b); }
};
template <>
struct Ops<__half2> {
  static __device__ __half2 mul(__half2 x, __half2 a) { return __hmul2(x, a); }
  static __device__ __half2 fma(__half2 x, __half2 a, __half2 b) { return __hfma2(x, a, b); }
};

// T is the storage unit; for fp16 a __half2 holds two elements, each getting the same FLOPs.
template <class T, int Flops>
__global__ void compute_kernel(T* data, std::size_t units, T a, T b) {
  const std::size_t base = std::size_t(blockIdx.x) * elements_per_block + threadIdx.x;
  T v[chains_per_thread];
#pragma unroll
  for (int c = 0; c < chains_per_thread; ++c) {
    const std::size_t i = base + std::size_t(c) * block_threads;
    v[c] = i < units ? data[i] : a;
  }
  if constexpr (Flops == 1) {
#pragma unroll
    for (int c = 0; c < chains_per_thread; ++c) v[c] = Ops<T>::mul(v[c], a);
  } else {
#pragma unroll 16
    for (int k = 0; k < Flops / 2; ++k) {
#pragma unroll
      for (int c = 0; c < chains_per_thread; ++c) v[c] = Ops<T>::fma(v[c], a, b);
    }
  }
#pragma unroll
  for (int c = 0; c < chains_per_thread; ++c) {
    const std::size_t i = base + std::size_t(c) * block_threads;
    if (i < units) data[i] = v[c];
  }
}

template <class T>
__global__ void init_kernel(T* data, std::size_t units);
template <>
__global__ void init_kernel<float>(float* data, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    data[i] = static_cast<float>(compute_initial(i));
  }
}
template <>
__global__ void init_kernel<double>(double* data, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    data[i] = compute_initial(i);
  }
}
template <>
__global__ void init_kernel<__half2>(__half2* data, std::size_t units) {
  for (std::size_t u = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; u < units;
       u += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t i = 2 * u;
    data[u] = __floats2half2_rn(static_cast<float>(compute_initial(i)), static_cast<float>(compute_initial(i + 1)));
  }
}

template <class T>
T make(double x);
template <>
float make<float>(double x) {
  return static_cast<float>(x);
}
template <>
double make<double>(double x) {
  return x;
}
template <>
__half2 make<__half2>(double x) {
  return __float2half2_rn(static_cast<float>(x));
}

template <class T, std::size_t... I>
void launch_for(int flops, T* data, std::size_t units, cudaStream_t stream, std::index_sequence<I...>) {
  const auto p = compute_params(flops);
  const T a = make<T>(p.a);
  const T b = make<T>(p.b);
  const unsigned blocks = static_cast<unsigned>((units + elements_per_block - 1) / elements_per_block);
  bool launched = false;
  (void)((compute_flop_counts[I] == flops
              ? (compute_kernel<T, compute_flop_counts[I]><<<blocks, block_threads, 0, stream>>>(data, units, a, b),
                 launched = true)
              : false) ||
         ...);
  if (!launched) throw Error("no CUDA compute kernel for " + std::to_string(flops) + " FLOPs per element");
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

std::size_t units_of(Dtype d, std::size_t elements) { return d == Dtype::fp16 ? elements / 2 : elements; }

template <class T>
double host_value(const T& v, std::size_t lane);
template <>
double host_value<float>(const float& v, std::size_t) {
  return v;
}
template <>
double host_value<double>(const double& v, std::size_t) {
  return v;
}
template <>
double host_value<__half2>(const __half2& v, std::size_t lane) {
  const float2 f = __half22float2(v);
  return lane == 0 ? f.x : f.y;
}

template <class T>
double round_initial(std::size_t i) {
  if constexpr (std::is_same_v<T, float>) return static_cast<float>(compute_initial(i));
  if constexpr (std::is_same_v<T, double>) return compute_initial(i);
  return __half2float(__float2half_rn(static_cast<float>(compute_initial(i))));
}

template <class T>
double max_error(const DeviceBuffer& buf, std::size_t elements, int flops, std::uint64_t passes) {
  constexpr std::size_t lanes = std::is_same_v<T, __half2> ? 2 : 1;
  std::vector<T> host(elements / lanes);
  EDGEROOF_CUDA_CHECK(cudaMemcpy(host.data(), buf.data(), host.size() * sizeof(T), cudaMemcpyDeviceToHost));
  std::vector<double> table(compute_initial_period);  // compute_initial() repeats
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = compute_expected(round_initial<T>(i), flops, passes);
  double worst = 0.0;
  for (std::size_t i = 0; i < elements; ++i) {
    const double want = table[i % table.size()];
    const double got = host_value(host[i / lanes], i % lanes);
    worst = std::max(worst, std::fabs(got - want) / std::max(std::fabs(want), 1e-30));
  }
  return worst;
}

}  // namespace

ComputeKernel::ComputeKernel(Dtype dtype, std::size_t elements, cudaStream_t stream)
    : kernels::ComputeKernel(
          dtype, (elements + 2 * elements_per_block - 1) / (2 * elements_per_block) * (2 * elements_per_block)),
      m_stream(stream),
      m_data(this->elements() * size_of(dtype)) {
  reset();
}

void ComputeKernel::do_reset() {
  const std::size_t units = units_of(dtype(), elements());
  switch (dtype()) {
  case Dtype::fp16:
    init_kernel<<<1024, 256, 0, m_stream>>>(static_cast<__half2*>(m_data.data()), units);
    break;
  case Dtype::fp32:
    init_kernel<<<1024, 256, 0, m_stream>>>(static_cast<float*>(m_data.data()), units);
    break;
  case Dtype::fp64:
    init_kernel<<<1024, 256, 0, m_stream>>>(static_cast<double*>(m_data.data()), units);
    break;
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void ComputeKernel::do_run(int flops_per_element, std::uint64_t passes) {
  const std::size_t units = units_of(dtype(), elements());
  const auto seq = std::make_index_sequence<compute_flop_counts.size()>{};
  for (std::uint64_t p = 0; p < passes; ++p) {
    switch (dtype()) {
    case Dtype::fp16:
      launch_for(flops_per_element, static_cast<__half2*>(m_data.data()), units, m_stream, seq);
      break;
    case Dtype::fp32:
      launch_for(flops_per_element, static_cast<float*>(m_data.data()), units, m_stream, seq);
      break;
    case Dtype::fp64:
      launch_for(flops_per_element, static_cast<double*>(m_data.data()), units, m_stream, seq);
      break;
    }
  }
}

void ComputeKernel::do_wait() { EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(m_stream)); }

double ComputeKernel::do_max_relative_error() {
  switch (dtype()) {
  case Dtype::fp16:
    return max_error<__half2>(m_data, elements(), flops(), passes());
  case Dtype::fp32:
    return max_error<float>(m_data, elements(), flops(), passes());
  case Dtype::fp64:
    return max_error<double>(m_data, elements(), flops(), passes());
  }
  return 0.0;
}

}  // namespace edgeroof::kernels::cuda
