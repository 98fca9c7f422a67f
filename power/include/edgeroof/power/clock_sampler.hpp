// The clocks that define a power mode, sampled during every benchmark window so that a throttled
// run is seen and said: the GPU's devfreq clock (Jetson), the clock of each CPU frequency policy,
// the EMC rate (Jetson, debugfs), and through NVML a GPU's SM and memory clocks and its
// clock-event ("throttle") reasons. Each clock is compared with its value when the sampler was
// made, which edgeroof-bench does when it starts.
#pragma once

#include "edgeroof/power/sysfs.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::power {

// A window whose lowest clock is below this fraction of the clock at the start was throttled.
inline constexpr double throttled_below_ratio = 0.97;

// NVML's clock-event reasons that say a thermal or power limit slowed the clocks (nvml.h): SW power
// cap 0x4, SW thermal slowdown 0x20, HW thermal slowdown 0x40, HW power brake 0x80. HW slowdown
// (0x8) is left out: NVML also reports it during P-state changes; a real one halves the clock,
// which the ratio sees.
inline constexpr std::uint64_t nvml_thermal_or_power_reasons = 0x4 | 0x20 | 0x40 | 0x80;

struct ClockSamplerOptions {
  // How often the thread reads the clocks within a window; the window's edges are read too.
  double period_s = 0.02;
  // NVML is dlopen()ed at run time; empty: no NVML.
  std::string nvml_library = "libnvidia-ml.so.1";
  unsigned nvml_device = 0;
};

struct ClockDomain {
  std::string name;    // "gpu", "emc", "cpu0" (first CPU of a frequency policy), "nvml.sm", "nvml.mem"
  std::string source;  // the node's host path, or the NVML call
  double start_hz = 0.0;
};

// The clocks of one window.
struct ClockWindow {
  // Per domain, in domains() order: the lowest clock read, NaN where no reading succeeded.
  std::vector<double> min_hz;
  // The lowest min_hz / start_hz over the domains; nullopt when no domain was read.
  std::optional<double> min_ratio;
  // NVML's clock-event reasons seen in the window, ORed; nullopt without NVML reasons.
  std::optional<std::uint64_t> nvml_reasons;
  std::size_t samples = 0;
  // Domains that read garbage or failed in this window for the first time, one line each.
  std::vector<std::string> warnings;

  // min_ratio below throttled_below_ratio, or a thermal or power reason; nullopt when neither the
  // clocks nor the reasons could be read.
  [[nodiscard]] std::optional<bool> throttled() const;
};

class ClockSampler {
public:
  // Finds the domains under `root` and reads their start clocks; a domain whose start cannot be
  // read is left out. Never throws for missing hardware.
  explicit ClockSampler(const Root& root, ClockSamplerOptions options = {});
  ~ClockSampler();
  ClockSampler(const ClockSampler&) = delete;
  ClockSampler& operator=(const ClockSampler&) = delete;

  [[nodiscard]] const std::vector<ClockDomain>& domains() const;
  // NVML's reasons can be read (an NVIDIA GPU with a driver).
  [[nodiscard]] bool has_nvml_reasons() const;
  // Anything to sample at all.
  [[nodiscard]] bool available() const { return !domains().empty() || has_nvml_reasons(); }
  [[nodiscard]] double period_s() const;

  // Opens a window (reads the clocks now, then every period_s on a parked thread) and closes it
  // (reads them once more). Throws std::logic_error on a start() while open or a stop() without
  // start().
  void start();
  [[nodiscard]] ClockWindow stop();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace edgeroof::power
