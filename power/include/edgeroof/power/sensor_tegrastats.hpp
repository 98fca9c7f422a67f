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
  // Rail readings that are no power: "VDD_IN: '12x/3mW' is not a power reading in mW", a negative
  // one, one beyond 10 kW. The rail is then missing from rail_mW.
  std::vector<std::string> problems;
};

// One line. Unknown fields are skipped; never throws. Spaces, tabs and carriage returns separate
// fields.
[[nodiscard]] TegrastatsSample parse_tegrastats_line(std::string_view line);

// A line left out of a log, and why.
struct TegrastatsSkip {
  std::size_t line = 0;  // 1-based, as an editor counts
  std::string reason;
};

struct TegrastatsLog {
  // The good lines only.
  std::vector<TegrastatsSample> samples;
  // Time of each sample in seconds from the first line: i x interval for the i-th non-empty line
  // (tegrastats --interval), since the printed timestamps have a resolution of one second. A
  // skipped line keeps its slot, so the lines after it are not shifted.
  std::vector<double> time_s;
  std::vector<std::size_t> line;  // the line number of each sample
  std::vector<TegrastatsSkip> skipped;
  double interval_s = 0.0;
};

// The non-empty lines of a log recorded with `tegrastats --interval <interval_ms>`, CRLF or LF. A
// line is skipped (and listed in `skipped`) when one of its rail readings is garbage, or when its
// set of rails is not the one most lines have: such a line was cut short or garbled, and
// integrating it would charge its missing rails with zero.
[[nodiscard]] TegrastatsLog parse_tegrastats(std::istream& in, double interval_s);

// Joules per rail between begin_s and end_s (seconds from the first line), integrating the
// instantaneous readings linearly between good samples (across skipped lines too); the window is
// clipped to the recording.
[[nodiscard]] std::map<std::string, double> tegrastats_energy_J(const TegrastatsLog& log, double begin_s, double end_s);

// The part of [begin_s, end_s] that lies between good samples more than one interval apart: time
// integrated across skipped lines rather than over readings.
[[nodiscard]] double tegrastats_gap_s(const TegrastatsLog& log, double begin_s, double end_s);

}  // namespace edgeroof::power
