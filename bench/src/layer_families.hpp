// Layer families: every distinct layer shape of a zoo model, forward and backward, as a benchmark
// named layer/<backend>/<model>/<layer>/<phase>/bs:<batch> whose counters are the layer's analytic
// FLOPs and bytes (dnn/), so a measured layer is a point on the roofline.
#pragma once

#include "edgeroof/dnn/layer_kernels.hpp"
#include "families.hpp"

#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace edgeroof::bench {

// The distinct layers of one model at the options' batch and dtype.
struct ModelLayers {
  std::string model;
  std::int64_t batch = 1;
  std::vector<dnn::DistinctLayer> layers;
};

// The parts with `separator` between them: the context values and labels that list things.
[[nodiscard]] std::string join(const std::vector<std::string>& parts, const char* separator);

// Builds the inference and training (SGD) workloads of each model of `options.layer_models`.
// Throws dnn::ModelError for an unknown model.
[[nodiscard]] std::vector<ModelLayers> layer_workloads(const Options& options);

// "layer/cuda/resnet50/layer3.0.conv2/bwd_filter/bs:16".
[[nodiscard]] std::string layer_benchmark_name(const std::string& backend, const ModelLayers& model,
                                               const dnn::DistinctLayer& layer);

// Registers the layer families of the backends this build and machine have (oneDNN on the CPU,
// CUDA when `cuda_usable`) and says in the context what was left out and why
// (layers.<backend>.skipped, layers.<backend>.unsupported). Nothing without --layers.
void register_layer_families(const Options& options, Context& context, bool cuda_usable);

// Registers, through `add(name, model index, layer index)`, each layer of `models` that
// `supported` accepts, and names the others with their reason and count in the context
// (layers.<backend>.unsupported). Returns how many it registered.
int register_each_layer(const std::shared_ptr<const std::vector<ModelLayers>>& models, const std::string& backend,
                        const std::function<bool(const dnn::DistinctLayer&, std::string*)>& supported,
                        const std::function<void(const std::string&, std::size_t, std::size_t)>& add, Context& context);

// The CUDA half (layer_families_cuda.cpp, or a stub without CUDA): returns how many benchmarks
// it registered.
int register_cuda_layer_families(const std::shared_ptr<const std::vector<ModelLayers>>& models, const Options& options,
                                 Context& context);

// The prepared kernel of benchmark `name`, made by `make` and prepared on first use. Google
// Benchmark calls a benchmark several times (to size the run, then per repetition); one cached
// kernel keeps the library's setup (primitive creation, cuDNN's algorithm search) out of each
// call while only one layer's tensors are alive at a time.
[[nodiscard]] dnn::LayerKernel& cached_layer_kernel(const std::string& name,
                                                    const std::function<std::unique_ptr<dnn::LayerKernel>()>& make);

// Frees the cached layer kernel, if any (before a model is prepared, and at the end of the run).
void release_cached_layer_kernel();

// After the timed loop: checks the kernel's output (a wrong one fails the benchmark), then sets
// the counters every layer benchmark shares (flops, bytes, ai, FLOP/s, B/s of the layer's LayerCost
// at this pass, and `instances`, the layers of the model with this shape) and the library's choice
// as the label.
void report_layer(benchmark::State& state, dnn::LayerKernel& kernel, const dnn::DistinctLayer& layer);

}  // namespace edgeroof::bench
