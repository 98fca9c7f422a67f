// The benchmark families, registered at run time for the backends this machine has.
#pragma once

#include "edgeroof/power/sysfs.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace edgeroof::bench {

// Options of edgeroof-bench that are not Google Benchmark's.
struct Options {
  power::Root root{"/"};
  int cuda_device = 0;
  // Largest working set of a memory sweep and the compute kernels' array, as a multiple of the
  // last-level cache (never below 64 MiB); 16 makes every STREAM array >= 4x the LLC.
  int dram_factor = 16;
  // Layer families (layer_families.hpp): zoo models whose distinct layers are benchmarked, none by
  // default, and their batch size.
  std::vector<std::string> layer_models;
  std::int64_t layer_batch = 1;
  std::string layer_dtype = "fp32";
  // Model families (model_families.hpp): zoo models run whole, none by default, their batch size,
  // phases (results::model_phases) and dtype.
  std::vector<std::string> model_names;
  std::int64_t model_batch = 1;
  std::vector<std::string> model_phases{"inference"};
  std::string model_dtype = "fp32";
};

// Context keys (README.md, "Contracts"; results/keys.hpp) a family adds to the run, e.g. device.name.
using Context = std::map<std::string, std::string>;

// Cache capacities as the CPU families use them: each level's size times the number of its
// instances that `threads` compactly pinned threads reach, innermost first.
[[nodiscard]] std::vector<std::uint64_t> cpu_cache_capacities(int threads);

// The total working sets a memory sweep visits: powers of two from `smallest` to `largest`.
[[nodiscard]] std::vector<std::uint64_t> working_sets(std::uint64_t smallest, std::uint64_t largest);

// Registers compute/cpu/... and memory/cpu/... and adds the CPU's context.
void register_cpu_families(const Options& options, Context& context);

// Registers compute/cuda/... and memory/cuda/... when a GPU is usable; otherwise adds the reason
// to the context (cuda.skipped) and returns false.
bool register_cuda_families(const Options& options, Context& context);

}  // namespace edgeroof::bench
