// Energy sensors: one interface for every way edgeroof can learn the joules a window of work
// spent -- INA3221 rails over hwmon (Jetson), NVML (NVIDIA GPUs), RAPL over powercap (CPUs) -- and
// a "none" sensor that says why there is no energy. The implementation is chosen at run time
// (make_sensor), every file is read through a power::Root, and the clock is injectable so tests can
// drive fake trees and fake power traces.
#pragma once

#include "edgeroof/power/sysfs.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::power {

// A sensor could not start or finish a window (a file vanished, NVML failed ...); what() says
// which file or call and why. Benchmarks then run on without energy.
class SensorError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// One measured power rail (or energy domain).
struct Rail {
  std::string name;  // as the hardware names it: "VDD_GPU_SOC", "package-0", "dram", "gpu"
  std::string unit;  // what the hardware reports: "mV*mA", "uW", "uJ", "mJ", "mW"
  // True for a rail that is the whole board's input (VDD_IN, POM_5V_IN, psys): the total.
  bool board_total = false;
  // The rail that already contains this one ("" when none): never added to the total twice.
  std::string inside;
};

// More than any rail of any machine edgeroof measures draws (a whole 8-GPU server stays below it):
// a reading beyond it is garbage, refused rather than integrated.
inline constexpr double max_rail_power_W = 10e3;

// Joules spent over one window, per rail (in rails() order) and in total.
struct WindowEnergy {
  double duration_s = 0.0;
  // NaN for a rail whose readings were refused during the window (negative, absurd, not a number):
  // its energy is unknown, never a silent 0.
  std::vector<double> rail_J;
  // The board-total rail where there is one, else the sum of the rails not inside another; NaN
  // when one of those is NaN.
  double total_J = 0.0;
  // Readings of the sensor that went into the window (samples or counter reads).
  std::size_t readings = 0;
  // What went wrong in this window, one line each, naming the node (said once per rail and run:
  // a rail that keeps reading garbage is NaN in later windows without a new line).
  std::vector<std::string> warnings;
  [[nodiscard]] double average_power_W() const { return duration_s > 0.0 ? total_J / duration_s : 0.0; }
};

// Monotonic seconds; tests substitute a fake.
using Clock = std::function<double()>;
[[nodiscard]] Clock steady_clock();

class EnergySensor {
public:
  virtual ~EnergySensor() = default;
  EnergySensor(const EnergySensor&) = delete;
  EnergySensor& operator=(const EnergySensor&) = delete;

  // "ina3221", "nvml", "rapl" or "none".
  [[nodiscard]] const std::string& name() const { return m_name; }
  [[nodiscard]] const std::vector<Rail>& rails() const { return m_rails; }
  // How often the hardware produces a new value, in seconds; nullopt where it is not known.
  [[nodiscard]] std::optional<double> update_period_s() const { return m_period_s; }
  // Where update_period_s came from: "update_interval" (driver attribute), "measured" (value
  // changes observed), "" when unknown.
  [[nodiscard]] const std::string& period_source() const { return m_period_source; }
  [[nodiscard]] bool available() const { return m_unavailable.empty(); }
  // Why the sensor cannot measure ("" when it can).
  [[nodiscard]] const std::string& unavailable_reason() const { return m_unavailable; }
  // "VDD_IN" or "VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0": the rails WindowEnergy::total_J adds up.
  [[nodiscard]] std::string total_description() const;
  // What the sensor found doubtful while it was set up (an update_interval out of range ...), one
  // line each; the sensor works around it.
  [[nodiscard]] const std::vector<std::string>& warnings() const { return m_warnings; }

  // Begins a window. Throws SensorError (also when the sensor is not available).
  void start();
  // Ends the window begun by start(). Throws SensorError when a reading failed during the window.
  [[nodiscard]] WindowEnergy stop();

protected:
  explicit EnergySensor(std::string name) : m_name(std::move(name)) {}
  void set_rails(std::vector<Rail> rails) { m_rails = std::move(rails); }
  void set_period(std::optional<double> period_s, std::string source);
  void set_unavailable(std::string reason) { m_unavailable = std::move(reason); }
  void add_warning(std::string warning) { m_warnings.push_back(std::move(warning)); }
  // A window's per-rail joules; the base class adds the total.
  virtual void do_start() = 0;
  virtual WindowEnergy do_stop() = 0;

private:
  std::string m_name;
  std::vector<Rail> m_rails;
  std::optional<double> m_period_s;
  std::string m_period_source;
  std::string m_unavailable;
  std::vector<std::string> m_warnings;
  bool m_running = false;
};

enum class SensorKind { automatic, ina3221, nvml, rapl, none };

// "auto", "ina3221", "nvml", "rapl", "none"; throws std::invalid_argument otherwise.
[[nodiscard]] SensorKind parse_sensor_kind(std::string_view text);

struct SensorOptions {
  Clock clock = steady_clock();
  // NVML: the library dlopen()ed and the device index (NVML's order, which is PCI order).
  std::string nvml_library = "libnvidia-ml.so.1";
  unsigned nvml_device = 0;
  // Longest time spent watching a value change to measure a sensor's update period.
  double period_probe_s = 0.5;
};

// The sensor of `kind`. `automatic` picks INA3221 if found (a Jetson board's rails cover it all),
// else NVML and RAPL together where both work ("nvml+rapl": GPU and CPU), else whichever of them
// works, else none (with every reason why not). An explicitly named sensor that cannot work is
// returned unavailable, with the reason, so the caller can run on without energy. Never throws for
// missing hardware.
[[nodiscard]] std::unique_ptr<EnergySensor> make_sensor(SensorKind kind, const Root& root,
                                                        const SensorOptions& options = {});

// The individual implementations (sensor_<name>.cpp), for tests and for make_sensor.
[[nodiscard]] std::unique_ptr<EnergySensor> make_ina3221_sensor(const Root& root, const SensorOptions& options);
[[nodiscard]] std::unique_ptr<EnergySensor> make_nvml_sensor(const SensorOptions& options);
[[nodiscard]] std::unique_ptr<EnergySensor> make_rapl_sensor(const Root& root, const SensorOptions& options);
[[nodiscard]] std::unique_ptr<EnergySensor> make_none_sensor(std::string reason);
// Available sensors read as one: rails of all parts, total = sum of the parts' totals.
[[nodiscard]] std::unique_ptr<EnergySensor> make_composite_sensor(std::vector<std::unique_ptr<EnergySensor>> parts);

}  // namespace edgeroof::power
