// tegrastats logs (Jetson): one line per interval with rails in mW, clocks and utilisation. The
// parser turns a recorded log into the same per-rail energy over given windows that the INA3221
// sensor measures live, by the trapezoid rule over the instantaneous readings.
#pragma once

#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::power {

struct TegrastatsCpu {
  std::optional<int> util_percent;  // nullopt for an offline core ("off")
  std::optional<int> freq_mhz;
};

struct TegrastatsSample {
  // Seconds since the epoch of the line's "MM-DD-YYYY HH:MM:SS" prefix (UTC), where present.
  std::optional<double> timestamp_s;
  // Instantaneous and running-average power per rail: "VDD_GPU_SOC 5139mW/5120mW".
  std::map<std::string, double> rail_mW;
  std::map<std::string, double> rail_average_mW;
  // "EMC_FREQ 3%@3199", "GR3D_FREQ 12%@[1300,1300]": utilisation and clock (first value) per unit.
  std::map<std::string, int> util_percent;
  std::map<std::string, int> freq_mhz;
  std::vector<TegrastatsCpu> cpus;
  // "CPU@46.968C"
  std::map<std::string, double> temperature_C;
  std::optional<long long> ram_used_mb;
  std::optional<long long> ram_total_mb;
};

// One line. Unknown fields are skipped; never throws.
[[nodiscard]] TegrastatsSample parse_tegrastats_line(std::string_view line);

struct TegrastatsLog {
  std::vector<TegrastatsSample> samples;
  // Time of each sample in seconds from the first: i x interval (tegrastats --interval), since
  // the printed timestamps have a resolution of one second.
  std::vector<double> time_s;
};

// All non-empty lines of a log recorded with `tegrastats --interval <interval_ms>`.
[[nodiscard]] TegrastatsLog parse_tegrastats(std::istream& in, double interval_s);

// Joules per rail between begin_s and end_s (seconds from the first sample), integrating the
// instantaneous readings linearly between samples; the window is clipped to the recording.
[[nodiscard]] std::map<std::string, double> tegrastats_energy_J(const TegrastatsLog& log, double begin_s, double end_s);

}  // namespace edgeroof::power
