#include "edgeroof/kernels/backend.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace edgeroof::kernels {

void ComputeKernel::reset() {
  do_reset();
  m_flops = 0;
  m_passes = 0;
}

void ComputeKernel::run(int flops_per_element, std::uint64_t passes) {
  if (m_passes != 0 && flops_per_element != m_flops)
    throw std::logic_error("ComputeKernel: reset() before changing the FLOP count");
  if (std::find(compute_flop_counts.begin(), compute_flop_counts.end(), flops_per_element) == compute_flop_counts.end())
    throw std::invalid_argument("no compute kernel for " + std::to_string(flops_per_element) + " FLOPs per element");
  do_run(flops_per_element, passes);
  m_flops = flops_per_element;
  m_passes += passes;
}

double ComputeKernel::max_relative_error() {
  do_wait();
  return m_passes == 0 ? 0.0 : do_max_relative_error();
}

void MemoryBench::run(std::uint64_t passes) {
  do_run(passes);
  m_passes += passes;
}

double MemoryBench::max_relative_error() {
  do_wait();
  return m_passes == 0 ? 0.0 : do_max_relative_error();
}

}  // namespace edgeroof::kernels
