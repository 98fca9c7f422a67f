// Thermal zones: how hot the machine is, one of the two things that say a power mode has settled.
#pragma once

#include "edgeroof/power/sysfs.hpp"

#include <vector>

namespace edgeroof::power {

// Temperatures of /sys/class/thermal/thermal_zone*/temp (millidegrees) under root, in °C, in the
// order of the zone names. A zone that cannot be read, reads no number, or reads outside -40 to
// 200 °C (disabled zones do on some boards) says nothing about heat and is left out.
[[nodiscard]] std::vector<double> read_thermal_zones_C(const Root& root);

}  // namespace edgeroof::power
