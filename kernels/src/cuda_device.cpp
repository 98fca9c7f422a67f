#include "edgeroof/kernels/cuda.hpp"

#include <cublas_v2.h>

#include <string>
#include <utility>

namespace edgeroof::kernels::cuda {

namespace detail {
void throw_error(const char* library, int code, const char* message, const char* call, const char* file, int line) {
  throw Error(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " + library + " error " +
              std::to_string(code) + " (" + (message ? message : "?") + ")");
}
}  // namespace detail

DeviceInfo probe_device(int index) {
  int count = 0;
  const cudaError_t rc = cudaGetDeviceCount(&count);
  if (rc != cudaSuccess) {
    throw Unavailable(std::string("no usable CUDA device: cudaGetDeviceCount: ") + cudaGetErrorString(rc));
  }
  if (index < 0 || index >= count) {
    throw Unavailable("no CUDA device " + std::to_string(index) + " (this machine has " + std::to_string(count) + ")");
  }
  EDGEROOF_CUDA_CHECK(cudaSetDevice(index));
  cudaDeviceProp prop{};
  EDGEROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  DeviceInfo info;
  info.index = index;
  info.name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  info.fp32_lanes_per_sm = fp32_lanes_per_sm(prop.major, prop.minor);
  info.l2_bytes = prop.l2CacheSize;
  info.global_bytes = static_cast<std::int64_t>(prop.totalGlobalMem);
  info.integrated = prop.integrated != 0;
  int value = 0;
  // Attributes instead of cudaDeviceProp fields: CUDA 13 removed the clock fields from the struct.
  if (cudaDeviceGetAttribute(&value, cudaDevAttrClockRate, index) == cudaSuccess) info.sm_clock_khz = value;
  if (cudaDeviceGetAttribute(&value, cudaDevAttrMemoryClockRate, index) == cudaSuccess) info.memory_clock_khz = value;
  if (cudaDeviceGetAttribute(&value, cudaDevAttrGlobalMemoryBusWidth, index) == cudaSuccess)
    info.memory_bus_bits = value;
  (void)cudaGetLastError();  // an attribute the driver does not report leaves an error behind
  EDGEROOF_CUDA_CHECK(cudaRuntimeGetVersion(&info.runtime_version));
  EDGEROOF_CUDA_CHECK(cudaDriverGetVersion(&info.driver_version));
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS) {
    info.cublas_version = major * 10000 + minor * 100 + patch;
  }
  return info;
}

DeviceBuffer::DeviceBuffer(std::size_t bytes) : m_bytes(bytes) { EDGEROOF_CUDA_CHECK(cudaMalloc(&m_data, bytes)); }

DeviceBuffer::~DeviceBuffer() {
  if (m_data != nullptr) (void)cudaFree(m_data);  // a destructor cannot report; the context may be gone
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_bytes(std::exchange(other.m_bytes, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (m_data != nullptr) (void)cudaFree(m_data);
    m_data = std::exchange(other.m_data, nullptr);
    m_bytes = std::exchange(other.m_bytes, 0);
  }
  return *this;
}

}  // namespace edgeroof::kernels::cuda
