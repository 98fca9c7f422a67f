// GPU layer families: cuDNN/cuBLAS kernels timed with CUDA events (manual time), like every CUDA
// benchmark of the suite.
#include "cuda_timing.hpp"
#include "edgeroof/dnn/layer_kernels_cuda.hpp"
#include "layer_families.hpp"

namespace edgeroof::bench {
namespace {

void cuda_layer_benchmark(benchmark::State& state, const dnn::DistinctLayer& layer, const std::string& name) {
  cuda_timing::guarded(state, [&] {
    try {
      const cudaStream_t stream = cuda_timing::stream().stream;
      dnn::LayerKernel& kernel =
          cached_layer_kernel(name, [&] { return dnn::make_cuda_layer_kernel(layer.forward, layer.pass, stream); });
      cuda_timing::timed_loop(state, [&] { kernel.run(); });
      report_layer(state, kernel, layer);
    } catch (const dnn::LayerKernelError& e) {
      state.SkipWithError(e.what());
    }
  });
}

}  // namespace

int register_cuda_layer_families(const std::shared_ptr<const std::vector<ModelLayers>>& models, const Options&,
                                 Context& context) {
  if (const auto version = dnn::cudnn_version()) context["cudnn.version"] = *version;
  return register_each_layer(
      models, "cuda",
      [](const dnn::DistinctLayer& l, std::string* why) { return dnn::cuda_layer_supported(l.forward, l.pass, why); },
      [&](const std::string& name, std::size_t m, std::size_t i) {
        benchmark::RegisterBenchmark(name.c_str(),
                                     [models, m, i, name](benchmark::State& state) {
                                       cuda_layer_benchmark(state, (*models)[m].layers[i], name);
                                     })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      },
      context);
}

}  // namespace edgeroof::bench
