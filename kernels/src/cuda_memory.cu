// STREAM-style memory kernels on the GPU with 16-byte accesses. A persistent grid makes `passes`
// passes per launch; a thread touches the same addresses in every pass, so a working set that fits
// in L1 or L2 is served from there.
#include "edgeroof/kernels/cuda.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace edgeroof::kernels::cuda {
namespace {

constexpr int block_threads = 256;

__global__ void read_kernel(const double2* a, std::size_t n2, std::uint64_t passes, double* sums) {
  __shared__ double partial[block_threads];
  double s0 = 0.0, s1 = 0.0;
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::uint64_t p = 0; p < passes; ++p) {
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n2; i += stride) {
      const double2 v = a[i];
      s0 += v.x;
      s1 += v.y;
    }
  }
  partial[threadIdx.x] = s0 + s1;
  __syncthreads();
  for (int half = block_threads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[blockIdx.x] = partial[0];
}

__global__ void write_kernel(double2* a, std::size_t n2, std::uint64_t first, std::uint64_t passes) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::uint64_t p = 0; p < passes; ++p) {
    const double value = static_cast<double>(first + p + 1);
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n2; i += stride)
      a[i] = make_double2(value, value);
  }
}

__global__ void copy_kernel(const double2* a, double2* b, std::size_t n2, std::uint64_t passes) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::uint64_t p = 0; p < passes; ++p) {
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n2; i += stride) b[i] = a[i];
  }
}

__global__ void triad_kernel(double2* a, const double2* b, const double2* c, double s, std::size_t n2,
                             std::uint64_t passes) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::uint64_t p = 0; p < passes; ++p) {
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n2; i += stride) {
      const double2 bv = b[i];
      const double2 cv = c[i];
      a[i] = make_double2(bv.x + s * cv.x, bv.y + s * cv.y);
    }
  }
}

__global__ void fill_kernel(double* x, std::size_t n, double value) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    x[i] = value;
}

double worst_against(const DeviceBuffer& buf, std::size_t n, double want) {
  std::vector<double> host(n);
  EDGEROOF_CUDA_CHECK(cudaMemcpy(host.data(), buf.data(), n * sizeof(double), cudaMemcpyDeviceToHost));
  double worst = 0.0;
  for (double v : host) worst = std::max(worst, std::fabs(v - want) / std::fabs(want));
  return worst;
}

}  // namespace

MemoryBench::MemoryBench(MemoryKernel kernel, std::size_t working_set_bytes, cudaStream_t stream)
    : kernels::MemoryBench(kernel), m_stream(stream) {
  const auto arrays = static_cast<std::size_t>(traffic_of(kernel).arrays);
  int device = 0;
  EDGEROOF_CUDA_CHECK(cudaGetDevice(&device));
  int sms = 0;
  EDGEROOF_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  int per_sm = 0;
  EDGEROOF_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, triad_kernel, block_threads, 0));
  m_blocks = std::max(1, sms * std::max(1, per_sm));
  // Whole 16-byte pairs, and never fewer than one pair per thread of the grid.
  const std::size_t unit = 2;
  const std::size_t n = std::max<std::size_t>(working_set_bytes / (arrays * sizeof(double)) / unit * unit, unit);
  set_elements(n);
  const std::size_t threads = std::size_t(m_blocks) * block_threads;
  if (n / 2 < threads) m_blocks = static_cast<int>(std::max<std::size_t>(1, n / 2 / block_threads));
  m_a = DeviceBuffer(n * sizeof(double));
  if (arrays > 1) m_b = DeviceBuffer(n * sizeof(double));
  if (arrays > 2) m_c = DeviceBuffer(n * sizeof(double));
  m_sums = DeviceBuffer(std::size_t(m_blocks) * sizeof(double));
  fill_kernel<<<1024, 256, 0, m_stream>>>(static_cast<double*>(m_a.data()), n, memory_init_a);
  if (arrays > 1) fill_kernel<<<1024, 256, 0, m_stream>>>(static_cast<double*>(m_b.data()), n, memory_init_b);
  if (arrays > 2) fill_kernel<<<1024, 256, 0, m_stream>>>(static_cast<double*>(m_c.data()), n, memory_init_c);
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
}

void MemoryBench::do_run(std::uint64_t passes) {
  const std::size_t n2 = elements() / 2;
  auto* a = static_cast<double2*>(m_a.data());
  auto* b = static_cast<double2*>(m_b.data());
  auto* c = static_cast<double2*>(m_c.data());
  switch (kernel()) {
  case MemoryKernel::read:
    read_kernel<<<m_blocks, block_threads, 0, m_stream>>>(a, n2, passes, static_cast<double*>(m_sums.data()));
    break;
  case MemoryKernel::write:
    write_kernel<<<m_blocks, block_threads, 0, m_stream>>>(a, n2, this->passes(), passes);
    break;
  case MemoryKernel::copy:
    copy_kernel<<<m_blocks, block_threads, 0, m_stream>>>(a, b, n2, passes);
    break;
  case MemoryKernel::triad:
    triad_kernel<<<m_blocks, block_threads, 0, m_stream>>>(a, b, c, memory_scalar, n2, passes);
    break;
  }
  EDGEROOF_CUDA_CHECK(cudaGetLastError());
  m_last_launch_passes = passes;
}

void MemoryBench::do_wait() { EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(m_stream)); }

double MemoryBench::do_max_relative_error() {
  const std::size_t n = elements();
  switch (kernel()) {
  case MemoryKernel::read: {
    std::vector<double> sums(static_cast<std::size_t>(m_blocks));
    EDGEROOF_CUDA_CHECK(cudaMemcpy(sums.data(), m_sums.data(), sums.size() * sizeof(double), cudaMemcpyDeviceToHost));
    double total = 0.0;
    for (double s : sums) total += s;
    const double want = memory_init_a * static_cast<double>(n) * static_cast<double>(m_last_launch_passes);
    return std::fabs(total - want) / want;
  }
  case MemoryKernel::write:
    return worst_against(m_a, n, static_cast<double>(passes()));
  case MemoryKernel::copy:
    return worst_against(m_b, n, memory_init_a);
  case MemoryKernel::triad:
    return worst_against(m_a, n, memory_init_b + memory_scalar * memory_init_c);
  }
  return 0.0;
}

}  // namespace edgeroof::kernels::cuda
