// Model families: a whole zoo model as one benchmark, model/<backend>/<model>/<phase>/bs:<batch>.
// One iteration is one inference, or one training step with its optimizer update: every layer of
// the workload (dnn/) on its own kernel, back to back in the workload's order, each instance with
// its own weights and tensors as in a real model. The counters are the workload's analytic totals,
// and `coverage` says which share of its FLOPs ran on real kernels.
#pragma once

#include "edgeroof/dnn/layer_kernels.hpp"
#include "edgeroof/dnn/optimizer_kernels.hpp"
#include "families.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgeroof::bench {

// One model at one phase, as a backend runs it: the workload, the layers it has kernels for and
// those it has not.
struct ModelPlan {
  std::string model;
  std::string phase;  // results::model_phases
  std::int64_t batch = 1;
  dnn::Workload workload;
  std::vector<dnn::LayerInstance> covered;  // in the workload's order
  // "op/token xN (reason)" per kind of layer without a kernel, and the same as label words.
  std::vector<std::string> uncovered;
  std::vector<std::string> uncovered_tokens;  // "uncovered:add/bwd_data:x16"
  double coverage = 1.0;                      // FLOPs of `covered` over the workload's
};

// The workloads of --models at --model-batch and --model-dtype, one per model and phase, with
// fused_attention off as the layer families have it. Throws dnn::ModelError for an unknown model
// or bad options.
[[nodiscard]] std::vector<dnn::Workload> model_workloads(const Options& options);

// Whether a backend has a kernel for one layer instance of `workload`; `why` gets the reason.
using InstanceSupported = std::function<bool(const dnn::Workload&, const dnn::LayerInstance&, std::string*)>;

// Splits a workload into what `supported` runs and what it leaves out (ModelPlan).
[[nodiscard]] ModelPlan plan_model(const dnn::Workload& workload, const std::string& phase,
                                   const InstanceSupported& supported);

// The phase of a model name ("inference", "train_sgd", "train_adam") of a workload.
[[nodiscard]] std::string model_phase_of(const dnn::Workload& workload);

// "model/cpu/resnet50/inference/bs:1".
[[nodiscard]] std::string model_benchmark_name(const std::string& backend, const ModelPlan& plan);

// Registers the model families of the backends this build and machine have (oneDNN on the CPU,
// CUDA when `cuda_usable`) and says in the context what was left out and why (models.<backend>.skipped,
// models.<backend>.<model>.<phase>.uncovered). Nothing without --models. Throws dnn::ModelError for
// an unknown model.
void register_model_families(const Options& options, Context& context, bool cuda_usable);

// Plans each workload for `backend`, names what it leaves out in the context, and registers
// through `add(name, plan)` every plan with at least one layer to run. Returns how many.
int register_each_model(const std::vector<dnn::Workload>& workloads, const std::string& backend,
                        const InstanceSupported& supported,
                        const std::function<void(const std::string&, std::shared_ptr<const ModelPlan>)>& add,
                        Context& context);

// The CUDA half (model_families_cuda.cpp, or a stub without CUDA).
int register_cuda_model_families(const std::vector<dnn::Workload>& workloads, Context& context);

// One part of a prepared model: a layer kernel or an optimizer kernel, and the layer it runs.
struct ModelPart {
  std::string what;  // "layer1.0.conv1/bwd_data (conv2d)"
  std::unique_ptr<dnn::LayerKernel> layer;
  std::unique_ptr<dnn::OptimizerKernel> update;
};

// A model with every covered layer's kernel prepared, run back to back.
class PreparedModel {
public:
  explicit PreparedModel(std::vector<ModelPart> parts) : m_parts(std::move(parts)) {}
  // One inference or training step: every part's run(), in order.
  void run();
  // After the timed loop: each part's output against its tolerance; the first wrong one fails the
  // benchmark with a message naming the layer. Returns false then.
  bool check(benchmark::State& state);
  // The message check() fails with, naming the first wrong part, or nullopt when all are right.
  [[nodiscard]] std::optional<std::string> first_failure();
  [[nodiscard]] std::size_t size() const { return m_parts.size(); }

private:
  std::vector<ModelPart> m_parts;
};

// Makes the kernels of one covered instance (not prepared yet).
using MakePart = std::function<ModelPart(const dnn::Workload&, const dnn::LayerInstance&)>;

// The prepared model of benchmark `name`: built by `make` and each part prepared on first use,
// kept while Google Benchmark calls the benchmark again, freed before another model (or layer
// kernel) is prepared, so one model's buffers are alive at a time. Throws LayerKernelError naming
// the layer when memory runs out or a kernel cannot be prepared; `available_bytes` (when known)
// refuses, before anything is allocated, a model whose tensors (their analytic bytes, times the
// `copies` a backend keeps of each) exceed it: past it the kernel's OOM killer, not an error,
// would end the run.
[[nodiscard]] PreparedModel& cached_model(const std::string& name, const ModelPlan& plan, const MakePart& make,
                                          std::optional<double> available_bytes, double copies = 1.0);
// Frees the cached model, if any.
void release_cached_model();

// After the timed loop: checks every part (PreparedModel::check), then sets the counters every
// model benchmark shares: flops and bytes of the whole workload, coverage, layers (instances run),
// and the uncovered layers as the label.
void report_model(benchmark::State& state, PreparedModel& model, const ModelPlan& plan);

}  // namespace edgeroof::bench
