// CUDA backend: device discovery, the compute family (fp16 as half2, fp32, fp64), the memory
// kernels and cuBLAS GEMMs for the tensor-core ceilings. Launches only: bench/ times them with
// CUDA events on the stream it passes in.
#pragma once

#include "edgeroof/config.hpp"
#include "edgeroof/kernels/backend.hpp"
#include "edgeroof/kernels/traits.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace edgeroof::kernels::cuda {

// A failed CUDA, cuBLAS or cuDNN call: what was called, where, and the library's message.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// No usable GPU, or a build without CUDA; the message says which and what to do.
class Unavailable : public Error {
public:
  using Error::Error;
};

struct DeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0;
  int cc_minor = 0;
  int sm_count = 0;
  int fp32_lanes_per_sm = 0;  // FP32 FMA lanes per SM for this compute capability; 0 if unknown
  std::int64_t l2_bytes = 0;
  std::int64_t global_bytes = 0;
  std::int64_t sm_clock_khz = 0;      // maximum SM clock the runtime reports
  std::int64_t memory_clock_khz = 0;  // 0 where the runtime does not report it
  int memory_bus_bits = 0;
  bool integrated = false;  // shares DRAM with the CPU (Jetson)
  int runtime_version = 0;
  int driver_version = 0;
  int cublas_version = 0;
};

// Opens device `index` and describes it. Throws Unavailable when the build has no CUDA, the driver
// is missing, or there is no such device.
[[nodiscard]] DeviceInfo probe_device(int index = 0);

// FP32 lanes per SM of a compute capability (128 for 8.6/8.7/8.9/9.0, 64 for 8.0 and 7.x); 0 when
// not known, so a peak derived from it is never shown for an unknown GPU.
[[nodiscard]] int fp32_lanes_per_sm(int cc_major, int cc_minor);

}  // namespace edgeroof::kernels::cuda

#if EDGEROOF_HAVE_CUDA
#include <cuda_runtime_api.h>

namespace edgeroof::kernels::cuda {
namespace detail {
[[noreturn]] void throw_error(const char* library, int code, const char* message, const char* call, const char* file,
                              int line);
inline void check(cudaError_t rc, const char* call, const char* file, int line) {
  if (rc != cudaSuccess) throw_error("CUDA", static_cast<int>(rc), cudaGetErrorString(rc), call, file, line);
}
}  // namespace detail

#define EDGEROOF_CUDA_CHECK(call) ::edgeroof::kernels::cuda::detail::check((call), #call, __FILE__, __LINE__)

// Device memory owned by one object.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  [[nodiscard]] void* data() const { return m_data; }
  [[nodiscard]] std::size_t bytes() const { return m_bytes; }

private:
  void* m_data = nullptr;
  std::size_t m_bytes = 0;
};

// The compute family (backend.hpp) on `elements` values of `dtype` (fp16 values are processed in
// pairs); each pass is one launch on the stream.
class ComputeKernel final : public kernels::ComputeKernel {
public:
  ComputeKernel(Dtype dtype, std::size_t elements, cudaStream_t stream);

private:
  void do_reset() override;
  void do_run(int flops_per_element, std::uint64_t passes) override;
  double do_max_relative_error() override;
  void do_wait() override;

  cudaStream_t m_stream;
  DeviceBuffer m_data;
};

// The memory kernels (backend.hpp); one launch makes all the passes of a run() with the same
// thread-to-address mapping, so working sets that fit stay in L1 or L2.
class MemoryBench final : public kernels::MemoryBench {
public:
  MemoryBench(MemoryKernel kernel, std::size_t working_set_bytes, cudaStream_t stream);

private:
  void do_run(std::uint64_t passes) override;
  double do_max_relative_error() override;
  void do_wait() override;

  cudaStream_t m_stream;
  int m_blocks = 0;
  DeviceBuffer m_a, m_b, m_c, m_sums;
  std::uint64_t m_last_launch_passes = 0;
};

// cuBLAS GEMM C = A * B on n x n matrices, for the tensor-core ceilings.
enum class GemmType { fp16, tf32, int8 };
[[nodiscard]] std::string_view name_of(GemmType t);  // "fp16-tensor", "tf32-tensor", "int8-tensor"
// Whether the GPU has tensor cores for this type (fp16 from 7.0, tf32 from 8.0, int8 from 7.2).
[[nodiscard]] bool supports(GemmType t, int cc_major, int cc_minor);

class Gemm {
public:
  Gemm(GemmType type, int n, cudaStream_t stream);
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;
  void launch();
  // Largest error of sampled entries of C against exact integer dot products, relative to the
  // sum of magnitudes of their terms.
  [[nodiscard]] double max_relative_error();
  [[nodiscard]] double flops() const { return 2.0 * double(m_n) * double(m_n) * double(m_n); }
  [[nodiscard]] double bytes() const;  // A and B read once, C written once
  [[nodiscard]] int n() const { return m_n; }

private:
  GemmType m_type;
  int m_n;
  cudaStream_t m_stream;
  void* m_handle = nullptr;
  DeviceBuffer m_a, m_b, m_c;
};

}  // namespace edgeroof::kernels::cuda
#endif
