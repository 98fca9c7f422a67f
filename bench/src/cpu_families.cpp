#include "edgeroof/kernels/cpu.hpp"
#include "families.hpp"
#include "harness.hpp"
#include "kernel_families.hpp"

#include "edgeroof/results/keys.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>

namespace edgeroof::bench {
namespace kc = kernels::cpu;
using kernels::Dtype;

namespace {

// One pool for every CPU benchmark: threads are pinned once and live for the whole run.
kc::ThreadPool& pool() {
  static kc::ThreadPool instance;
  return instance;
}

// The CPU's part of the family template (kernel_families.hpp): the pool's kernels on the wall clock.
struct CpuBackend {
  static std::unique_ptr<kernels::ComputeKernel> make_compute(Dtype dtype, std::size_t elements) {
    return std::make_unique<kc::ComputeKernel>(pool(), dtype, elements);
  }
  static std::unique_ptr<kernels::MemoryBench> make_memory(kernels::MemoryKernel kind, std::uint64_t working_set) {
    return std::make_unique<kc::MemoryBench>(pool(), kind, working_set);
  }
  template <class F>
  static void timed_loop(benchmark::State& state, F&& iteration) {
    EnergyWindow energy(state);
    for (auto _ : state) iteration();
    energy.finish();
  }
  template <class F>
  static void guarded(benchmark::State&, F&& body) {
    body();
  }
  static void add_counters(benchmark::State& state) { state.counters[results::counters::pool_threads] = pool().size(); }
  static benchmark::internal::Benchmark* use_timer(benchmark::internal::Benchmark* b) { return b->UseRealTime(); }
};

// Memory traffic one iteration of a memory benchmark moves at least: enough to dwarf the pool's
// dispatch (a few microseconds) even for working sets that fit in L1.
constexpr std::uint64_t memory_target_bytes = std::uint64_t(64) << 20;

}  // namespace

std::vector<std::uint64_t> cpu_cache_capacities(int threads) {
  std::vector<std::uint64_t> caps;
  for (const auto& cache : benchmark::CPUInfo::Get().caches) {
    if (cache.type == "Instruction" || cache.size <= 0) continue;
    const int sharing = std::max(1, cache.num_sharing);
    const std::uint64_t instances = static_cast<std::uint64_t>((threads + sharing - 1) / sharing);
    caps.push_back(static_cast<std::uint64_t>(cache.size) * instances);
  }
  std::sort(caps.begin(), caps.end());
  return caps;
}

std::vector<std::uint64_t> working_sets(std::uint64_t smallest, std::uint64_t largest) {
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t s = smallest; s <= largest; s *= 2) sizes.push_back(s);
  return sizes;
}

void register_cpu_families(const Options& options, Context& context) {
  const int threads = pool().size();
  const auto caps = cpu_cache_capacities(threads);
  const std::uint64_t last_level = caps.empty() ? (std::uint64_t(8) << 20) : caps.back();
  const std::uint64_t largest =
      std::max<std::uint64_t>(std::uint64_t(64) << 20, last_level * std::uint64_t(options.dram_factor));
  // Round the largest set up to a power of two above the smallest, so the sweep ends on it.
  const std::uint64_t smallest = std::uint64_t(16) << 10;
  std::uint64_t top = smallest;
  while (top < largest) top *= 2;

  KernelPlan plan;
  plan.backend = "cpu";
  plan.dtypes = {Dtype::fp32, Dtype::fp64};
  // The compute array lives in DRAM, so low intensities trace the bandwidth slope.
  plan.compute_bytes = std::max<std::uint64_t>(std::uint64_t(64) << 20, last_level * 4);
  plan.working_sets = working_sets(smallest, top);
  plan.cache_capacities = caps;
  plan.memory_target_bytes = memory_target_bytes;
  plan.compute_unit = benchmark::kMillisecond;
  plan.memory_unit = benchmark::kMicrosecond;
  register_kernel_families<CpuBackend>(plan);

  const auto& info = benchmark::CPUInfo::Get();
  context["cpu.threads"] = std::to_string(threads);
  context["cpu.num_cpus"] = std::to_string(info.num_cpus);
  context["cpu.isa"] = std::string(kc::simd_isa());
  context["cpu.simd_bytes"] = std::to_string(kc::simd_width_bytes());
  for (std::size_t l = 0; l < caps.size(); ++l) {
    context["cpu.cache_capacity_bytes.l" + std::to_string(l + 1)] = std::to_string(caps[l]);
  }
  if (const auto model = options.root.try_read("/proc/cpuinfo")) {
    // "model name : AMD EPYC ..." on x86; aarch64 kernels have no model name line.
    const auto at = model->find("model name");
    if (at != std::string::npos) {
      const auto colon = model->find(':', at);
      const auto end = model->find('\n', at);
      if (colon != std::string::npos && colon < end) {
        std::string name = model->substr(colon + 1, end - colon - 1);
        name.erase(0, name.find_first_not_of(" \t"));
        context[results::context::cpu_model] = name;
      }
    }
  }
}

}  // namespace edgeroof::bench
