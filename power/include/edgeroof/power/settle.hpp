// Settling: after a mode is applied, wait until the machine is cool and its idle power steady, so
// that a measurement does not carry the heat or the transient of the mode before.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::power {

struct SettleOptions {
  double timeout_s = 120.0;
  double poll_s = 1.0;
  double max_temp_C = 50.0;       // every thermal zone below this
  int power_samples = 5;          // consecutive idle-power readings that must agree ...
  double power_tolerance = 0.05;  // ... within this fraction of their mean (at least 0.1 W)
};

struct SettleResult {
  bool settled = false;
  double waited_s = 0.0;
  std::optional<double> max_temp_C;
  std::optional<double> idle_power_W;  // mean of the last agreeing readings
  std::string reason;                  // why it did not settle
};

// Polls temperatures and idle power until both are settled or the timeout passes. `read_power_W`
// may be empty or return nullopt (no sensor): then only temperatures count. `sleep_s` and `stop`
// are injectable for tests.
[[nodiscard]] SettleResult settle(const SettleOptions& options,
                                  const std::function<std::vector<double>()>& read_temps_C,
                                  const std::function<std::optional<double>()>& read_power_W,
                                  const std::function<void(double)>& sleep_s, const std::function<bool()>& stop);

}  // namespace edgeroof::power
