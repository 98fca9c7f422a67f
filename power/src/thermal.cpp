#include "edgeroof/power/thermal.hpp"

#include <string>

namespace edgeroof::power {

std::vector<double> read_thermal_zones_C(const Root& root) {
  std::vector<double> temps;
  for (const auto& name : root.list("/sys/class/thermal")) {
    if (name.rfind("thermal_zone", 0) != 0) continue;
    const auto milli = root.try_read_int("/sys/class/thermal/" + name + "/temp");
    // Disabled zones read negative or absurd values on some boards; they say nothing about heat.
    if (milli && *milli > -40000 && *milli < 200000) temps.push_back(static_cast<double>(*milli) / 1000.0);
  }
  return temps;
}

}  // namespace edgeroof::power
