// The optimizer kernels (SGD, SGD with momentum, Adam) against their scalar definition: the
// reference at hand-computed steps, the CPU kernel's sampled check after many steps, a deliberately
// wrong kernel that the check must catch, and the updates no kernel runs.
#include "edgeroof/dnn/layer_kernels.hpp"
#include "edgeroof/dnn/optimizer_kernels.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace edgeroof::dnn;

namespace {

// An update as dnn/model writes it: the parameters of one layer, weight and bias.
LayerCost update(const std::string& op, const std::string& dtype = "fp32") {
  LayerCost l;
  l.name = "fc/update";
  l.op = op;
  l.phase = "optimizer";
  l.inputs = {{1000, 2048}, {1000}};
  l.outputs = l.inputs;
  l.dtype = dtype;
  l.step = Step::training;
  return l;
}

// SGD that steps twice as far as it should: its own state on the host, read through the same
// check as the real kernels.
class WrongSgd final : public OptimizerKernel {
public:
  using OptimizerKernel::OptimizerKernel;
  [[nodiscard]] std::string algorithm() const override { return "test:wrong-sgd"; }

private:
  void do_prepare() override {
    m_w.assign(static_cast<std::size_t>(parameters()), 0.5f);
    m_g.assign(m_w.size(), 0.25f);
  }
  void do_step(std::int64_t) override {
    for (std::size_t i = 0; i < m_w.size(); ++i) m_w[i] -= 2.0f * settings().lr * m_g[i];
  }
  std::vector<OptimizerElement> do_read(const std::vector<std::int64_t>& indices) override {
    std::vector<OptimizerElement> out;
    for (auto i : indices) out.push_back({m_w[std::size_t(i)], m_g[std::size_t(i)], 0.0, 0.0});
    return out;
  }
  std::vector<float> m_w, m_g;
};

}  // namespace

TEST(OptimizerReference, StepsFollowTheDefinitions) {
  const OptimizerSettings s;  // lr 1e-3, momentum 0.9, betas 0.9 / 0.999, eps 1e-8
  const OptimizerElement e{1.0, 0.5, 0.2, 0.04};
  EXPECT_DOUBLE_EQ(optimizer_reference(Optimizer::sgd, s, e, 1).w, 1.0 - double(s.lr) * 0.5);
  // Momentum: v = 0.9 * 0.04 + 0.5 = 0.536; w = 1 - lr * 0.536.
  const auto mom = optimizer_reference(Optimizer::sgd_momentum, s, e, 7);
  EXPECT_NEAR(mom.v, 0.536, 1e-7);
  EXPECT_NEAR(mom.w, 1.0 - 1e-3 * 0.536, 1e-9);
  // Adam's first step from zero moments: m_hat = g and v_hat = g^2, so w moves by lr * g / (|g| + eps).
  const auto first = optimizer_reference(Optimizer::adam, s, {1.0, -0.5, 0.0, 0.0}, 1);
  EXPECT_NEAR(first.m, -0.05, 1e-7);
  EXPECT_NEAR(first.v, 0.00025, 1e-8);
  EXPECT_NEAR(first.w, 1.0 + 1e-3 * 0.5 / (0.5 + 1e-8), 1e-9);
  // (The settings are floats: 0.9f and 0.999f differ from 0.9 and 0.999 by about 1e-8.)
  // Step 2 from m = 0.2, v = 0.04 with g = 0.5: m = 0.23, v = 0.04021; corrections 1 - 0.9^2, 1 - 0.999^2.
  const auto second = optimizer_reference(Optimizer::adam, s, e, 2);
  EXPECT_NEAR(second.m, 0.23, 1e-7);
  EXPECT_NEAR(second.v, 0.999 * 0.04 + 0.001 * 0.25, 1e-8);
  const double direction = (0.23 / 0.19) / (std::sqrt((0.999 * 0.04 + 0.001 * 0.25) / (1.0 - 0.998001)) + 1e-8);
  EXPECT_NEAR(second.w, 1.0 - 1e-3 * direction, 1e-8);
}

TEST(OptimizerKernels, CpuKernelsMatchTheReferenceAfterManySteps) {
  for (const char* op : {"sgd", "sgd_momentum", "adam"}) {
    const auto kernel = make_cpu_optimizer_kernel(update(op));
    EXPECT_EQ(kernel->parameters(), 1000 * 2048 + 1000) << op;
    EXPECT_EQ(kernel->algorithm(), std::string("cpu:") + op + ":openmp");
    kernel->prepare();
    // Far into the run, where Adam's bias corrections have moved and the state has drifted.
    for (int i = 0; i < 50; ++i) kernel->run();
    const double error = kernel->max_relative_error();
    EXPECT_LE(error, kernel->tolerance()) << op;
    EXPECT_TRUE(std::isfinite(error)) << op;
  }
}

TEST(OptimizerKernels, SmallUpdatesAreCheckedOnEveryElement) {
  LayerCost bias = update("adam");
  bias.inputs = {{3}};
  const auto kernel = make_cpu_optimizer_kernel(bias);
  EXPECT_EQ(kernel->parameters(), 3);
  kernel->prepare();
  kernel->run();
  EXPECT_LE(kernel->max_relative_error(), kernel->tolerance());
}

TEST(OptimizerKernels, TheCheckCatchesAWrongStep) {
  WrongSgd wrong(update("sgd"));
  wrong.prepare();
  // w = 0.5 - 2 lr 0.25 against 0.5 - lr 0.25: off by lr/4 over a magnitude of about 0.5.
  EXPECT_NEAR(wrong.max_relative_error(), 0.25e-3 / (0.5 - 0.5e-3 + 0.25e-3), 1e-6);
  EXPECT_GT(wrong.max_relative_error(), wrong.tolerance());
}

TEST(OptimizerKernels, UnsupportedUpdatesSayWhy) {
  std::string why;
  EXPECT_FALSE(optimizer_supported(update("adam", "fp16"), &why));
  EXPECT_EQ(why, "the optimizer kernels run fp32 only, not fp16");
  EXPECT_FALSE(optimizer_supported(update("lamb"), &why));
  EXPECT_EQ(why, "no kernel for optimizer lamb (sgd, sgd_momentum, adam)");
  LayerCost forward = update("sgd");
  forward.phase = "forward";
  EXPECT_FALSE(optimizer_supported(forward, &why));
  EXPECT_EQ(why, "phase forward is not an optimizer update");
  EXPECT_THROW((void)make_cpu_optimizer_kernel(update("adam", "fp16")), LayerKernelError);
}

TEST(OptimizerKernels, WorkloadUpdatesAreRunAsTheirOwnInstances) {
  WorkloadOptions options;
  options.train = "adam";
  options.fused_attention = false;
  const Workload w = build_workload("resnet50", options);
  const auto instances = layer_instances(w);
  ASSERT_EQ(instances.size(), w.layers.size());
  std::int64_t parameters = 0;
  int updates = 0;
  for (const auto& i : instances) {
    const auto& l = w.layers[i.index];
    if (l.phase != "optimizer") continue;
    ++updates;
    EXPECT_FALSE(i.pass.has_value()) << l.name;
    EXPECT_EQ(i.token, "update") << l.name;
    EXPECT_TRUE(optimizer_supported(l)) << l.name;
    parameters += OptimizerKernel::parameters_of(l);
  }
  EXPECT_GT(updates, 100);
  // torchvision's ResNet-50 has 25,557,032 parameters.
  EXPECT_EQ(parameters, 25557032);
}
