// GPU families, timed with CUDA events around the enqueued work (manual time), so rates are per
// second of GPU time rather than of the CPU thread that waited for it.
#include "cuda_timing.hpp"
#include "edgeroof/kernels/cuda.hpp"
#include "families.hpp"
#include "harness.hpp"

#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>

namespace edgeroof::bench {
namespace kc = kernels::cuda;
using kernels::Dtype;

namespace {

using cuda_timing::guarded;
using cuda_timing::stream;
using cuda_timing::timed_loop;

double tolerance(Dtype d) {
  switch (d) {
  case Dtype::fp16:
    return 2e-2;
  case Dtype::fp32:
    return 1e-5;
  case Dtype::fp64:
    return 1e-12;
  }
  return 0.0;
}

void compute_benchmark(benchmark::State& state, Dtype dtype, int flops, std::size_t elements) {
  guarded(state, [&] {
    kc::ComputeKernel kernel(dtype, elements, stream().stream);
    kernel.launch(flops);
    timed_loop(state, [&] { kernel.launch(flops); });
    if (!check_result(state, kernel.max_relative_error(), tolerance(dtype))) return;
    set_work_counters(state, {double(kernel.elements()) * flops, double(kernel.bytes_per_pass())});
  });
}

// Traffic one iteration moves at least, so that launch latency is a small part of it.
constexpr std::uint64_t memory_target_bytes = std::uint64_t(1) << 30;

void memory_benchmark(benchmark::State& state, kernels::MemoryKernel kind, std::uint64_t working_set,
                      std::string level) {
  guarded(state, [&] {
    kc::MemoryBench bench(kind, working_set, stream().stream);
    const std::uint64_t passes = passes_for(bench.bytes_per_pass(), memory_target_bytes);
    bench.launch(1);
    timed_loop(state, [&] { bench.launch(passes); });
    if (!check_result(state, bench.max_relative_error(), 1e-12)) return;
    set_work_counters(state, {double(bench.flops_per_pass() * passes), double(bench.bytes_per_pass() * passes)});
    state.counters[results::counters::working_set_bytes] = double(bench.working_set_bytes());
    state.SetLabel(results::level_token(level));
  });
}

void gemm_benchmark(benchmark::State& state, kc::GemmType type, int n) {
  guarded(state, [&] {
    kc::Gemm gemm(type, n, stream().stream);
    gemm.launch();  // lets cuBLAS pick and load its kernel outside the timed loop
    timed_loop(state, [&] { gemm.launch(); });
    if (!check_result(state, gemm.max_relative_error(), 1e-3)) return;
    set_work_counters(state, {gemm.flops(), gemm.bytes()});
  });
}

std::string version_text(int v) {  // 12040 -> "12.4"
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace

bool register_cuda_families(const Options& options, Context& context) {
  kc::DeviceInfo dev;
  try {
    dev = kc::probe_device(options.cuda_device);
  } catch (const kc::Error& e) {
    context["cuda.skipped"] = e.what();
    return false;
  }
  const std::string backend = "cuda";
  const std::uint64_t l2 = static_cast<std::uint64_t>(std::max<std::int64_t>(dev.l2_bytes, 1 << 20));
  // Usable memory: a Jetson shares DRAM with the CPU, so stay well inside it.
  const std::uint64_t memory_cap = static_cast<std::uint64_t>(dev.global_bytes) / 4;
  const std::uint64_t largest =
      std::min(memory_cap, std::max<std::uint64_t>(std::uint64_t(256) << 20, l2 * std::uint64_t(options.dram_factor)));
  const std::uint64_t compute_bytes = std::min(memory_cap, std::max<std::uint64_t>(std::uint64_t(64) << 20, l2 * 4));

  for (Dtype dtype : {Dtype::fp16, Dtype::fp32, Dtype::fp64}) {
    for (double ai : kernels::default_intensities()) {
      const auto flops = kernels::flops_for_intensity(dtype, ai);
      if (!flops) continue;
      const std::string name =
          results::format_name(results::ComputeName{backend, std::string(kernels::name_of(dtype)), ai});
      benchmark::RegisterBenchmark(name.c_str(), compute_benchmark, dtype, *flops,
                                   compute_bytes / kernels::size_of(dtype))
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  // L1 is shared with shared memory and its size is not reported; 32 KiB per SM fits every split.
  const std::uint64_t caps[2] = {std::uint64_t(dev.sm_count) * (32u << 10), l2};
  for (auto kind : kernels::memory_kernels) {
    for (std::uint64_t ws : working_sets(std::uint64_t(256) << 10, largest)) {
      const std::string name =
          results::format_name(results::MemoryName{backend, std::string(kernels::name_of(kind)), ws});
      benchmark::RegisterBenchmark(name.c_str(), memory_benchmark, kind, ws, memory_level(ws, caps, 2))
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  constexpr int gemm_n = 8192;
  for (auto type : {kc::GemmType::fp16, kc::GemmType::tf32, kc::GemmType::int8}) {
    if (!kc::supports(type, dev.cc_major, dev.cc_minor)) continue;
    const std::string name = results::format_name(results::GemmName{backend, std::string(kc::name_of(type)), gemm_n});
    benchmark::RegisterBenchmark(name.c_str(), gemm_benchmark, type, gemm_n)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }

  context["cuda.device.name"] = dev.name;
  context["cuda.device.index"] = std::to_string(dev.index);
  context["cuda.cc"] = std::to_string(dev.cc_major) + "." + std::to_string(dev.cc_minor);
  context["cuda.sm_count"] = std::to_string(dev.sm_count);
  if (dev.fp32_lanes_per_sm > 0) context["cuda.fp32_lanes_per_sm"] = std::to_string(dev.fp32_lanes_per_sm);
  if (dev.sm_clock_khz > 0) context["cuda.sm_clock_max_khz"] = std::to_string(dev.sm_clock_khz);
  if (dev.memory_clock_khz > 0) context["cuda.memory_clock_max_khz"] = std::to_string(dev.memory_clock_khz);
  if (dev.memory_bus_bits > 0) context["cuda.memory_bus_bits"] = std::to_string(dev.memory_bus_bits);
  context["cuda.integrated"] = dev.integrated ? "true" : "false";
  context["cuda.runtime"] = version_text(dev.runtime_version);
  context["cuda.driver"] = version_text(dev.driver_version);
  if (dev.cublas_version > 0) {
    context["cublas.version"] = std::to_string(dev.cublas_version / 10000) + "." +
                                std::to_string((dev.cublas_version / 100) % 100) + "." +
                                std::to_string(dev.cublas_version % 100);
  }
  context["device.l2_bytes"] = std::to_string(dev.l2_bytes);
  context["device.global_bytes"] = std::to_string(dev.global_bytes);
  context["device.name"] = dev.name;
  return true;
}

}  // namespace edgeroof::bench
