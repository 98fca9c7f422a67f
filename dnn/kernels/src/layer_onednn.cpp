// CPU layer kernels through oneDNN 2.x. Activations and weights are handed over in plain
// (NCHW/OIHW) layouts; primitives that benefit from blocked layouts get them (format "any") and
// the reorders happen in prepare() and in the check, never in run().
#include "layer_onednn.hpp"

#include <algorithm>

namespace edgeroof::dnn {
namespace detail::onednn {

dnnl::engine& engine() {
  static dnnl::engine instance(dnnl::engine::kind::cpu, 0);
  return instance;
}

dnnl::stream& stream() {
  static dnnl::stream instance(engine());
  return instance;
}

}  // namespace detail::onednn

namespace {

using namespace detail;
using namespace detail::onednn;

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
  if (auto kernel = detail::onednn::make_data_kernel(l, pass)) return kernel;
  return std::make_unique<Activation>(l, pass);
}

std::optional<std::string> onednn_version() {
  const dnnl_version_t* v = dnnl::version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace edgeroof::dnn
