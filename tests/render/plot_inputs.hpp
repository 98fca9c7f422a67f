// The inputs of the plot tests (library and command): three modes fitted from synthetic results
// (MAXN and two slower ones) and a two-layer workload, and the file helpers both use.
#pragma once

#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/reports/plot.hpp"
#include "synthetic_results.hpp"

#include <filesystem>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace edgeroof::testing {

namespace fs = std::filesystem;
using namespace edgeroof::reports;

inline bool have_gnuplot() { return edgeroof::power::find_in_path("gnuplot").has_value(); }

// Every path under `dir` (recursively) whose file name starts with `prefix`.
inline std::vector<fs::path> named(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  }
  return out;
}

// Three modes (MAXN and two slower ones), their results and a two-layer workload.
struct Inputs {
  std::vector<ResultsFile> results;
  Rooflines rooflines;
  edgeroof::dnn::Workload workload;
};

inline Inputs make_inputs(const std::vector<std::pair<std::string, std::string>>& keys_and_names = {}) {
  SyntheticMode maxn, mid;
  mid.key = mid.name = "c8-gpu816";
  mid.id = 2;
  for (auto& [k, v] : mid.flops_per_s) v *= 816.0 / 1300.5;
  mid.static_W = 6.0;
  for (auto& [k, v] : mid.eps_flop_J) v *= 0.7;
  SyntheticMode slow = mid;
  slow.key = slow.name = "c4-gpu408";
  for (auto& [k, v] : slow.flops_per_s) v *= 0.5;
  slow.bytes_per_s["dram"] *= 0.66;
  slow.static_W = 4.5;
  std::vector<SyntheticMode> modes{maxn, mid, slow};
  for (std::size_t i = 0; i < keys_and_names.size() && i < modes.size(); ++i)
    std::tie(modes[i].key, modes[i].name) = keys_and_names[i];
  Inputs in;
  unsigned seed = 1;
  for (const auto& m : modes) in.results.push_back(parse_results(synthetic_results(m, seed++), m.key + ".json"));
  in.rooflines = fit_rooflines(in.results);
  in.workload.model = "two-layers";
  in.workload.batch = 8;
  in.workload.layers.push_back({"conv", "conv2d", "forward", {}, {}, 2e10, 4e8, "fp32", true, {}});
  in.workload.layers.push_back({"relu", "relu", "forward", {}, {}, 1e8, 8e8, "fp32", false, {}});
  return in;
}

}  // namespace edgeroof::testing
