// What each kernel does per element, as data. bench/ turns these into every benchmark's flops and
// bytes counters; the roofline fitter (reports/) reads those counters from the results file, never
// a figure of its own, so a bandwidth figure and the kernel that produced it cannot drift apart.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Functions that device code calls too: __host__ __device__ where nvcc compiles them.
#if defined(__CUDACC__)
#define EDGEROOF_HOST_DEVICE __host__ __device__
#else
#define EDGEROOF_HOST_DEVICE
#endif

namespace edgeroof::kernels {

enum class Dtype { fp16, fp32, fp64 };

[[nodiscard]] constexpr std::size_t size_of(Dtype d) {
  switch (d) {
  case Dtype::fp16:
    return 2;
  case Dtype::fp32:
    return 4;
  case Dtype::fp64:
    return 8;
  }
  return 0;
}

[[nodiscard]] std::string_view name_of(Dtype d);
[[nodiscard]] std::optional<Dtype> parse_dtype(std::string_view name);

// ---- compute kernels -------------------------------------------------------------------------
// Every pass reads each element once, applies `flops_per_element` FLOPs to it in registers and
// writes it back: bytes per element per pass = 2 * sizeof(T). One FLOP is a lone multiply
// (x *= a); more are fused multiply-adds (x = x * a + b), 2 FLOPs each, so the count is 1 or even.

[[nodiscard]] constexpr std::size_t compute_bytes_per_element(Dtype d) { return 2 * size_of(d); }

// The FLOP counts the kernels are compiled for (one template instance each).
inline constexpr std::array<int, 13> compute_flop_counts = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};

// Arithmetic intensities swept by default: 1/8 ... 256 FLOP/byte, powers of two.
[[nodiscard]] std::vector<double> default_intensities();

// FLOPs per element that give intensity `ai` for dtype `d`, or nullopt where no compiled
// instance matches (e.g. 1/8 for fp16, whose lowest intensity is one multiply per 4 bytes).
[[nodiscard]] std::optional<int> flops_for_intensity(Dtype d, double ai);

// The recurrence's constants: x <- x * a (one FLOP) or x <- x * a + b (FMA). |a| < 1 keeps the
// values bounded and away from denormals for any number of steps.
template <class T>
struct ComputeParams {
  T a;
  T b;
};
[[nodiscard]] ComputeParams<double> compute_params(int flops_per_element);

// The value an element starting at x0 holds after `passes` passes of `flops_per_element` FLOPs,
// in double precision, for checking a kernel's output.
[[nodiscard]] double compute_expected(double x0, int flops_per_element, std::uint64_t passes);

// Initial value of element i: distinct values so that no two FMA chains start alike. They repeat
// every compute_initial_period elements, so that many expected values cover any array.
inline constexpr std::size_t compute_initial_period = 1024;
[[nodiscard]] EDGEROOF_HOST_DEVICE constexpr double compute_initial(std::size_t i) {
  return 0.5 + static_cast<double>(i % compute_initial_period) / static_cast<double>(compute_initial_period);
}

// The largest relative error a correct compute kernel shows after its passes: the rounding of the
// recurrence in the element's own precision (fp16 as half2 on GPUs).
[[nodiscard]] constexpr double compute_tolerance(Dtype d) {
  switch (d) {
  case Dtype::fp16:
    return 2e-2;
  case Dtype::fp32:
    return 1e-5;
  case Dtype::fp64:
    return 1e-12;
  }
  return 0.0;
}

// ---- memory kernels --------------------------------------------------------------------------
// STREAM convention: only the explicit traffic counts (a store's write-allocate read does not).

enum class MemoryKernel { read, write, copy, triad };

struct MemoryTraffic {
  int arrays;  // arrays in the working set
  int reads;   // words read per element
  int writes;  // words written per element
  int flops;   // FLOPs per element
};

[[nodiscard]] constexpr MemoryTraffic traffic_of(MemoryKernel k) {
  switch (k) {
  case MemoryKernel::read:
    return {1, 1, 0, 1};  // s += a[i]
  case MemoryKernel::write:
    return {1, 0, 1, 0};  // a[i] = s
  case MemoryKernel::copy:
    return {2, 1, 1, 0};  // b[i] = a[i]
  case MemoryKernel::triad:
    return {3, 2, 1, 2};  // a[i] = b[i] + s * c[i]
  }
  return {0, 0, 0, 0};
}

inline constexpr std::array<MemoryKernel, 4> memory_kernels = {MemoryKernel::read, MemoryKernel::write,
                                                               MemoryKernel::copy, MemoryKernel::triad};

[[nodiscard]] std::string_view name_of(MemoryKernel k);

// Bytes moved per element of each array in one pass.
[[nodiscard]] constexpr std::size_t memory_bytes_per_element(MemoryKernel k, Dtype d) {
  const auto t = traffic_of(k);
  return static_cast<std::size_t>(t.reads + t.writes) * size_of(d);
}

// Memory kernels' constants and the values the arrays start with, for checking.
inline constexpr double memory_scalar = 3.0;
inline constexpr double memory_init_a = 1.0;
inline constexpr double memory_init_b = 2.0;
inline constexpr double memory_init_c = 0.5;
// Memory kernels move exact values (sums of whole numbers for read), so any error is a fault.
inline constexpr double memory_tolerance = 1e-12;

}  // namespace edgeroof::kernels
