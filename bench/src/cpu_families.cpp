#include "edgeroof/kernels/cpu.hpp"
#include "families.hpp"
#include "harness.hpp"

#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"

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

// Memory traffic one iteration of a memory benchmark moves at least: enough to dwarf the pool's
// dispatch (a few microseconds) even for working sets that fit in L1.
constexpr std::uint64_t memory_target_bytes = std::uint64_t(64) << 20;

double compute_tolerance(Dtype d) { return d == Dtype::fp64 ? 1e-12 : 1e-5; }

void compute_benchmark(benchmark::State& state, Dtype dtype, int flops, std::size_t elements) {
  kc::ComputeKernel kernel(pool(), dtype, elements);
  kernel.run(flops, 1);  // warm-up: pages touched, caches and clocks settled
  EnergyWindow energy(state);
  for (auto _ : state) kernel.run(flops, 1);
  energy.finish();
  if (!check_result(state, kernel.max_relative_error(), compute_tolerance(dtype))) return;
  const double n = static_cast<double>(kernel.elements());
  set_work_counters(state, {n * flops, static_cast<double>(kernel.bytes_per_pass())});
  state.counters[results::counters::pool_threads] = pool().size();
}

void memory_benchmark(benchmark::State& state, kernels::MemoryKernel kind, std::uint64_t working_set,
                      std::string level) {
  kc::MemoryBench bench(pool(), kind, working_set);
  const std::uint64_t passes = passes_for(bench.bytes_per_pass(), memory_target_bytes);
  bench.run(1);
  EnergyWindow energy(state);
  for (auto _ : state) bench.run(passes);
  energy.finish();
  if (!check_result(state, bench.max_relative_error(), 1e-12)) return;
  set_work_counters(state, {static_cast<double>(bench.flops_per_pass() * passes),
                            static_cast<double>(bench.bytes_per_pass() * passes)});
  state.counters[results::counters::working_set_bytes] = static_cast<double>(bench.working_set_bytes());
  state.counters[results::counters::pool_threads] = pool().size();
  state.SetLabel(results::level_token(level));
}

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

  // The compute array lives in DRAM, so low intensities trace the bandwidth slope.
  const std::uint64_t compute_bytes = std::max<std::uint64_t>(std::uint64_t(64) << 20, last_level * 4);
  for (Dtype dtype : {Dtype::fp32, Dtype::fp64}) {
    for (double ai : kernels::default_intensities()) {
      const auto flops = kernels::flops_for_intensity(dtype, ai);
      if (!flops) continue;
      const std::size_t elements = compute_bytes / kernels::size_of(dtype);
      const std::string name =
          results::format_name(results::ComputeName{"cpu", std::string(kernels::name_of(dtype)), ai});
      benchmark::RegisterBenchmark(name.c_str(), compute_benchmark, dtype, *flops, elements)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (auto kind : kernels::memory_kernels) {
    for (std::uint64_t ws : working_sets(smallest, top)) {
      const std::string name =
          results::format_name(results::MemoryName{"cpu", std::string(kernels::name_of(kind)), ws});
      const std::string level = memory_level(ws, caps.data(), static_cast<int>(caps.size()));
      benchmark::RegisterBenchmark(name.c_str(), memory_benchmark, kind, ws, level)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }

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
