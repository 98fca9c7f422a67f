// GPU layer kernels without cuDNN: the GEMMs of linear/matmul/bmm through cuBLAS, the activations
// cuDNN has no mode for, layernorm, concat, nearest upsampling, and the dispatch to cuDNN's kernels
// for everything else.
#include "layer_cuda.hpp"

#include <cuda_fp16.h>

#include <algorithm>
#include <vector>

namespace edgeroof::dnn {
namespace detail {

cublasHandle_t cublas_handle(cudaStream_t stream) {
  // Created once: cublasCreate costs milliseconds and the handle lives for the process.
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    EDGEROOF_CUBLAS_CHECK(cublasCreate(&h));
    return h;
  }();
  EDGEROOF_CUBLAS_CHECK(cublasSetStream(handle, stream));
  return handle;
}

DeviceTensor::DeviceTensor(i64 count, bool half, const std::vector<float>& values, cudaStream_t stream)
    : m_count(count),
      m_half(half),
      m_device(static_cast<std::size_t>(count) * (half ? sizeof(__half) : sizeof(float))) {
  if (values.empty()) {
    EDGEROOF_CUDA_CHECK(cudaMemsetAsync(m_device.data(), 0, m_device.bytes(), stream));
    return;
  }
  if (static_cast<i64>(values.size()) < count) throw LayerKernelError("internal: fewer values than tensor elements");
  if (!half) {
    EDGEROOF_CUDA_CHECK(
        cudaMemcpyAsync(m_device.data(), values.data(), m_device.bytes(), cudaMemcpyHostToDevice, stream));
  } else {
    kernels::cuda::DeviceBuffer staging(static_cast<std::size_t>(count) * sizeof(float));
    EDGEROOF_CUDA_CHECK(
        cudaMemcpyAsync(staging.data(), values.data(), staging.bytes(), cudaMemcpyHostToDevice, stream));
    convert_to_half(static_cast<const float*>(staging.data()), m_device.data(), count, stream);
    EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(stream));  // before the staging buffer is freed
  }
  (void)download(stream);  // the host copy is what the device holds, rounding included
}

const float* DeviceTensor::download(cudaStream_t stream) {
  m_host.resize(static_cast<std::size_t>(m_count));
  if (!m_half) {
    EDGEROOF_CUDA_CHECK(
        cudaMemcpyAsync(m_host.data(), m_device.data(), m_device.bytes(), cudaMemcpyDeviceToHost, stream));
  } else {
    kernels::cuda::DeviceBuffer staging(static_cast<std::size_t>(m_count) * sizeof(float));
    convert_from_half(m_device.data(), static_cast<float*>(staging.data()), m_count, stream);
    EDGEROOF_CUDA_CHECK(
        cudaMemcpyAsync(m_host.data(), staging.data(), staging.bytes(), cudaMemcpyDeviceToHost, stream));
  }
  EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(stream));
  return m_host.data();
}

namespace {

// C = op(A) op(B) per batch, row-major, as cuBLAS's column-major C^T = op(B)^T op(A)^T. fp32 runs
// in full fp32 (cuBLAS's default, and PyTorch's for matmul); fp16 accumulates in fp32.
class CublasGemm final : public CudaLayerKernel {
public:
  CublasGemm(const LayerCost& l, Pass pass, cudaStream_t stream)
      : CudaLayerKernel(l, pass, stream), m_g(gemm_geometry(l, pass)) {}
  // fp32 sums of thousands of terms (k = batch x tokens in bwd_weights) may lose a few 1e-6 of
  // their magnitude in any order; an indexing error costs O(1).
  [[nodiscard]] double tolerance() const override { return m_half ? 1e-2 : 1e-4; }

private:
  void do_prepare() override {
    m_a = tensor(m_g.a_size(), fill(m_g.a_size(), 5));
    m_b = tensor(m_g.b_size(), fill(m_g.b_size(), 6));
    m_c = tensor(m_g.c_size());
    set_algorithm(std::string("cublas:gemm_strided_batched:") + (m_half ? "fp16-fp32acc" : "fp32"));
    do_run();
  }
  void do_run() override {
    const float alpha = 1.0f, beta = 0.0f;
    const cudaDataType_t t = m_half ? CUDA_R_16F : CUDA_R_32F;
    const auto op_b = m_g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const auto op_a = m_g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const long long ldb = m_g.trans_b ? m_g.k : m_g.n, lda = m_g.trans_a ? m_g.m : m_g.k;
    const long long stride_b = m_g.batch_b == 1 ? 0 : m_g.k * m_g.n;
    EDGEROOF_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        cublas_handle(m_stream), op_b, op_a, int(m_g.n), int(m_g.m), int(m_g.k), &alpha, m_b.data(), t, int(ldb),
        stride_b, m_a.data(), t, int(lda), m_g.m * m_g.k, &beta, m_c.data(), t, int(m_g.n), m_g.m * m_g.n,
        int(m_g.batch), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  double do_max_relative_error() override {
    return sampled(m_c, [&](i64 i) { return gemm_at(m_g, m_a.host(), m_b.host(), i); });
  }
  GemmGeometry m_g;
  DeviceTensor m_a, m_b, m_c;
};

// GELU and hardswish: one pass over the tensor each way.
class CustomActivation final : public CudaLayerKernel {
public:
  CustomActivation(const LayerCost& l, Pass pass, cudaStream_t stream)
      : CudaLayerKernel(l, pass, stream), m_op(eltwise_of(l)) {
    for (auto d : l.inputs[0]) m_size *= d;
  }
  [[nodiscard]] double tolerance() const override { return m_half ? 2e-3 : 1e-5; }

private:
  void do_prepare() override {
    m_x = tensor(m_size, fill(m_size, 9, -4.0f, 4.0f));
    if (pass() == Pass::backward_data) m_dy = tensor(m_size, fill(m_size, 10));
    m_out = tensor(m_size);
    set_algorithm("cuda:edgeroof_eltwise");
    do_run();
  }
  void do_run() override {
    if (pass() == Pass::forward) {
      eltwise_forward(m_op, m_x.data(), m_out.data(), m_size, m_half, m_stream);
    } else {
      eltwise_backward(m_op, m_x.data(), m_dy.data(), m_out.data(), m_size, m_half, m_stream);
    }
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) return sampled(m_out, [&](i64 i) { return eltwise_forward_at(m_op, m_x.host()[i]); });
    return sampled(m_out, [&](i64 i) { return eltwise_backward_at(m_op, m_x.host()[i], m_dy.host()[i]); });
  }
  Eltwise m_op;
  i64 m_size = 1;
  DeviceTensor m_x, m_dy, m_out;
};

// Layernorm over the last axis; the backward uses the statistics its training forward saved.
class Layernorm final : public CudaLayerKernel {
public:
  Layernorm(const LayerCost& l, Pass pass, cudaStream_t stream)
      : CudaLayerKernel(l, pass, stream), m_g(layernorm_geometry(l)) {}
  [[nodiscard]] double tolerance() const override { return m_half ? 1e-2 : 1e-4; }

private:
  void do_prepare() override {
    const i64 n = m_g.rows * m_g.cols;
    m_x = tensor(n, fill(n, 21));
    m_gamma = float_tensor(m_g.cols, fill(m_g.cols, 22, 0.5f, 1.5f));
    m_beta = float_tensor(m_g.cols, fill(m_g.cols, 23));
    m_out = tensor(n);
    if (pass() == Pass::backward_data) {
      m_mean = float_tensor(m_g.rows);
      m_inv_std = float_tensor(m_g.rows);
      DeviceTensor y = tensor(n);
      layernorm_forward(m_x.data(), static_cast<const float*>(m_gamma.data()), static_cast<const float*>(m_beta.data()),
                        y.data(), static_cast<float*>(m_mean.data()), static_cast<float*>(m_inv_std.data()), m_g.rows,
                        m_g.cols, m_g.epsilon, m_half, m_stream);
      EDGEROOF_CUDA_CHECK(cudaStreamSynchronize(m_stream));
      m_dy = tensor(n, fill(n, 24));
    }
    set_algorithm("cuda:edgeroof_layernorm");
    do_run();
  }
  void do_run() override {
    const auto* gamma = static_cast<const float*>(m_gamma.data());
    if (pass() == Pass::forward) {
      layernorm_forward(m_x.data(), gamma, static_cast<const float*>(m_beta.data()), m_out.data(), nullptr, nullptr,
                        m_g.rows, m_g.cols, m_g.epsilon, m_half, m_stream);
    } else {
      layernorm_backward(m_x.data(), m_dy.data(), gamma, static_cast<const float*>(m_mean.data()),
                         static_cast<const float*>(m_inv_std.data()), m_out.data(), m_g.rows, m_g.cols, m_half,
                         m_stream);
    }
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) {
      return sampled(m_out,
                     [&](i64 i) { return layernorm_forward_at(m_g, m_x.host(), m_gamma.host(), m_beta.host(), i); });
    }
    return sampled(m_out,
                   [&](i64 i) { return layernorm_backward_at(m_g, m_x.host(), m_dy.host(), m_gamma.host(), i); });
  }
  RowGeometry m_g;
  DeviceTensor m_x, m_gamma, m_beta, m_mean, m_inv_std, m_dy, m_out;
};

// Concat as one strided copy per input (cudaMemcpy2DAsync: `outer` rows); backward the reverse.
class Concat final : public CudaLayerKernel {
public:
  Concat(const LayerCost& l, Pass pass, cudaStream_t stream)
      : CudaLayerKernel(l, pass, stream), m_g(concat_geometry(l)) {}
  [[nodiscard]] double tolerance() const override { return 0.0; }  // copies are exact

private:
  void do_prepare() override {
    const bool forward = pass() == Pass::forward;
    for (std::size_t j = 0; j < m_g.extents.size(); ++j) {
      const i64 n = m_g.input_size(j);
      m_parts.push_back(forward ? tensor(n, fill(n, 25 + std::uint32_t(j))) : tensor(n));
    }
    m_whole = forward ? tensor(m_g.output_size()) : tensor(m_g.output_size(), fill(m_g.output_size(), 30));
    set_algorithm("cuda:memcpy2d");
    do_run();
  }
  void do_run() override {
    const std::size_t element = m_half ? 2 : 4;
    const std::size_t whole_pitch = std::size_t(m_g.total_extent() * m_g.inner) * element;
    for (std::size_t j = 0; j < m_parts.size(); ++j) {
      const std::size_t width = std::size_t(m_g.extents[j] * m_g.inner) * element;
      char* slice = static_cast<char*>(m_whole.data()) + std::size_t(m_g.offset(j) * m_g.inner) * element;
      if (pass() == Pass::forward) {
        EDGEROOF_CUDA_CHECK(cudaMemcpy2DAsync(slice, whole_pitch, m_parts[j].data(), width, width,
                                              std::size_t(m_g.outer), cudaMemcpyDeviceToDevice, m_stream));
      } else {
        EDGEROOF_CUDA_CHECK(cudaMemcpy2DAsync(m_parts[j].data(), width, slice, whole_pitch, width,
                                              std::size_t(m_g.outer), cudaMemcpyDeviceToDevice, m_stream));
      }
    }
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) {
      std::vector<const float*> inputs;
      for (const auto& p : m_parts) inputs.push_back(p.host());
      return sampled(m_whole, [&](i64 i) { return concat_forward_at(m_g, inputs, i); });
    }
    double worst = 0.0;
    for (std::size_t j = 0; j < m_parts.size(); ++j) {
      worst =
          std::max(worst, sampled(m_parts[j], [&](i64 i) { return concat_backward_at(m_g, m_whole.host(), j, i); }));
    }
    return worst;
  }
  ConcatGeometry m_g;
  std::vector<DeviceTensor> m_parts;
  DeviceTensor m_whole;
};

class Upsample final : public CudaLayerKernel {
public:
  Upsample(const LayerCost& l, Pass pass, cudaStream_t stream)
      : CudaLayerKernel(l, pass, stream), m_g(upsample_geometry(l)) {}
  [[nodiscard]] double tolerance() const override { return m_half ? 1e-3 : 1e-6; }

private:
  void do_prepare() override {
    const bool forward = pass() == Pass::forward;
    const i64 in = forward ? m_g.input_size() : m_g.output_size(), out = forward ? m_g.output_size() : m_g.input_size();
    m_in = tensor(in, fill(in, forward ? 31 : 32));
    m_out = tensor(out);
    set_algorithm("cuda:edgeroof_upsample_nearest");
    do_run();
  }
  void do_run() override {
    upsample_nearest(m_in.data(), m_out.data(), m_g.n * m_g.c, m_g.h, m_g.w, m_g.scale, pass() != Pass::forward, m_half,
                     m_stream);
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) return sampled(m_out, [&](i64 i) { return upsample_forward_at(m_g, m_in.host(), i); });
    return sampled(m_out, [&](i64 i) { return upsample_backward_at(m_g, m_in.host(), i); });
  }
  UpsampleGeometry m_g;
  DeviceTensor m_in, m_out;
};

bool is_gemm(const std::string& op) { return op == "linear" || op == "matmul" || op == "bmm"; }

// Layers edgeroof runs without cuDNN: cuBLAS GEMMs and its own kernels.
bool needs_no_cudnn(const std::string& op) {
  return is_gemm(op) || op == "gelu" || op == "hardswish" || op == "layernorm" || op == "concat" || op == "upsample";
}

}  // namespace
}  // namespace detail

bool cuda_layer_supported(const LayerCost& l, Pass pass, std::string* why) {
  if (l.dtype != "fp32" && l.dtype != "fp16") {
    if (why) *why = "the GPU layer kernels run fp32 and fp16, not " + l.dtype;
    return false;
  }
  if (!detail::layer_supported(l, pass, why)) return false;
  if (!detail::needs_no_cudnn(l.op) && !detail::have_cudnn()) {
    if (why) *why = "edgeroof was built without cuDNN; configure with -DEDGEROOF_ENABLE_CUDNN=ON (and CUDNN_ROOT)";
    return false;
  }
  return true;
}

std::unique_ptr<LayerKernel> make_cuda_layer_kernel(const LayerCost& l, Pass pass, cudaStream_t stream) {
  std::string why;
  if (!cuda_layer_supported(l, pass, &why)) throw LayerKernelError("no GPU kernel for layer '" + l.name + "': " + why);
  if (detail::is_gemm(l.op)) return std::make_unique<detail::CublasGemm>(l, pass, stream);
  if (l.op == "gelu" || l.op == "hardswish") return std::make_unique<detail::CustomActivation>(l, pass, stream);
  if (l.op == "layernorm") return std::make_unique<detail::Layernorm>(l, pass, stream);
  if (l.op == "concat") return std::make_unique<detail::Concat>(l, pass, stream);
  if (l.op == "upsample") return std::make_unique<detail::Upsample>(l, pass, stream);
  return detail::make_cudnn_layer_kernel(l, pass, stream);
}

}  // namespace edgeroof::dnn
