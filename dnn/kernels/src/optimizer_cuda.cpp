// The GPU optimizer kernel: device buffers of the layer's parameters and state, one launch per
// step on the kernel's stream (optimizer_cuda_kernels.cu), checked on host copies.
#include "layer_cuda.hpp"

#include <cmath>
#include <vector>

namespace edgeroof::dnn {
namespace {

using detail::i64;

kernels::cuda::DeviceBuffer upload(const std::vector<float>& values, cudaStream_t stream) {
  kernels::cuda::DeviceBuffer buffer(values.size() * sizeof(float));
  EDGEROOF_CUDA_CHECK(cudaMemcpyAsync(buffer.data(), values.data(), buffer.bytes(), cudaMemcpyHostToDevice, stream));
  EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(stream));  // before `values` may go
  return buffer;
}

std::vector<float> download(const kernels::cuda::DeviceBuffer& buffer, cudaStream_t stream) {
  std::vector<float> host(buffer.bytes() / sizeof(float));
  if (host.empty()) return host;
  EDGEROOF_CUDA_CHECK(cudaMemcpyAsync(host.data(), buffer.data(), buffer.bytes(), cudaMemcpyDeviceToHost, stream));
  EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(stream));
  return host;
}

float* as_float(const kernels::cuda::DeviceBuffer& b) { return static_cast<float*>(b.data()); }

class CudaOptimizer final : public OptimizerKernel {
public:
  CudaOptimizer(const LayerCost& update, cudaStream_t stream) : OptimizerKernel(update), m_stream(stream) {}
  [[nodiscard]] std::string algorithm() const override {
    const char* names[] = {"sgd", "sgd_momentum", "adam"};
    return std::string("cuda:") + names[static_cast<int>(optimizer())] + ":grid-stride";
  }

private:
  void do_prepare() override {
    const i64 n = parameters();
    m_w = upload(detail::fill(n, 21), m_stream);
    m_g = upload(detail::fill(n, 22), m_stream);
    if (optimizer() == Optimizer::adam) m_m = upload(detail::fill(n, 23, -0.1f, 0.1f), m_stream);
    if (optimizer() != Optimizer::sgd) m_v = upload(detail::fill(n, 24, 0.0f, 1.0f), m_stream);
  }
  void do_step(std::int64_t step) override {
    const OptimizerSettings& s = settings();
    const i64 n = parameters();
    switch (optimizer()) {
    case Optimizer::sgd:
      detail::sgd_step(as_float(m_w), as_float(m_g), n, s.lr, m_stream);
      break;
    case Optimizer::sgd_momentum:
      detail::sgd_momentum_step(as_float(m_w), as_float(m_g), as_float(m_v), n, s.lr, s.momentum, m_stream);
      break;
    case Optimizer::adam: {
      const auto inv_c1 = static_cast<float>(1.0 / (1.0 - std::pow(double(s.beta1), double(step))));
      const auto inv_c2 = static_cast<float>(1.0 / (1.0 - std::pow(double(s.beta2), double(step))));
      detail::adam_step(as_float(m_w), as_float(m_g), as_float(m_m), as_float(m_v), n, s.lr, s.beta1, s.beta2,
                        s.epsilon, inv_c1, inv_c2, m_stream);
      break;
    }
    }
  }
  std::vector<OptimizerElement> do_read(const std::vector<i64>& indices) override {
    return detail::read_elements(indices, download(m_w, m_stream), download(m_g, m_stream), download(m_m, m_stream),
                                 download(m_v, m_stream));
  }
  cudaStream_t m_stream;
  kernels::cuda::DeviceBuffer m_w, m_g, m_m, m_v;
};

}  // namespace

std::unique_ptr<OptimizerKernel> make_cuda_optimizer_kernel(const LayerCost& update, cudaStream_t stream) {
  return std::make_unique<CudaOptimizer>(update, stream);
}

}  // namespace edgeroof::dnn
