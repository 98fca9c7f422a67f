// Peaks derived by formula from what the hardware reports about itself (never measured, and
// printed as such), to say how close the measured ceilings come to them.
#pragma once

#include <map>
#include <string>

namespace edgeroof::reports {

struct DerivedPeak {
  double value = 0.0;
  std::string formula;  // how it was derived, with the inputs
};

// From a results file's context: "cuda/fp32" = SMs x FP32 lanes per SM x 2 x max SM clock, and
// "cuda/dram" = 2 (double data rate) x max memory clock x bus width / 8. Absent where an input is
// absent. CPUs get none: their sustained clock is not reported reliably (use edgeroof-probe).
[[nodiscard]] std::map<std::string, DerivedPeak> derived_peaks(const std::map<std::string, std::string>& context);

}  // namespace edgeroof::reports
