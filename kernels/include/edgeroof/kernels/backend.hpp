// The one interface of every kernel backend (cpu.hpp, cuda.hpp): the compute family and the memory
// kernels with the same members and the same constness, so bench/ registers and checks both
// backends with one template. What a kernel does per element is traits.hpp's data, kept here once;
// a backend only says how it runs the passes and reads its results back.
#pragma once

#include "edgeroof/kernels/traits.hpp"

#include <cstddef>
#include <cstdint>

namespace edgeroof::kernels {

// The compute family on one array: every pass applies flops_per_element FLOPs to each element.
class ComputeKernel {
public:
  virtual ~ComputeKernel() = default;
  ComputeKernel(const ComputeKernel&) = delete;
  ComputeKernel& operator=(const ComputeKernel&) = delete;

  // Resets the data to compute_initial() and forgets the passes run so far.
  void reset();
  // Runs `passes` passes of the instance for flops_per_element; a device backend enqueues them on
  // its stream and returns. Throws std::invalid_argument for a count not in compute_flop_counts
  // and std::logic_error for one other than the count run since reset().
  void run(int flops_per_element, std::uint64_t passes);
  // Largest relative error of any element against compute_expected() after all passes since
  // reset(); waits for enqueued work first (hence not const).
  [[nodiscard]] double max_relative_error();

  [[nodiscard]] Dtype dtype() const { return m_dtype; }
  [[nodiscard]] std::size_t elements() const { return m_elements; }
  [[nodiscard]] std::size_t bytes_per_pass() const { return m_elements * compute_bytes_per_element(m_dtype); }
  [[nodiscard]] double flops_per_pass(int flops_per_element) const {
    return static_cast<double>(m_elements) * flops_per_element;
  }
  // The error max_relative_error() may show for a correct kernel of this dtype.
  [[nodiscard]] double tolerance() const { return compute_tolerance(m_dtype); }

protected:
  // `elements` as the backend laid them out (rounded up to its blocks).
  ComputeKernel(Dtype dtype, std::size_t elements) : m_dtype(dtype), m_elements(elements) {}
  [[nodiscard]] int flops() const { return m_flops; }
  [[nodiscard]] std::uint64_t passes() const { return m_passes; }

private:
  virtual void do_reset() = 0;
  virtual void do_run(int flops_per_element, std::uint64_t passes) = 0;
  // Called with at least one pass since reset().
  virtual double do_max_relative_error() = 0;
  // Waits for enqueued work (a device backend's stream); surfaces its errors even without passes.
  virtual void do_wait() {}

  Dtype m_dtype;
  std::size_t m_elements;
  int m_flops = 0;
  std::uint64_t m_passes = 0;
};

// A STREAM-style memory kernel on fp64 arrays whose sizes add up to the working set.
class MemoryBench {
public:
  virtual ~MemoryBench() = default;
  MemoryBench(const MemoryBench&) = delete;
  MemoryBench& operator=(const MemoryBench&) = delete;

  // Runs (or enqueues) `passes` passes over the arrays.
  void run(std::uint64_t passes);
  // Largest relative error of the arrays (or the read kernel's sums) against the expected values;
  // waits for enqueued work first.
  [[nodiscard]] double max_relative_error();

  [[nodiscard]] MemoryKernel kernel() const { return m_kernel; }
  [[nodiscard]] std::size_t elements() const { return m_elements; }  // per array
  [[nodiscard]] std::size_t working_set_bytes() const {
    return m_elements * sizeof(double) * static_cast<std::size_t>(traffic_of(m_kernel).arrays);
  }
  [[nodiscard]] std::size_t bytes_per_pass() const {
    return m_elements * memory_bytes_per_element(m_kernel, Dtype::fp64);
  }
  [[nodiscard]] std::size_t flops_per_pass() const {
    return m_elements * static_cast<std::size_t>(traffic_of(m_kernel).flops);
  }
  [[nodiscard]] double tolerance() const { return memory_tolerance; }

protected:
  explicit MemoryBench(MemoryKernel kernel) : m_kernel(kernel) {}
  // Elements per array, as the backend laid them out; set once by its constructor.
  void set_elements(std::size_t elements) { m_elements = elements; }
  [[nodiscard]] std::uint64_t passes() const { return m_passes; }  // before the current run()

private:
  virtual void do_run(std::uint64_t passes) = 0;
  // Called with at least one pass run.
  virtual double do_max_relative_error() = 0;
  // Waits for enqueued work (a device backend's stream); surfaces its errors even without passes.
  virtual void do_wait() {}

  MemoryKernel m_kernel;
  std::size_t m_elements = 0;
  std::uint64_t m_passes = 0;
};

}  // namespace edgeroof::kernels
