// Layer kernels: one layer of a workload table run by a real library (oneDNN on the CPU, cuDNN
// and cuBLAS on the GPU) at the layer's real shapes, so its measured time can be placed on the
// roofline with the analytic FLOPs and bytes of its LayerCost. Timing is bench/'s business.
#pragma once

#include "edgeroof/dnn/workload.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeroof::dnn {

// A layer no backend here can run (op, phase, dtype or shape), a backend left out of the build,
// or a failed oneDNN call (file:line, the call and the library's message). GPU calls throw
// kernels::cuda::Error instead, like every other CUDA call of the suite.
class LayerKernelError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The part of a training step a kernel computes. The optimizer update has no library kernel.
enum class Pass { forward, backward_data, backward_weights };

// "forward" -> forward, "backward_data" -> backward_data, "backward_weights" -> backward_weights;
// nullopt for any other phase ("optimizer").
[[nodiscard]] std::optional<Pass> pass_of(std::string_view phase);

// The phase token of benchmark names (stable): fwd, bwd_data, and bwd_filter for convolutions or
// bwd_weights for every other op.
[[nodiscard]] std::string pass_token(Pass pass, std::string_view op);

// One layer at one pass, made from the layer's FORWARD LayerCost (its shapes and params define the
// problem; a backward LayerCost may describe its tensors differently). Inputs are filled with
// fixed pseudo-random values, so max_relative_error() can evaluate the layer's definition directly.
class LayerKernel {
public:
  LayerKernel(LayerCost forward_layer, Pass pass) : m_layer(std::move(forward_layer)), m_pass(pass) {}
  virtual ~LayerKernel() = default;
  LayerKernel(const LayerKernel&) = delete;
  LayerKernel& operator=(const LayerKernel&) = delete;

  // Allocates the tensors, fills the inputs, lets the library choose its algorithm (and
  // workspace) and runs the layer once, so nothing of this is in a timed run.
  void prepare() { do_prepare(); }
  // One execution of the layer: synchronous on the CPU; enqueued on the kernel's stream on the GPU.
  void run() { do_run(); }
  // Waits for the work, then returns the largest error of sampled outputs against a direct
  // evaluation of the layer's definition, relative to the sum of magnitudes of the terms.
  [[nodiscard]] double max_relative_error() { return do_max_relative_error(); }
  // The error max_relative_error() may reach for this dtype, backend and reduction length.
  [[nodiscard]] virtual double tolerance() const = 0;

  [[nodiscard]] const LayerCost& layer() const { return m_layer; }
  [[nodiscard]] Pass pass() const { return m_pass; }
  // What the library picked, for the benchmark's label: "onednn:brgconv:avx512_core",
  // "cudnn:fwd:implicit_precomp_gemm:tensor_op:ws0" (cuDNN's algorithm, math type, workspace bytes).
  [[nodiscard]] const std::string& algorithm() const { return m_algorithm; }

protected:
  virtual void do_prepare() = 0;
  virtual void do_run() = 0;
  virtual double do_max_relative_error() = 0;
  void set_algorithm(std::string name) { m_algorithm = std::move(name); }

private:
  LayerCost m_layer;
  Pass m_pass;
  std::string m_algorithm;
};

// Whether the oneDNN backend can run this forward layer at this pass; `why` (if given) gets the
// reason when it cannot. The answer does not depend on whether oneDNN was built in.
[[nodiscard]] bool cpu_layer_supported(const LayerCost& forward_layer, Pass pass, std::string* why = nullptr);
// The oneDNN kernel of a layer. Throws LayerKernelError for an unsupported layer or when the build
// has no oneDNN (the message says how to enable it).
[[nodiscard]] std::unique_ptr<LayerKernel> make_cpu_layer_kernel(const LayerCost& forward_layer, Pass pass);
// "2.6.3", or nullopt without oneDNN.
[[nodiscard]] std::optional<std::string> onednn_version();

// One benchmark of a layer family: a distinct (op, pass, dtype, shapes, params, step) of a workload.
struct DistinctLayer {
  LayerCost forward;  // the first forward layer with this shape (its name names the benchmark)
  LayerCost counted;  // the LayerCost of this pass: its flops and bytes are the counters
  Pass pass = Pass::forward;
  // The phase token of the benchmark name: "fwd", else the suffix of the backward layer's name
  // ("bwd_data", "bwd_filter", "bwd_weights", "bwd_a", "bwd_b"), else pass_token().
  std::string token;
  int instances = 0;  // layers of the model that share this shape
};

// The distinct layers of a model at each pass, in the model's order: the forward layers of
// `inference` and the backward layers of `training` (backward LayerCosts are matched to their
// forward layer by name: "layer1.0.conv1/bwd_data" belongs to "layer1.0.conv1"). A bmm's "/bwd_b"
// (gradient of its second operand) runs as Pass::backward_weights. A backward layer whose forward
// layer is not in `training` is skipped, and so are optimizer phases.
[[nodiscard]] std::vector<DistinctLayer> distinct_layers(const Workload& inference, const Workload* training);

// One layer of a workload as a whole-model run executes it, in the workload's order: the layer's own
// LayerCost (its counts), the forward LayerCost its kernel is made from, its pass and its phase
// token, by the rules of distinct_layers(). An optimizer update has no pass.
struct LayerInstance {
  std::size_t index = 0;     // into Workload::layers
  std::size_t forward = 0;   // the forward layer whose shapes make the kernel (itself for forward and updates)
  std::optional<Pass> pass;  // nullopt for an optimizer update or a phase no kernel has
  std::string token;         // "fwd", "bwd_data", "bwd_filter", ..., "update"
  bool has_forward = true;   // false: a backward layer whose forward layer is not in the workload
};
[[nodiscard]] std::vector<LayerInstance> layer_instances(const Workload& workload);

}  // namespace edgeroof::dnn
