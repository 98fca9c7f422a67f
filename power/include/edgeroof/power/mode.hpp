// Power modes: what defines one (CPUs online, CPU/GPU/EMC frequencies, GPU TPC mask), the
// frequency tables of the machine they are drawn from, and the custom grid over those tables.
#pragma once

#include "edgeroof/power/sysfs.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeroof::power {

// A mode (or a grid SPEC, or an nvpmodel.conf) that cannot be built or applied; what() says why.
class ModeError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// One power mode. An absent field is left as the machine has it. Frequencies are the values the
// driver will run at (caps already resolved against the tables), never the raw -1/0 of a conf.
struct PowerMode {
  std::string key;                // stable identifier: "nvp0-maxn", "c12-cpu2201600-gpu1300500000-emc3199000000"
  std::string name;               // "MAXN", or the key for grid modes
  std::optional<int> id;          // nvpmodel id, predefined modes only
  std::optional<int> cpu_online;  // CPUs 0..n-1 online, the others offline
  std::optional<std::int64_t> cpu_min_khz;
  std::optional<std::int64_t> cpu_max_khz;
  std::optional<std::int64_t> gpu_min_hz;
  std::optional<std::int64_t> gpu_max_hz;
  std::optional<std::int64_t> emc_max_hz;   // EMC cap
  std::optional<std::int64_t> tpc_pg_mask;  // GPU TPC power-gating mask (set bit = TPC off)

  // Pinned modes set min = max, so the clocks read back must equal them; caps only bound them.
  [[nodiscard]] bool cpu_pinned() const { return cpu_min_khz && cpu_max_khz && *cpu_min_khz == *cpu_max_khz; }
  [[nodiscard]] bool gpu_pinned() const { return gpu_min_hz && gpu_max_hz && *gpu_min_hz == *gpu_max_hz; }
};

// The longest frequency table edgeroof reads: real ones have 10 to 50 entries, so a longer one is a
// corrupt or hostile file, refused before it is stored.
inline constexpr std::size_t max_table_entries = 1024;

// The most modes a grid may have: 229 times the full Orin AGX grid (4,368), a year of benchmarking
// at half a minute per mode. A SPEC that would make more is refused before a mode is built.
inline constexpr std::uint64_t max_grid_modes = 1'000'000;

// The frequencies a machine offers, ascending; empty where they cannot be read.
struct FrequencyTables {
  int cpu_count = 0;                  // CPUs present
  std::vector<std::int64_t> cpu_khz;  // cpufreq scaling_available_frequencies
  std::vector<std::int64_t> gpu_hz;   // GPU devfreq available_frequencies
  std::vector<std::int64_t> emc_hz;   // bpmp possible_rates (kHz in the file)

  // Core counts of the grid: 2, 4, ... up to cpu_count, as in published sweeps.
  [[nodiscard]] std::vector<int> core_counts() const;
};

// Reads the tables under root (see jetson-orin.md for the nodes); missing nodes give empty tables.
// Throws ModeError naming the file for a table or CPU list that is too long (max_node_bytes,
// max_table_entries, max_cpus) or holds anything but positive frequencies below max_clock_hz.
[[nodiscard]] FrequencyTables read_frequency_tables(const Root& root);

// The table entry the driver runs at under a cap: the largest entry <= cap (the smallest entry
// when the cap is below the table). nullopt for an empty table.
[[nodiscard]] std::optional<std::int64_t> frequency_under_cap(const std::vector<std::int64_t>& table, std::int64_t cap);

// `cores=LIST|all;cpu=LIST|all;gpu=LIST|all;emc=LIST|all` with LIST comma-separated (kHz for cpu,
// Hz for gpu and emc). An empty list is "all"; nullopt is an axis left out of SPEC, which means all
// of its table, or (where the machine has no table, e.g. no GPU) that the axis is left as it is.
struct GridSpec {
  std::optional<std::vector<int>> cores;
  std::optional<std::vector<std::int64_t>> cpu_khz;
  std::optional<std::vector<std::int64_t>> gpu_hz;
  std::optional<std::vector<std::int64_t>> emc_hz;
};

// Throws ModeError naming the bad part.
[[nodiscard]] GridSpec parse_grid_spec(const std::string& spec);

// How many modes enumerate_grid would make (saturating at UINT64_MAX); checks the axes as it does.
[[nodiscard]] std::uint64_t grid_size(const GridSpec& spec, const FrequencyTables& tables);

// Every combination, cores outermost then CPU, GPU, EMC, each ascending. A listed value must be
// in its table (where the table is known) and an "all" axis needs a table; more than
// max_grid_modes modes are refused before any is built. Throws ModeError.
// Grid modes pin CPU and GPU (min = max), cap EMC, and switch every TPC on (where there is a GPU).
[[nodiscard]] std::vector<PowerMode> enumerate_grid(const GridSpec& spec, const FrequencyTables& tables);

// "c12-cpu2201600-gpu1300500000-emc3199000000"; an axis left as it is drops out ("c4-cpu2201600").
[[nodiscard]] std::string grid_key(std::optional<int> cores, std::optional<std::int64_t> cpu_khz,
                                   std::optional<std::int64_t> gpu_hz, std::optional<std::int64_t> emc_hz);

// "nvp1-mode-15w": id and the name lower-cased, anything but [a-z0-9] turned into '-'.
[[nodiscard]] std::string nvpmodel_key(int id, const std::string& name);

}  // namespace edgeroof::power
