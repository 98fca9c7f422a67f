// oneDNN kernels of the normalizations (batch and layer), concat, nearest upsampling and the
// elementwise add and mul.
#include "layer_onednn.hpp"

#include <algorithm>

namespace edgeroof::dnn::detail::onednn {
namespace {

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
    const float eps = static_cast<float>(m_g.epsilon);
    if (training_forward(layer(), pass())) {
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
      if (training_forward(layer(), pass())) {
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
    const float eps = static_cast<float>(m_g.epsilon);
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

std::unique_ptr<LayerKernel> make_data_kernel(const LayerCost& l, Pass pass) {
  if (l.op == "batchnorm") return std::make_unique<Batchnorm>(l, pass);
  if (l.op == "layernorm") return std::make_unique<Layernorm>(l, pass);
  if (l.op == "concat") return std::make_unique<Concat>(l, pass);
  if (l.op == "upsample") return std::make_unique<Upsample>(l, pass);
  if (l.op == "add" || l.op == "mul") return std::make_unique<Binary>(l, pass);
  return nullptr;
}

}  // namespace edgeroof::dnn::detail::onednn
