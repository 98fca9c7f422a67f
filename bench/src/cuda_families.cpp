// GPU families, timed with CUDA events around the enqueued work (manual time), so rates are per
// second of GPU time rather than of the CPU thread that waited for it.
#include "cuda_timing.hpp"
#include "edgeroof/kernels/cuda.hpp"
#include "families.hpp"
#include "harness.hpp"
#include "kernel_families.hpp"

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

// The GPU's part of the family template (kernel_families.hpp): kernels on the one stream, timed
// with its events.
struct CudaBackend {
  static std::unique_ptr<kernels::ComputeKernel> make_compute(Dtype dtype, std::size_t elements) {
    return std::make_unique<kc::ComputeKernel>(dtype, elements, stream().stream);
  }
  static std::unique_ptr<kernels::MemoryBench> make_memory(kernels::MemoryKernel kind, std::uint64_t working_set) {
    return std::make_unique<kc::MemoryBench>(kind, working_set, stream().stream);
  }
  template <class F>
  static void timed_loop(benchmark::State& state, F&& iteration) {
    cuda_timing::timed_loop(state, iteration);
  }
  template <class F>
  static void guarded(benchmark::State& state, F&& body) {
    cuda_timing::guarded(state, body);
  }
  static void add_counters(benchmark::State&) {}
  static benchmark::internal::Benchmark* use_timer(benchmark::internal::Benchmark* b) { return b->UseManualTime(); }
};

// Traffic one iteration moves at least, so that launch latency is a small part of it.
constexpr std::uint64_t memory_target_bytes = std::uint64_t(1) << 30;

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

// cuda.*, cublas.version and device.*: the GPU the families run on.
void add_cuda_context(const kc::DeviceInfo& dev, Context& context) {
  context["cuda.device.name"] = dev.name;
  context["cuda.device.index"] = std::to_string(dev.index);
  context["cuda.cc"] = std::to_string(dev.cc_major) + "." + std::to_string(dev.cc_minor);
  context["cuda.sm_count"] = std::to_string(dev.sm_count);
  if (dev.fp32_lanes_per_sm > 0) context["cuda.fp32_lanes_per_sm"] = std::to_string(dev.fp32_lanes_per_sm);
  if (dev.sm_clock_khz > 0) context["cuda.sm_clock_max_khz"] = std::to_string(dev.sm_clock_khz);
  if (dev.memory_clock_khz > 0) context["cuda.memory_clock_max_khz"] = std::to_string(dev.memory_clock_khz);
  if (dev.memory_bus_bits > 0) context["cuda.memory_bus_bits"] = std::to_string(dev.memory_bus_bits);
  context["cuda.integrated"] = dev.integrated ? "true" : "false";
  context[results::context::cuda_runtime] = version_text(dev.runtime_version);
  context["cuda.driver"] = version_text(dev.driver_version);
  if (dev.cublas_version > 0) {
    context["cublas.version"] = std::to_string(dev.cublas_version / 10000) + "." +
                                std::to_string((dev.cublas_version / 100) % 100) + "." +
                                std::to_string(dev.cublas_version % 100);
  }
  context[results::context::device_l2_bytes] = std::to_string(dev.l2_bytes);
  context[results::context::device_global_bytes] = std::to_string(dev.global_bytes);
  context[results::context::device_name] = dev.name;
}

}  // namespace

bool register_cuda_families(const Options& options, Context& context) {
  kc::DeviceInfo dev;
  try {
    dev = kc::probe_device(options.cuda_device);
  } catch (const kc::Error& e) {
    context[results::context::cuda_skipped] = e.what();
    return false;
  }
  const std::string backend = "cuda";
  const std::uint64_t l2 = static_cast<std::uint64_t>(std::max<std::int64_t>(dev.l2_bytes, 1 << 20));
  // Usable memory: a Jetson shares DRAM with the CPU, so stay well inside it.
  const std::uint64_t memory_cap = static_cast<std::uint64_t>(dev.global_bytes) / 4;
  const std::uint64_t largest =
      std::min(memory_cap, std::max<std::uint64_t>(std::uint64_t(256) << 20, l2 * std::uint64_t(options.dram_factor)));
  const std::uint64_t compute_bytes = std::min(memory_cap, std::max<std::uint64_t>(std::uint64_t(64) << 20, l2 * 4));

  KernelPlan plan;
  plan.backend = backend;
  plan.dtypes = {Dtype::fp16, Dtype::fp32, Dtype::fp64};
  plan.compute_bytes = compute_bytes;
  plan.working_sets = working_sets(std::uint64_t(256) << 10, largest);
  // L1 is shared with shared memory and its size is not reported; 32 KiB per SM fits every split.
  plan.cache_capacities = {std::uint64_t(dev.sm_count) * (32u << 10), l2};
  plan.memory_target_bytes = memory_target_bytes;
  plan.compute_unit = benchmark::kMicrosecond;
  plan.memory_unit = benchmark::kMicrosecond;
  register_kernel_families<CudaBackend>(plan);

  constexpr int gemm_n = 8192;
  for (auto type : {kc::GemmType::fp16, kc::GemmType::tf32, kc::GemmType::int8}) {
    if (!kc::supports(type, dev.cc_major, dev.cc_minor)) continue;
    const std::string name = results::format_name(results::GemmName{backend, std::string(kc::name_of(type)), gemm_n});
    benchmark::RegisterBenchmark(name.c_str(), gemm_benchmark, type, gemm_n)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }

  add_cuda_context(dev, context);
  return true;
}

}  // namespace edgeroof::bench
