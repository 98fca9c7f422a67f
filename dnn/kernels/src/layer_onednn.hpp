// What the oneDNN layer kernels share (layer_onednn.cpp: convolution, GEMM, pooling, activations,
// softmax; layer_onednn_data.cpp: normalizations, concat, upsampling, elementwise ops): the error
// check, the CPU engine and stream, tensors with a plain host copy, and the one-primitive kernel.
#pragma once

#include "edgeroof/dnn/layer_kernels.hpp"
#include "layer_problem.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace edgeroof::dnn::detail::onednn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// oneDNN's C++ API reports failures as dnnl::error; this turns one into the suite's error with the
// call and its place, like the CUDA, cuBLAS and cuDNN checks.
template <class Call>
auto onednn_call(Call&& call, const char* text, const char* file, int line) -> decltype(call()) {
  try {
    return call();
  } catch (const dnnl::error& e) {
    throw LayerKernelError(std::string(file) + ":" + std::to_string(line) + ": " + text + " failed: oneDNN status " +
                           std::to_string(static_cast<int>(e.status)) + " (" + e.what() + ")");
  }
}
#define EDGEROOF_ONEDNN_CHECK(call) onednn_call([&] { return (call); }, #call, __FILE__, __LINE__)

// The CPU engine and its stream, one each for the process.
[[nodiscard]] dnnl::engine& engine();
[[nodiscard]] dnnl::stream& stream();

inline memory::desc plain(const memory::dims& dims, tag t) { return memory::desc(dims, dt::f32, t); }
inline memory::desc any(const memory::dims& dims) { return memory::desc(dims, dt::f32, tag::any); }

// A tensor as the check sees it (plain values on the host) and as the primitive uses it.
struct Tensor {
  std::vector<float> host;
  memory user;       // plain layout over host.data()
  memory primitive;  // the primitive's layout; the same object as `user` when they agree

  Tensor() = default;
  Tensor(std::vector<float> values, const memory::desc& user_md, const memory::desc& primitive_md)
      : host(std::move(values)) {
    host.resize(user_md.get_size() / sizeof(float));
    user = EDGEROOF_ONEDNN_CHECK(memory(user_md, engine(), host.data()));
    primitive = primitive_md == user_md ? user : EDGEROOF_ONEDNN_CHECK(memory(primitive_md, engine()));
  }
  void upload() {
    if (primitive != user) EDGEROOF_ONEDNN_CHECK(dnnl::reorder(user, primitive).execute(stream(), user, primitive));
    stream().wait();
  }
  const float* download() {
    if (primitive != user) EDGEROOF_ONEDNN_CHECK(dnnl::reorder(primitive, user).execute(stream(), primitive, user));
    stream().wait();
    return host.data();
  }
};

// The common part: one primitive and its arguments; run() executes it and waits.
class OnednnKernel : public LayerKernel {
public:
  using LayerKernel::LayerKernel;
  [[nodiscard]] double tolerance() const override { return 1e-4; }

protected:
  void do_run() override {
    EDGEROOF_ONEDNN_CHECK(m_primitive.execute(stream(), m_args));
    stream().wait();
  }
  // Binds the primitive, uploads the inputs and runs once.
  template <class PrimitiveDesc>
  void bind(const PrimitiveDesc& pd, std::initializer_list<std::pair<int, Tensor*>> args) {
    m_primitive = EDGEROOF_ONEDNN_CHECK(dnnl::primitive(pd));
    set_algorithm(std::string("onednn:") + pd.impl_info_str());
    for (auto [arg, tensor] : args) {
      m_args[arg] = tensor->primitive;
      tensor->upload();
    }
    do_run();
  }
  // Largest relative error of `out` at sampled indices against reference(index).
  template <class ReferenceAt>
  double sampled_error(Tensor& out, ReferenceAt&& reference) {
    return detail::sampled_error(out.download(), static_cast<i64>(out.host.size()), reference);
  }
  dnnl::primitive m_primitive;
  std::unordered_map<int, memory> m_args;
};

// The kernels of layer_onednn_data.cpp: normalizations, concat, upsample, add and mul; nullptr for
// any other op.
[[nodiscard]] std::unique_ptr<LayerKernel> make_data_kernel(const LayerCost& l, Pass pass);

}  // namespace edgeroof::dnn::detail::onednn
