// Optimizer kernels: the update of a training step (an "optimizer" LayerCost: SGD, SGD with
// momentum, Adam), which no library here provides, written as plain elementwise loops (OpenMP on
// the CPU, a grid-stride kernel on the GPU) over fp32 buffers of the layer's parameter count. They
// move exactly the tensors dnn/model's optimizer_cost() counts: w and g read, w written, plus the
// optimizer's state (momentum v; Adam's m and v) read and written.
#pragma once

#include "edgeroof/dnn/workload.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeroof::dnn {

enum class Optimizer { sgd, sgd_momentum, adam };

// The optimizer of an update LayerCost's op ("sgd", "sgd_momentum", "adam"), or nullopt.
[[nodiscard]] std::optional<Optimizer> optimizer_of(std::string_view op);

// Fixed hyper-parameters (PyTorch's defaults for Adam). Their values change no FLOP or byte; the
// learning rate is small so that thousands of timed steps keep the weights finite and checkable.
struct OptimizerSettings {
  float lr = 1e-3f;
  float momentum = 0.9f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
};

// One parameter's state: weight, gradient and the optimizer's moments (m: Adam's first moment;
// v: SGD's momentum buffer or Adam's second moment). Unused moments stay 0.
struct OptimizerElement {
  double w = 0.0, g = 0.0, m = 0.0, v = 0.0;
};

// Step `step` (1 for the first update; Adam's bias correction depends on it) of one element by
// the optimizer's definition, in double: the scalar reference the kernels are checked against.
[[nodiscard]] OptimizerElement optimizer_reference(Optimizer optimizer, const OptimizerSettings& settings,
                                                   const OptimizerElement& before, std::int64_t step);

// The update of one optimizer LayerCost over all its parameters (the element count of its input
// shapes: weights and bias in one buffer). run() applies one more step each time.
class OptimizerKernel {
public:
  // Throws LayerKernelError when `update` is not an optimizer update this backend can run.
  explicit OptimizerKernel(const LayerCost& update);
  virtual ~OptimizerKernel() = default;
  OptimizerKernel(const OptimizerKernel&) = delete;
  OptimizerKernel& operator=(const OptimizerKernel&) = delete;

  // Allocates and fills w, g and the state, and applies one step, so nothing of this is timed.
  void prepare();
  // One step: synchronous on the CPU, enqueued on the kernel's stream on the GPU.
  void run();
  // Waits for the work, applies one more step and returns the largest relative error of its
  // sampled results (w and the state) against optimizer_reference() of the state before it.
  [[nodiscard]] double max_relative_error();
  // fp32 rounding of a few operations on values of similar magnitude.
  [[nodiscard]] double tolerance() const { return 1e-5; }

  [[nodiscard]] const LayerCost& layer() const { return m_layer; }
  [[nodiscard]] Optimizer optimizer() const { return m_optimizer; }
  [[nodiscard]] std::int64_t parameters() const { return m_parameters; }
  // The parameters an update covers: the element count of its input shapes. Throws
  // LayerKernelError when they hold none.
  [[nodiscard]] static std::int64_t parameters_of(const LayerCost& update);
  [[nodiscard]] const OptimizerSettings& settings() const { return m_settings; }
  // "cpu:adam:openmp", "cuda:adam:grid-stride", for the benchmark's label.
  [[nodiscard]] virtual std::string algorithm() const = 0;

protected:
  // Allocate and fill the buffers (values of fill(): w, g in [-1, 1), m in [-0.1, 0.1), v in [0, 1)).
  virtual void do_prepare() = 0;
  // Step number `step` over every element.
  virtual void do_step(std::int64_t step) = 0;
  // The state of the elements at `indices` now (after waiting for any enqueued work).
  [[nodiscard]] virtual std::vector<OptimizerElement> do_read(const std::vector<std::int64_t>& indices) = 0;

private:
  LayerCost m_layer;
  Optimizer m_optimizer;
  std::int64_t m_parameters = 0;
  OptimizerSettings m_settings;
  std::int64_t m_steps = 0;  // steps applied so far
};

// Whether the CPU backend can run this update (fp32 SGD, SGD with momentum or Adam); `why` gets
// the reason when it cannot.
[[nodiscard]] bool optimizer_supported(const LayerCost& update, std::string* why = nullptr);
// The CPU kernel of an update. Throws LayerKernelError for an unsupported one.
[[nodiscard]] std::unique_ptr<OptimizerKernel> make_cpu_optimizer_kernel(const LayerCost& update);

}  // namespace edgeroof::dnn
