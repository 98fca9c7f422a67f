#include "edgeroof/reports/peaks.hpp"

#include <cmath>
#include <cstdio>
#include <optional>

namespace edgeroof::reports {
namespace {

std::optional<double> number(const std::map<std::string, std::string>& ctx, const std::string& key) {
  const auto it = ctx.find(key);
  if (it == ctx.end()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double v = std::stod(it->second, &used);
    // "inf" and "1e999" parse too: a peak must come from real figures, or there is none.
    if (used == it->second.size() && v > 0 && std::isfinite(v) && v < 1e30) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

std::map<std::string, DerivedPeak> derived_peaks(const std::map<std::string, std::string>& ctx) {
  std::map<std::string, DerivedPeak> out;
  char buf[256];
  const auto sms = number(ctx, "cuda.sm_count");
  const auto lanes = number(ctx, "cuda.fp32_lanes_per_sm");
  const auto sm_khz = number(ctx, "cuda.sm_clock_max_khz");
  if (sms && lanes && sm_khz) {
    std::snprintf(buf, sizeof(buf), "%g SMs x %g FP32 lanes x 2 FLOP x %g MHz (max SM clock)", *sms, *lanes,
                  *sm_khz / 1e3);
    out["cuda/fp32"] = {*sms * *lanes * 2.0 * *sm_khz * 1e3, buf};
  }
  const auto mem_khz = number(ctx, "cuda.memory_clock_max_khz");
  const auto bus_bits = number(ctx, "cuda.memory_bus_bits");
  if (mem_khz && bus_bits) {
    std::snprintf(buf, sizeof(buf), "2 x %g MHz (max memory clock) x %g-bit bus / 8", *mem_khz / 1e3, *bus_bits);
    out["cuda/dram"] = {2.0 * *mem_khz * 1e3 * *bus_bits / 8.0, buf};
  }
  return out;
}

}  // namespace edgeroof::reports
