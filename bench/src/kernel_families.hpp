// The roofline families of one kernel backend (kernels/backend.hpp), registered by one template for
// every backend: compute/<backend>/<dtype>/ai:<x> and memory/<backend>/<kernel>/bytes:<n>. What
// differs between backends is data (KernelPlan) and a small policy class:
//
//   struct Backend {
//     static std::unique_ptr<kernels::ComputeKernel> make_compute(kernels::Dtype, std::size_t elements);
//     static std::unique_ptr<kernels::MemoryBench> make_memory(kernels::MemoryKernel, std::uint64_t bytes);
//     // The timed loop with its energy window: `iteration` once per Google Benchmark iteration.
//     template <class F> static void timed_loop(benchmark::State&, F&& iteration);
//     // Runs `body`, turning the backend's errors into SkipWithError.
//     template <class F> static void guarded(benchmark::State&, F&& body);
//     // Counters only this backend has (after the work counters).
//     static void add_counters(benchmark::State&);
//     // UseRealTime() or UseManualTime().
//     static benchmark::internal::Benchmark* use_timer(benchmark::internal::Benchmark*);
//   };
#pragma once

#include "edgeroof/kernels/backend.hpp"
#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"
#include "harness.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace edgeroof::bench {

// What one backend's families cover.
struct KernelPlan {
  std::string backend;                          // "cpu", "cuda"
  std::vector<kernels::Dtype> dtypes;           // of the compute family
  std::uint64_t compute_bytes = 0;              // the compute kernels' array
  std::vector<std::uint64_t> working_sets;      // of the memory sweep
  std::vector<std::uint64_t> cache_capacities;  // innermost first, for memory_level()
  std::uint64_t memory_target_bytes = 0;        // traffic of one memory iteration at least
  benchmark::TimeUnit compute_unit = benchmark::kMillisecond;
  benchmark::TimeUnit memory_unit = benchmark::kMicrosecond;
};

template <class Backend>
void compute_benchmark(benchmark::State& state, kernels::Dtype dtype, int flops, std::size_t elements) {
  Backend::guarded(state, [&] {
    const auto kernel = Backend::make_compute(dtype, elements);
    kernel->run(flops, 1);  // warm-up: pages touched, caches and clocks settled
    Backend::timed_loop(state, [&] { kernel->run(flops, 1); });
    if (!check_result(state, kernel->max_relative_error(), kernel->tolerance())) return;
    set_work_counters(state, {kernel->flops_per_pass(flops), static_cast<double>(kernel->bytes_per_pass())});
    Backend::add_counters(state);
  });
}

template <class Backend>
void memory_benchmark(benchmark::State& state, kernels::MemoryKernel kind, std::uint64_t working_set,
                      std::uint64_t target_bytes, const std::string& level) {
  Backend::guarded(state, [&] {
    const auto bench = Backend::make_memory(kind, working_set);
    const std::uint64_t passes = passes_for(bench->bytes_per_pass(), target_bytes);
    bench->run(1);
    Backend::timed_loop(state, [&] { bench->run(passes); });
    if (!check_result(state, bench->max_relative_error(), bench->tolerance())) return;
    set_work_counters(state, {static_cast<double>(bench->flops_per_pass() * passes),
                              static_cast<double>(bench->bytes_per_pass() * passes)});
    state.counters[results::counters::working_set_bytes] = static_cast<double>(bench->working_set_bytes());
    Backend::add_counters(state);
    state.SetLabel(results::level_token(level));
  });
}

// Registers the compute family (every dtype of the plan at every default intensity it has an
// instance for) and the memory sweep (every kernel at every working set of the plan).
template <class Backend>
void register_kernel_families(const KernelPlan& plan) {
  for (kernels::Dtype dtype : plan.dtypes) {
    for (double ai : kernels::default_intensities()) {
      const auto flops = kernels::flops_for_intensity(dtype, ai);
      if (!flops) continue;
      const std::string name =
          results::format_name(results::ComputeName{plan.backend, std::string(kernels::name_of(dtype)), ai});
      Backend::use_timer(benchmark::RegisterBenchmark(name.c_str(), compute_benchmark<Backend>, dtype, *flops,
                                                      plan.compute_bytes / kernels::size_of(dtype)))
          ->Unit(plan.compute_unit);
    }
  }
  const auto& caps = plan.cache_capacities;
  for (auto kind : kernels::memory_kernels) {
    for (std::uint64_t ws : plan.working_sets) {
      const std::string name =
          results::format_name(results::MemoryName{plan.backend, std::string(kernels::name_of(kind)), ws});
      const std::string level = memory_level(ws, caps.data(), static_cast<int>(caps.size()));
      Backend::use_timer(benchmark::RegisterBenchmark(name.c_str(), memory_benchmark<Backend>, kind, ws,
                                                      plan.memory_target_bytes, level))
          ->Unit(plan.memory_unit);
    }
  }
}

}  // namespace edgeroof::bench
