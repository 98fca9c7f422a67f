// GPU model families: every layer's cuDNN/cuBLAS/CUDA kernel and the optimizer's grid-stride
// kernel enqueued on the one stream, one synchronize per iteration, timed with CUDA events
// (manual time) like every CUDA benchmark of the suite.
#include "cuda_timing.hpp"
#include "edgeroof/dnn/layer_kernels_cuda.hpp"
#include "model_families.hpp"

namespace edgeroof::bench {
namespace {

bool cuda_instance_supported(const dnn::Workload& w, const dnn::LayerInstance& i, std::string* why) {
  if (!i.pass) return dnn::optimizer_supported(w.layers[i.index], why);
  return dnn::cuda_layer_supported(w.layers[i.forward], *i.pass, why);
}

ModelPart make_cuda_part(const dnn::Workload& w, const dnn::LayerInstance& i) {
  const cudaStream_t stream = cuda_timing::stream().stream;
  ModelPart part;
  if (!i.pass) {
    part.update = dnn::make_cuda_optimizer_kernel(w.layers[i.index], stream);
  } else {
    part.layer = dnn::make_cuda_layer_kernel(w.layers[i.forward], *i.pass, stream);
  }
  return part;
}

// Free device memory now: a model whose layers' tensors exceed it is refused before allocating.
std::optional<double> device_available_bytes() {
  std::size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) return std::nullopt;
  return static_cast<double>(free_bytes);
}

void cuda_model_benchmark(benchmark::State& state, const ModelPlan& plan, const std::string& name) {
  cuda_timing::guarded(state, [&] {
    try {
      PreparedModel& model = cached_model(name, plan, make_cuda_part, device_available_bytes());
      cuda_timing::timed_loop(state, [&] { model.run(); });
      report_model(state, model, plan);
    } catch (const dnn::LayerKernelError& e) {
      state.SkipWithError(e.what());
    }
  });
}

}  // namespace

int register_cuda_model_families(const std::vector<dnn::Workload>& workloads, Context& context) {
  if (const auto version = dnn::cudnn_version()) context["cudnn.version"] = *version;
  return register_each_model(
      workloads, "cuda", cuda_instance_supported,
      [](const std::string& name, std::shared_ptr<const ModelPlan> plan) {
        benchmark::RegisterBenchmark(
            name.c_str(), [plan, name](benchmark::State& state) { cuda_model_benchmark(state, *plan, name); })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      },
      context);
}

}  // namespace edgeroof::bench
