#include "edgeroof/power/settle.hpp"

#include "text.hpp"

#include <algorithm>
#include <deque>
#include <numeric>

namespace edgeroof::power {
namespace {

// Why a mode did not settle: the hot zone, the unsteady power, or both.
std::string unsettled_reason(const SettleOptions& options, const SettleResult& r, bool cool, bool steady) {
  std::string reason;
  if (!cool)
    reason = "hottest thermal zone at " + detail::fixed(*r.max_temp_C, 1) + " °C, limit " +
             detail::fixed(options.max_temp_C, 1);
  if (!steady)
    reason += std::string(reason.empty() ? "" : "; ") + "idle power not stable within " +
              detail::fixed(100 * options.power_tolerance, 0) + "%";
  return reason;
}

}  // namespace

SettleResult settle(const SettleOptions& options, const std::function<std::vector<double>()>& read_temps_C,
                    const std::function<std::optional<double>()>& read_power_W,
                    const std::function<void(double)>& sleep_s, const std::function<bool()>& stop) {
  SettleResult r;
  std::deque<double> window;
  const int samples = std::max(2, options.power_samples);
  for (;;) {
    const auto temps = read_temps_C ? read_temps_C() : std::vector<double>{};
    if (!temps.empty()) r.max_temp_C = *std::max_element(temps.begin(), temps.end());
    const bool cool = !r.max_temp_C || *r.max_temp_C < options.max_temp_C;
    const auto power = read_power_W ? read_power_W() : std::nullopt;
    bool steady = true;
    if (power) {
      window.push_back(*power);
      if (static_cast<int>(window.size()) > samples) window.pop_front();
      const auto [lo, hi] = std::minmax_element(window.begin(), window.end());
      const double mean = std::accumulate(window.begin(), window.end(), 0.0) / static_cast<double>(window.size());
      steady =
          static_cast<int>(window.size()) == samples && (*hi - *lo) <= std::max(options.power_tolerance * mean, 0.1);
      if (steady) r.idle_power_W = mean;
    }
    if (cool && steady) {
      r.settled = true;
      return r;
    }
    if (r.waited_s >= options.timeout_s || (stop && stop())) {
      r.reason = unsettled_reason(options, r, cool, steady);
      return r;
    }
    sleep_s(options.poll_s);
    r.waited_s += options.poll_s;
  }
}

}  // namespace edgeroof::power
