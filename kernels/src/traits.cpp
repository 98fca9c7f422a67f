#include "edgeroof/kernels/traits.hpp"

#include <cmath>

namespace edgeroof::kernels {

std::string_view name_of(Dtype d) {
  switch (d) {
  case Dtype::fp16:
    return "fp16";
  case Dtype::fp32:
    return "fp32";
  case Dtype::fp64:
    return "fp64";
  }
  return "?";
}

std::optional<Dtype> parse_dtype(std::string_view name) {
  for (Dtype d : {Dtype::fp16, Dtype::fp32, Dtype::fp64}) {
    if (name == name_of(d)) return d;
  }
  return std::nullopt;
}

std::string_view name_of(MemoryKernel k) {
  switch (k) {
  case MemoryKernel::read:
    return "read";
  case MemoryKernel::write:
    return "write";
  case MemoryKernel::copy:
    return "copy";
  case MemoryKernel::triad:
    return "triad";
  }
  return "?";
}

std::vector<double> default_intensities() {
  std::vector<double> out;
  for (double ai = 0.125; ai <= 256.0; ai *= 2.0) out.push_back(ai);
  return out;
}

std::optional<int> flops_for_intensity(Dtype d, double ai) {
  const double flops = ai * static_cast<double>(compute_bytes_per_element(d));
  for (int f : compute_flop_counts) {
    if (std::fabs(flops - f) < 1e-9) return f;
  }
  return std::nullopt;
}

ComputeParams<double> compute_params(int flops_per_element) {
  // A lone multiply by -1 is exact forever; the FMA recurrence contracts towards b / (1 - a) = 1.
  if (flops_per_element == 1) return {-1.0, 0.0};
  return {0.9375, 0.0625};
}

double compute_expected(double x0, int flops_per_element, std::uint64_t passes) {
  const auto p = compute_params(flops_per_element);
  if (flops_per_element == 1) return (passes % 2 == 0) ? x0 : -x0;
  const double steps = static_cast<double>(passes) * (flops_per_element / 2);
  const double fixed = p.b / (1.0 - p.a);
  return fixed + std::pow(p.a, steps) * (x0 - fixed);
}

}  // namespace edgeroof::kernels
