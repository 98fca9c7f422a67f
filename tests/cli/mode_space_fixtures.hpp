// Fixtures of the mode-space commands (fit --predict-modes, plan): a modes list as `edgeroof modes
// --grid ... --format json` writes it for an Orin AGX at 12 cores and 2.2 GHz (13 GPU x 4 EMC
// clocks), and synthetic results of some of those modes whose ceilings follow the clocks.
#pragma once

#include "program.hpp"
#include "synthetic_results.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace edgeroof::test {

inline const std::vector<std::int64_t> kOrinGpuHz = {114750000,  216750000,  318750000, 420750000, 522750000,
                                                     624750000,  726750000,  828750000, 930750000, 1032750000,
                                                     1134750000, 1236750000, 1300500000};
inline const std::vector<std::int64_t> kOrinEmcHz = {204000000, 665600000, 2133000000, 3199000000};

inline std::string grid_mode_key(std::int64_t gpu_hz, std::int64_t emc_hz) {
  return "c12-cpu2201600-gpu" + std::to_string(gpu_hz) + "-emc" + std::to_string(emc_hz);
}

// {"modes": [...]} over the given clocks, cores outermost then GPU then EMC, as enumerate_grid orders them.
inline nlohmann::json grid_modes(const std::vector<std::int64_t>& gpus = kOrinGpuHz,
                                 const std::vector<std::int64_t>& emcs = kOrinEmcHz) {
  nlohmann::json doc = {{"modes", nlohmann::json::array()}};
  for (const auto gpu : gpus) {
    for (const auto emc : emcs) {
      const auto key = grid_mode_key(gpu, emc);
      doc["modes"].push_back({{"key", key},
                              {"name", key},
                              {"cpu_online", 12},
                              {"cpu_max_khz", 2201600},
                              {"gpu_max_hz", gpu},
                              {"emc_max_hz", emc}});
    }
  }
  return doc;
}

// One results file of a grid mode: compute ceilings proportional to the GPU clock, bandwidths to
// the EMC clock (the synthetic MAXN figures at 1300.5 MHz and 3199 MHz), energy constants of MAXN.
inline std::string grid_results(std::int64_t gpu_hz, std::int64_t emc_hz, unsigned seed) {
  testing::SyntheticMode m;
  m.key = grid_mode_key(gpu_hz, emc_hz);
  m.name = m.key;
  m.id.reset();
  m.gpu_hz = gpu_hz;
  m.emc_hz = emc_hz;
  const double g = static_cast<double>(gpu_hz) / 1300500000.0, e = static_cast<double>(emc_hz) / 3199000000.0;
  for (auto& [dtype, rate] : m.flops_per_s) rate *= g;
  m.bytes_per_s["dram"] *= e;
  m.bytes_per_s["l2"] *= g;
  auto doc = nlohmann::json::parse(testing::synthetic_results(m, seed));
  doc["context"]["power_mode.cpu_khz"] = "2201600";
  doc["context"]["power_mode.cpu_online"] = "12";
  return doc.dump();
}

// The measured modes of the fit and plan tests: three GPU clocks by two EMC clocks.
inline const std::vector<std::pair<std::int64_t, std::int64_t>> kMeasuredModes = {
    {318750000, 2133000000}, {318750000, 3199000000},  {828750000, 2133000000},
    {828750000, 3199000000}, {1300500000, 2133000000}, {1300500000, 3199000000}};

// Writes the results of kMeasuredModes into dir/results and returns that folder.
inline std::string write_measured(const ScratchDir& dir) {
  std::filesystem::create_directories(dir.path() / "results");
  unsigned seed = 11;
  for (const auto& [gpu, emc] : kMeasuredModes)
    (void)dir.write("results/" + grid_mode_key(gpu, emc) + ".json", grid_results(gpu, emc, seed++));
  return (dir.path() / "results").string();
}

}  // namespace edgeroof::test
