// INA3221 power monitors over hwmon (Jetson boards): where they are and what their rails mean.
// Exposed for tests and the fuzz target; make_ina3221_sensor() is the way to measure.
#pragma once

#include "edgeroof/power/sensor.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::power::detail {

// One INA3221's attribute directory: hwmon ("/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3",
// L4T 32.5 and later) or the older IIO driver ("/sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0",
// L4T 32 on Nano, TX1/TX2, Xavier).
struct HwmonDevice {
  std::string path;    // machine path
  std::string device;  // "1-0040", or the hwmon name where the bus address is not known
  bool iio = false;    // rail_name_<N>, in_power<N>_input (mW) instead of hwmon names
};

// The INA3221 directories under `root`: by driver (/sys/bus/i2c/drivers/ina3221/*/hwmon/*,
// /sys/bus/i2c/drivers/ina3221x/*/iio:device*) and by name (/sys/class/hwmon/*/name ==
// "ina3221"), each device once, in bus-address order.
[[nodiscard]] std::vector<HwmonDevice> find_ina3221_devices(const Root& root);

// One channel of a device that measures something.
struct Ina3221Channel {
  Rail rail;
  std::string power_path;       // power<N>_input (uW) or, IIO, in_power<N>_input (mW), where present
  double power_scale_W = 1e-6;  // watts per unit of power_path
  std::string voltage_path;     // in<N>_input / in_voltage<N>_input, mV
  std::string current_path;     // curr<N>_input / in_current<N>_input, mA
};

// The measuring channels of one device: labelled, not "NC", not disabled (in<N>_enable = 0).
[[nodiscard]] std::vector<Ina3221Channel> ina3221_channels(const Root& root, const HwmonDevice& device);

// Marks the board-total rail (VDD_IN, POM_5V_IN) and which rails are already inside another:
// every rail is inside a board total; known sub-rails (VDDQ_VDD2_1V8AO in VIN_SYS_5V0 on Orin
// AGX) are inside their parent when it is measured too.
void classify_rails(std::vector<Rail>& rails);

// A channel label: trimmed; nullopt for an unconnected channel ("NC", empty).
[[nodiscard]] std::optional<std::string> parse_hwmon_label(std::string_view text);

}  // namespace edgeroof::power::detail
