// CPU layer kernels through oneDNN 2.x. Activations and weights are handed over in plain
// (NCHW/OIHW) layouts; primitives that benefit from blocked layouts get them (format "any") and
// the reorders happen in prepare() and in the check, never in run().
#include "edgeroof/dnn/layer_kernels.hpp"
#include "layer_problem.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

namespace edgeroof::dnn {
namespace {

using namespace detail;
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

dnnl::engine& engine() {
  static dnnl::engine instance(dnnl::engine::kind::cpu, 0);
  return instance;
}

dnnl::stream& stream() {
  static dnnl::stream instance(engine());
  return instance;
}

memory::desc plain(const memory::dims& dims, tag t) { return memory::desc(dims, dt::f32, t); }
memory::desc any(const memory::dims& dims) { return memory::desc(dims, dt::f32, tag::any); }

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

// --- convolution -----------------------------------------------------------------------------

class Conv final : public OnednnKernel {
public:
  Conv(const LayerCost& l, Pass pass) : OnednnKernel(l, pass), m_g(conv_geometry(l)) {}

private:
  void do_prepare() override {
    const ConvGeometry& g = m_g;
    const memory::dims src{g.n, g.c, g.h, g.w}, dst{g.n, g.k, g.p, g.q}, bias{g.k};
    const memory::dims wei = g.groups > 1 ? memory::dims{g.groups, g.k / g.groups, g.c / g.groups, g.r, g.s}
                                          : memory::dims{g.k, g.c, g.r, g.s};
    const tag wei_tag = g.groups > 1 ? tag::goihw : tag::oihw;
    const memory::dims strides{g.stride_h, g.stride_w}, dilates{g.dil_h - 1, g.dil_w - 1}, pad_l{g.pad_h, g.pad_w};
    const memory::dims pad_r{(g.p - 1) * g.stride_h + (g.r - 1) * g.dil_h + 1 - g.h - g.pad_h,
                             (g.q - 1) * g.stride_w + (g.s - 1) * g.dil_w + 1 - g.w - g.pad_w};
    const auto bias_md = g.bias ? plain(bias, tag::a) : memory::desc();
    const auto algo = dnnl::algorithm::convolution_auto;
    const auto prop = pass() == Pass::forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    const dnnl::convolution_forward::primitive_desc fwd =
        EDGEROOF_ONEDNN_CHECK(dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(prop, algo, any(src), any(wei), bias_md, any(dst), strides, dilates, pad_l,
                                            pad_r),
            engine()));
    switch (pass()) {
    case Pass::forward:
      m_in0 = Tensor(fill(g.input_size(), 1), plain(src, tag::nchw), fwd.src_desc());
      m_in1 = Tensor(fill(g.weight_size(), 2), plain(wei, wei_tag), fwd.weights_desc());
      m_out = Tensor({}, plain(dst, tag::nchw), fwd.dst_desc());
      if (g.bias) {
        m_bias = Tensor(fill(g.k, 3), bias_md, fwd.bias_desc());
        m_args[DNNL_ARG_BIAS] = m_bias.primitive;
        m_bias.upload();
      }
      bind(fwd, {{DNNL_ARG_SRC, &m_in0}, {DNNL_ARG_WEIGHTS, &m_in1}, {DNNL_ARG_DST, &m_out}});
      break;
    case Pass::backward_data: {
      const dnnl::convolution_backward_data::primitive_desc pd =
          EDGEROOF_ONEDNN_CHECK(dnnl::convolution_backward_data::primitive_desc(
              dnnl::convolution_backward_data::desc(algo, any(src), any(wei), any(dst), strides, dilates, pad_l, pad_r),
              engine(), fwd));
      m_in0 = Tensor(fill(g.output_size(), 4), plain(dst, tag::nchw), pd.diff_dst_desc());
      m_in1 = Tensor(fill(g.weight_size(), 2), plain(wei, wei_tag), pd.weights_desc());
      m_out = Tensor({}, plain(src, tag::nchw), pd.diff_src_desc());
      bind(pd, {{DNNL_ARG_DIFF_DST, &m_in0}, {DNNL_ARG_WEIGHTS, &m_in1}, {DNNL_ARG_DIFF_SRC, &m_out}});
      break;
    }
    case Pass::backward_weights: {
      const dnnl::convolution_backward_weights::primitive_desc pd =
          EDGEROOF_ONEDNN_CHECK(dnnl::convolution_backward_weights::primitive_desc(
              dnnl::convolution_backward_weights::desc(algo, any(src), any(wei), bias_md, any(dst), strides, dilates,
                                                       pad_l, pad_r),
              engine(), fwd));
      m_in0 = Tensor(fill(g.input_size(), 1), plain(src, tag::nchw), pd.src_desc());
      m_in1 = Tensor(fill(g.output_size(), 4), plain(dst, tag::nchw), pd.diff_dst_desc());
      m_out = Tensor({}, plain(wei, wei_tag), pd.diff_weights_desc());
      if (g.bias) {
        m_bias = Tensor({}, bias_md, pd.diff_bias_desc());
        m_args[DNNL_ARG_DIFF_BIAS] = m_bias.primitive;
      }
      bind(pd, {{DNNL_ARG_SRC, &m_in0}, {DNNL_ARG_DIFF_DST, &m_in1}, {DNNL_ARG_DIFF_WEIGHTS, &m_out}});
      break;
    }
    }
  }
  double do_max_relative_error() override {
    const float* a = m_in0.host.data();
    const float* b = m_in1.host.data();
    switch (pass()) {
    case Pass::forward:
      return sampled_error(
          m_out, [&](i64 i) { return conv_forward_at(m_g, a, b, m_g.bias ? m_bias.host.data() : nullptr, i); });
    case Pass::backward_data:
      return sampled_error(m_out, [&](i64 i) { return conv_backward_data_at(m_g, a, b, i); });
    case Pass::backward_weights:
      return sampled_error(m_out, [&](i64 i) { return conv_backward_weights_at(m_g, a, b, i); });
    }
    return 0.0;
  }
  ConvGeometry m_g;
  Tensor m_in0, m_in1, m_out, m_bias;
};

// --- linear, matmul, bmm: one matmul primitive per pass --------------------------------------

class Gemm final : public OnednnKernel {
public:
  Gemm(const LayerCost& l, Pass pass) : OnednnKernel(l, pass), m_g(gemm_geometry(l, pass)) {}

private:
  void do_prepare() override {
    const GemmGeometry& g = m_g;
    // A transposed operand is the same row-major buffer read with swapped strides.
    const memory::desc a = g.trans_a ? memory::desc({g.batch, g.m, g.k}, dt::f32, memory::dims{g.m * g.k, 1, g.m})
                                     : plain({g.batch, g.m, g.k}, tag::abc);
    const memory::desc b = g.trans_b ? memory::desc({g.batch_b, g.k, g.n}, dt::f32, memory::dims{g.k * g.n, 1, g.k})
                                     : plain({g.batch_b, g.k, g.n}, tag::abc);
    const memory::desc c = plain({g.batch, g.m, g.n}, tag::abc);
    const dnnl::matmul::primitive_desc pd =
        EDGEROOF_ONEDNN_CHECK(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), engine()));
    m_a = Tensor(fill(g.a_size(), 5), a, a);
    m_b = Tensor(fill(g.b_size(), 6), b, b);
    m_c = Tensor({}, c, c);
    bind(pd, {{DNNL_ARG_SRC, &m_a}, {DNNL_ARG_WEIGHTS, &m_b}, {DNNL_ARG_DST, &m_c}});
  }
  double do_max_relative_error() override {
    return sampled_error(m_c, [&](i64 i) { return gemm_at(m_g, m_a.host.data(), m_b.host.data(), i); });
  }
  GemmGeometry m_g;
  Tensor m_a, m_b, m_c;
};

// --- pooling ---------------------------------------------------------------------------------

class Pool final : public OnednnKernel {
public:
  Pool(const LayerCost& l, Pass pass) : OnednnKernel(l, pass), m_g(pool_geometry(l)) {}

private:
  void do_prepare() override {
    const PoolGeometry& g = m_g;
    const memory::desc src = plain({g.n, g.c, g.h, g.w}, tag::nchw), dst = plain({g.n, g.c, g.p, g.q}, tag::nchw);
    const memory::dims strides{g.stride_h, g.stride_w}, kernel{g.kernel_h, g.kernel_w}, pad_l{g.pad_h, g.pad_w};
    const memory::dims pad_r{(g.p - 1) * g.stride_h + g.kernel_h - g.h - g.pad_h,
                             (g.q - 1) * g.stride_w + g.kernel_w - g.w - g.pad_w};
    const auto algo = g.max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_include_padding;
    const auto prop = pass() == Pass::forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    const dnnl::pooling_forward::primitive_desc fwd = EDGEROOF_ONEDNN_CHECK(dnnl::pooling_forward::primitive_desc(
        dnnl::pooling_forward::desc(prop, algo, src, dst, strides, kernel, pad_l, pad_r), engine()));
    m_x = Tensor(fill(g.input_size(), 7), src, src);
    if (pass() == Pass::forward) {
      m_out = Tensor({}, dst, dst);
      bind(fwd, {{DNNL_ARG_SRC, &m_x}, {DNNL_ARG_DST, &m_out}});
      return;
    }
    // Max pooling's backward needs the forward's workspace (where each maximum was).
    Tensor y({}, dst, dst);
    memory workspace;
    if (g.max) workspace = EDGEROOF_ONEDNN_CHECK(memory(fwd.workspace_desc(), engine()));
    m_x.upload();
    EDGEROOF_ONEDNN_CHECK(dnnl::pooling_forward(fwd).execute(
        stream(), {{DNNL_ARG_SRC, m_x.primitive}, {DNNL_ARG_DST, y.primitive}, {DNNL_ARG_WORKSPACE, workspace}}));
    stream().wait();
    const dnnl::pooling_backward::primitive_desc pd = EDGEROOF_ONEDNN_CHECK(dnnl::pooling_backward::primitive_desc(
        dnnl::pooling_backward::desc(algo, src, dst, strides, kernel, pad_l, pad_r), engine(), fwd));
    m_dy = Tensor(fill(g.output_size(), 8), dst, dst);
    m_out = Tensor({}, src, src);
    if (g.max) m_args[DNNL_ARG_WORKSPACE] = workspace;
    bind(pd, {{DNNL_ARG_DIFF_DST, &m_dy}, {DNNL_ARG_DIFF_SRC, &m_out}});
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward)
      return sampled_error(m_out, [&](i64 i) { return pool_forward_at(m_g, m_x.host.data(), i); });
    return sampled_error(m_out, [&](i64 i) { return pool_backward_at(m_g, m_x.host.data(), m_dy.host.data(), i); });
  }
  PoolGeometry m_g;
  Tensor m_x, m_dy, m_out;
};

// --- activations -----------------------------------------------------------------------------

class Activation final : public OnednnKernel {
public:
  Activation(const LayerCost& l, Pass pass) : OnednnKernel(l, pass), m_op(eltwise_of(l)) {
    for (auto d : l.inputs[0]) m_size *= d;
  }
  [[nodiscard]] double tolerance() const override { return 1e-5; }

private:
  void do_prepare() override {
    static const std::unordered_map<int, std::pair<dnnl::algorithm, float>> algos{
        {int(Eltwise::relu), {dnnl::algorithm::eltwise_relu, 0.0f}},
        {int(Eltwise::gelu), {dnnl::algorithm::eltwise_gelu_erf, 0.0f}},
        {int(Eltwise::silu), {dnnl::algorithm::eltwise_swish, 1.0f}},
        {int(Eltwise::hardswish), {dnnl::algorithm::eltwise_hardswish, 0.0f}},
        {int(Eltwise::sigmoid), {dnnl::algorithm::eltwise_logistic, 0.0f}}};
    const auto [algo, alpha] = algos.at(int(m_op));
    const memory::desc md = plain({m_size}, tag::a);
    const auto prop = pass() == Pass::forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    const dnnl::eltwise_forward::primitive_desc fwd = EDGEROOF_ONEDNN_CHECK(
        dnnl::eltwise_forward::primitive_desc(dnnl::eltwise_forward::desc(prop, algo, md, alpha, 0.0f), engine()));
    // Inputs span [-4, 4) so every branch of hardswish and the tails of GELU are visited.
    m_x = Tensor(fill(m_size, 9, -4.0f, 4.0f), md, md);
    m_out = Tensor({}, md, md);
    if (pass() == Pass::forward) {
      bind(fwd, {{DNNL_ARG_SRC, &m_x}, {DNNL_ARG_DST, &m_out}});
      return;
    }
    const dnnl::eltwise_backward::primitive_desc pd = EDGEROOF_ONEDNN_CHECK(
        dnnl::eltwise_backward::primitive_desc(dnnl::eltwise_backward::desc(algo, md, md, alpha, 0.0f), engine(), fwd));
    m_dy = Tensor(fill(m_size, 10), md, md);
    bind(pd, {{DNNL_ARG_SRC, &m_x}, {DNNL_ARG_DIFF_DST, &m_dy}, {DNNL_ARG_DIFF_SRC, &m_out}});
  }
  double do_max_relative_error() override {
    const float* x = m_x.host.data();
    if (pass() == Pass::forward) {
      return sampled_error(m_out, [&](i64 i) { return eltwise_forward_at(m_op, x[i]); });
    }
    return sampled_error(m_out, [&](i64 i) { return eltwise_backward_at(m_op, x[i], m_dy.host[i]); });
  }
  Eltwise m_op;
  i64 m_size = 1;
  Tensor m_x, m_dy, m_out;
};

// --- softmax over the last axis --------------------------------------------------------------

class Softmax final : public OnednnKernel {
public:
  Softmax(const LayerCost& l, Pass pass) : OnednnKernel(l, pass), m_g(softmax_geometry(l)) {}
  [[nodiscard]] double tolerance() const override { return 1e-5; }

private:
  void do_prepare() override {
    const memory::desc md = plain({m_g.rows, m_g.cols}, tag::ab);
    const auto prop = pass() == Pass::forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    const dnnl::softmax_forward::primitive_desc fwd = EDGEROOF_ONEDNN_CHECK(
        dnnl::softmax_forward::primitive_desc(dnnl::softmax_forward::desc(prop, md, 1), engine()));
    m_x = Tensor(fill(m_g.rows * m_g.cols, 11, -4.0f, 4.0f), md, md);
    m_y = Tensor({}, md, md);
    bind(fwd, {{DNNL_ARG_SRC, &m_x}, {DNNL_ARG_DST, &m_y}});
    if (pass() == Pass::forward) return;
    (void)m_y.download();
    const dnnl::softmax_backward::primitive_desc pd = EDGEROOF_ONEDNN_CHECK(
        dnnl::softmax_backward::primitive_desc(dnnl::softmax_backward::desc(md, md, 1), engine(), fwd));
    m_dy = Tensor(fill(m_g.rows * m_g.cols, 12), md, md);
    m_out = Tensor({}, md, md);
    m_args.clear();
    bind(pd, {{DNNL_ARG_DST, &m_y}, {DNNL_ARG_DIFF_DST, &m_dy}, {DNNL_ARG_DIFF_SRC, &m_out}});
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward)
      return sampled_error(m_y, [&](i64 i) { return softmax_forward_at(m_g, m_x.host.data(), i); });
    // The backward is checked against its own inputs: y as the forward produced it.
    return sampled_error(m_out, [&](i64 i) { return softmax_backward_at(m_g, m_y.host.data(), m_dy.host.data(), i); });
  }
  RowGeometry m_g;
  Tensor m_x, m_y, m_dy, m_out;
};

// --- normalizations: what batch and layer normalization bind alike -----------------------------

class Normalization : public OnednnKernel {
protected:
  using OnednnKernel::OnednnKernel;
  // Training forward: normalizes x with its own statistics, which it writes to m_mean and m_var.
  template <class ForwardDesc>
  void bind_training_forward(const ForwardDesc& pd, Tensor& y) {
    bind(pd, {{DNNL_ARG_SRC, &m_x},
              {DNNL_ARG_SCALE, &m_gamma},
              {DNNL_ARG_SHIFT, &m_beta},
              {DNNL_ARG_DST, &y},
              {DNNL_ARG_MEAN, &m_mean},
              {DNNL_ARG_VARIANCE, &m_var}});
  }
  // Backward of x, gamma and beta from dy, with the statistics of the training forward.
  template <class BackwardDesc>
  void bind_backward(const BackwardDesc& pd, std::vector<float> dy, const memory::desc& md,
                     const memory::desc& channel) {
    m_dy = Tensor(std::move(dy), md, md);
    m_dgamma = Tensor({}, channel, channel);
    m_dbeta = Tensor({}, channel, channel);
    m_args.clear();
    bind(pd, {{DNNL_ARG_SRC, &m_x},
              {DNNL_ARG_MEAN, &m_mean},
              {DNNL_ARG_VARIANCE, &m_var},
              {DNNL_ARG_DIFF_DST, &m_dy},
              {DNNL_ARG_SCALE, &m_gamma},
              {DNNL_ARG_SHIFT, &m_beta},
              {DNNL_ARG_DIFF_SRC, &m_out},
              {DNNL_ARG_DIFF_SCALE, &m_dgamma},
              {DNNL_ARG_DIFF_SHIFT, &m_dbeta}});
  }
  Tensor m_x, m_gamma, m_beta, m_mean, m_var, m_dy, m_out, m_dgamma, m_dbeta;
};

// --- batch normalization ---------------------------------------------------------------------

class Batchnorm final : public Normalization {
public:
  Batchnorm(const LayerCost& l, Pass pass) : Normalization(l, pass), m_g(norm_geometry(l)) {}
  [[nodiscard]] double tolerance() const override { return 1e-4; }

private:
  void do_prepare() override {
    using flags = dnnl::normalization_flags;
    const memory::desc md = plain({m_g.n, m_g.c, m_g.spatial, 1}, tag::nchw), channel = plain({m_g.c}, tag::a);
    m_x = Tensor(fill(m_g.size(), 13), md, md);
    m_gamma = Tensor(fill(m_g.c, 14, 0.5f, 1.5f), channel, channel);
    m_beta = Tensor(fill(m_g.c, 15), channel, channel);
    m_mean = Tensor(fill(m_g.c, 16, -0.5f, 0.5f), channel, channel);
    m_var = Tensor(fill(m_g.c, 17, 0.5f, 1.5f), channel, channel);
    m_out = Tensor({}, md, md);
    const float eps = static_cast<float>(batchnorm_epsilon);
    if (pass() == Pass::forward && training_forward(layer())) {
      // Training forward: normalizes with the batch's statistics, which it also writes out.
      const dnnl::batch_normalization_forward::primitive_desc pd =
          EDGEROOF_ONEDNN_CHECK(dnnl::batch_normalization_forward::primitive_desc(
              dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, md, eps,
                                                      flags::use_scale | flags::use_shift),
              engine()));
      bind(pd, {{DNNL_ARG_SRC, &m_x},
                {DNNL_ARG_SCALE, &m_gamma},
                {DNNL_ARG_SHIFT, &m_beta},
                {DNNL_ARG_DST, &m_out},
                {DNNL_ARG_MEAN, &m_mean},
                {DNNL_ARG_VARIANCE, &m_var}});
      return;
    }
    if (pass() == Pass::forward) {
      const dnnl::batch_normalization_forward::primitive_desc pd =
          EDGEROOF_ONEDNN_CHECK(dnnl::batch_normalization_forward::primitive_desc(
              dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_inference, md, eps,
                                                      flags::use_global_stats | flags::use_scale | flags::use_shift),
              engine()));
      bind(pd, {{DNNL_ARG_SRC, &m_x},
                {DNNL_ARG_MEAN, &m_mean},
                {DNNL_ARG_VARIANCE, &m_var},
                {DNNL_ARG_SCALE, &m_gamma},
                {DNNL_ARG_SHIFT, &m_beta},
                {DNNL_ARG_DST, &m_out}});
      return;
    }
    // Training: the forward computes the batch statistics the backward uses. oneDNN 2.x asks for
    // the shift in the backward too, although the input gradient does not depend on it.
    const dnnl::batch_normalization_forward::primitive_desc fwd =
        EDGEROOF_ONEDNN_CHECK(dnnl::batch_normalization_forward::primitive_desc(
            dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, md, eps,
                                                    flags::use_scale | flags::use_shift),
            engine()));
    Tensor y({}, md, md);
    bind_training_forward(fwd, y);
    const dnnl::batch_normalization_backward::primitive_desc pd =
        EDGEROOF_ONEDNN_CHECK(dnnl::batch_normalization_backward::primitive_desc(
            dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, md, md, eps,
                                                     flags::use_scale | flags::use_shift),
            engine(), fwd));
    bind_backward(pd, fill(m_g.size(), 18), md, channel);
  }
  double do_max_relative_error() override {
    const float* x = m_x.host.data();
    if (pass() == Pass::forward) {
      if (training_forward(layer())) {
        return sampled_error(
            m_out, [&](i64 i) { return batchnorm_training_at(m_g, x, m_gamma.host.data(), m_beta.host.data(), i); });
      }
      return sampled_error(m_out, [&](i64 i) {
        return batchnorm_inference_at(m_g, x, m_gamma.host.data(), m_beta.host.data(), m_mean.host.data(),
                                      m_var.host.data(), i);
      });
    }
    return sampled_error(
        m_out, [&](i64 i) { return batchnorm_backward_at(m_g, x, m_dy.host.data(), m_gamma.host.data(), i); });
  }
  NormGeometry m_g;
};

// --- layer normalization over the last axis --------------------------------------------------

class Layernorm final : public Normalization {
public:
  Layernorm(const LayerCost& l, Pass pass) : Normalization(l, pass), m_g(layernorm_geometry(l)) {}

private:
  void do_prepare() override {
    using flags = dnnl::normalization_flags;
    const memory::desc md = plain({m_g.rows, m_g.cols}, tag::ab), channel = plain({m_g.cols}, tag::a);
    const float eps = static_cast<float>(layernorm_epsilon);
    m_x = Tensor(fill(m_g.rows * m_g.cols, 21), md, md);
    m_gamma = Tensor(fill(m_g.cols, 22, 0.5f, 1.5f), channel, channel);
    m_beta = Tensor(fill(m_g.cols, 23), channel, channel);
    m_out = Tensor({}, md, md);
    const auto prop = pass() == Pass::forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    const dnnl::layer_normalization_forward::primitive_desc fwd =
        EDGEROOF_ONEDNN_CHECK(dnnl::layer_normalization_forward::primitive_desc(
            dnnl::layer_normalization_forward::desc(prop, md, eps, flags::use_scale | flags::use_shift), engine()));
    if (pass() == Pass::forward) {
      bind(fwd, {{DNNL_ARG_SRC, &m_x}, {DNNL_ARG_SCALE, &m_gamma}, {DNNL_ARG_SHIFT, &m_beta}, {DNNL_ARG_DST, &m_out}});
      return;
    }
    // The training forward leaves each row's mean and variance for the backward.
    m_mean = Tensor({}, fwd.mean_desc(), fwd.mean_desc());
    m_var = Tensor({}, fwd.variance_desc(), fwd.variance_desc());
    Tensor y({}, md, md);
    bind_training_forward(fwd, y);
    const dnnl::layer_normalization_backward::primitive_desc pd =
        EDGEROOF_ONEDNN_CHECK(dnnl::layer_normalization_backward::primitive_desc(
            dnnl::layer_normalization_backward::desc(dnnl::prop_kind::backward, md, md, eps,
                                                     flags::use_scale | flags::use_shift),
            engine(), fwd));
    bind_backward(pd, fill(m_g.rows * m_g.cols, 24), md, channel);
  }
  double do_max_relative_error() override {
    const float* x = m_x.host.data();
    if (pass() == Pass::forward) {
      return sampled_error(
          m_out, [&](i64 i) { return layernorm_forward_at(m_g, x, m_gamma.host.data(), m_beta.host.data(), i); });
    }
    return sampled_error(
        m_out, [&](i64 i) { return layernorm_backward_at(m_g, x, m_dy.host.data(), m_gamma.host.data(), i); });
  }
  RowGeometry m_g;
};

// --- concat (forward: oneDNN concat; backward: one reorder per input out of dy) --------------

class Concat final : public OnednnKernel {
public:
  Concat(const LayerCost& l, Pass pass) : OnednnKernel(l, pass), m_g(concat_geometry(l)) {}
  [[nodiscard]] double tolerance() const override { return 0.0; }  // copies are exact

private:
  // Each tensor viewed as [outer, extent, inner], row-major.
  memory::desc view(i64 extent) const { return plain({m_g.outer, extent, m_g.inner}, tag::abc); }
  void do_prepare() override {
    const memory::desc whole = view(m_g.total_extent());
    std::vector<memory::desc> parts;
    for (std::size_t j = 0; j < m_g.extents.size(); ++j) parts.push_back(view(m_g.extents[j]));
    if (pass() == Pass::forward) {
      const dnnl::concat::primitive_desc pd =
          EDGEROOF_ONEDNN_CHECK(dnnl::concat::primitive_desc(whole, 1, parts, engine()));
      m_parts.clear();
      for (std::size_t j = 0; j < parts.size(); ++j)
        m_parts.emplace_back(fill(m_g.input_size(j), 25 + std::uint32_t(j)), parts[j], parts[j]);
      m_whole = Tensor({}, whole, whole);
      for (std::size_t j = 0; j < parts.size(); ++j) {
        m_args[DNNL_ARG_MULTIPLE_SRC + int(j)] = m_parts[j].primitive;
        m_parts[j].upload();
      }
      // concat's descriptor is not a dnnl::primitive_desc, so it is bound here rather than by bind().
      m_primitive = EDGEROOF_ONEDNN_CHECK(dnnl::concat(pd));
      m_args[DNNL_ARG_DST] = m_whole.primitive;
      set_algorithm(std::string("onednn:") + pd.impl_info_str());
      do_run();
      return;
    }
    // The backward splits dy: input j's gradient is the slice of dy at its offset.
    m_whole = Tensor(fill(m_g.output_size(), 30), whole, whole);
    m_parts.clear();
    m_splits.clear();
    for (std::size_t j = 0; j < parts.size(); ++j) {
      m_parts.emplace_back(std::vector<float>{}, parts[j], parts[j]);
      const memory::desc slice = whole.submemory_desc({m_g.outer, m_g.extents[j], m_g.inner}, {0, m_g.offset(j), 0});
      const memory source = EDGEROOF_ONEDNN_CHECK(memory(slice, engine(), m_whole.host.data()));
      m_splits.push_back({EDGEROOF_ONEDNN_CHECK(dnnl::reorder(source, m_parts[j].primitive)), source});
    }
    set_algorithm("onednn:reorder_split");
    do_run();
  }
  void do_run() override {
    if (pass() == Pass::forward) return OnednnKernel::do_run();
    for (std::size_t j = 0; j < m_splits.size(); ++j) {
      EDGEROOF_ONEDNN_CHECK(m_splits[j].first.execute(stream(), m_splits[j].second, m_parts[j].primitive));
    }
    stream().wait();
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward) {
      std::vector<const float*> inputs;
      for (const auto& p : m_parts) inputs.push_back(p.host.data());
      return sampled_error(m_whole, [&](i64 i) { return concat_forward_at(m_g, inputs, i); });
    }
    double worst = 0.0;
    for (std::size_t j = 0; j < m_parts.size(); ++j) {
      worst = std::max(
          worst, sampled_error(m_parts[j], [&](i64 i) { return concat_backward_at(m_g, m_whole.host.data(), j, i); }));
    }
    return worst;
  }
  ConcatGeometry m_g;
  std::vector<Tensor> m_parts;
  Tensor m_whole;
  std::vector<std::pair<dnnl::reorder, memory>> m_splits;
};

// --- nearest upsampling ------------------------------------------------------------------------

class Upsample final : public OnednnKernel {
public:
  Upsample(const LayerCost& l, Pass pass) : OnednnKernel(l, pass), m_g(upsample_geometry(l)) {}
  [[nodiscard]] double tolerance() const override { return 1e-6; }

private:
  void do_prepare() override {
    const UpsampleGeometry& g = m_g;
    const memory::desc src = plain({g.n, g.c, g.h, g.w}, tag::nchw),
                       dst = plain({g.n, g.c, g.h * g.scale, g.w * g.scale}, tag::nchw);
    const auto algo = dnnl::algorithm::resampling_nearest;
    const auto prop = pass() == Pass::forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    const dnnl::resampling_forward::primitive_desc fwd = EDGEROOF_ONEDNN_CHECK(
        dnnl::resampling_forward::primitive_desc(dnnl::resampling_forward::desc(prop, algo, src, dst), engine()));
    if (pass() == Pass::forward) {
      m_in = Tensor(fill(g.input_size(), 31), src, src);
      m_out = Tensor({}, dst, dst);
      bind(fwd, {{DNNL_ARG_SRC, &m_in}, {DNNL_ARG_DST, &m_out}});
      return;
    }
    const dnnl::resampling_backward::primitive_desc pd = EDGEROOF_ONEDNN_CHECK(
        dnnl::resampling_backward::primitive_desc(dnnl::resampling_backward::desc(algo, src, dst), engine(), fwd));
    m_in = Tensor(fill(g.output_size(), 32), dst, dst);
    m_out = Tensor({}, src, src);
    bind(pd, {{DNNL_ARG_DIFF_DST, &m_in}, {DNNL_ARG_DIFF_SRC, &m_out}});
  }
  double do_max_relative_error() override {
    if (pass() == Pass::forward)
      return sampled_error(m_out, [&](i64 i) { return upsample_forward_at(m_g, m_in.host.data(), i); });
    return sampled_error(m_out, [&](i64 i) { return upsample_backward_at(m_g, m_in.host.data(), i); });
  }
  UpsampleGeometry m_g;
  Tensor m_in, m_out;
};

// --- elementwise add / mul -------------------------------------------------------------------

class Binary final : public OnednnKernel {
public:
  Binary(const LayerCost& l, Pass pass) : OnednnKernel(l, pass), m_g(binary_geometry(l)) {}
  [[nodiscard]] double tolerance() const override { return 1e-6; }

private:
  static memory::desc row_major(const Shape& shape) {
    memory::dims strides(shape.size(), 1);
    for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
    return memory::desc(memory::dims(shape.begin(), shape.end()), dt::f32, strides);
  }
  void do_prepare() override {
    const memory::desc a = row_major(m_g.a), b = row_major(m_g.b);
    const auto algo = m_g.mul ? dnnl::algorithm::binary_mul : dnnl::algorithm::binary_add;
    const dnnl::binary::primitive_desc pd =
        EDGEROOF_ONEDNN_CHECK(dnnl::binary::primitive_desc(dnnl::binary::desc(algo, a, b, a), engine()));
    m_a = Tensor(fill(m_g.size(), 19), a, a);
    m_b = Tensor(fill(m_g.b_size(), 20), b, b);
    m_out = Tensor({}, a, a);
    bind(pd, {{DNNL_ARG_SRC_0, &m_a}, {DNNL_ARG_SRC_1, &m_b}, {DNNL_ARG_DST, &m_out}});
  }
  double do_max_relative_error() override {
    return sampled_error(m_out, [&](i64 i) { return binary_at(m_g, m_a.host.data(), m_b.host.data(), i); });
  }
  BinaryGeometry m_g;
  Tensor m_a, m_b, m_out;
};

}  // namespace

bool cpu_layer_supported(const LayerCost& l, Pass pass, std::string* why) {
  if (l.dtype != "fp32") {
    if (why) *why = "the oneDNN layer kernels run fp32 only, not " + l.dtype;
    return false;
  }
  return detail::layer_supported(l, pass, why);
}

std::unique_ptr<LayerKernel> make_cpu_layer_kernel(const LayerCost& l, Pass pass) {
  std::string why;
  if (!cpu_layer_supported(l, pass, &why))
    throw LayerKernelError("no oneDNN kernel for layer '" + l.name + "': " + why);
  if (l.op == "conv2d") return std::make_unique<Conv>(l, pass);
  if (l.op == "linear" || l.op == "matmul" || l.op == "bmm") return std::make_unique<Gemm>(l, pass);
  if (l.op == "maxpool" || l.op == "avgpool") return std::make_unique<Pool>(l, pass);
  if (l.op == "softmax") return std::make_unique<Softmax>(l, pass);
  if (l.op == "batchnorm") return std::make_unique<Batchnorm>(l, pass);
  if (l.op == "layernorm") return std::make_unique<Layernorm>(l, pass);
  if (l.op == "concat") return std::make_unique<Concat>(l, pass);
  if (l.op == "upsample") return std::make_unique<Upsample>(l, pass);
  if (l.op == "add" || l.op == "mul") return std::make_unique<Binary>(l, pass);
  return std::make_unique<Activation>(l, pass);
}

std::optional<std::string> onednn_version() {
  const dnnl_version_t* v = dnnl::version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace edgeroof::dnn
