// The typed parameters of a layer drive both its analytic counts (dnn_model) and the problem its
// kernel solves (dnn_kernels): one struct, so the two cannot disagree.
#include "../../dnn/kernels/src/layer_problem.hpp"
#include "edgeroof/dnn/layer_kernels.hpp"
#include "edgeroof/dnn/ops.hpp"

#include <gtest/gtest.h>

#include <string>

namespace edgeroof::dnn {
namespace {

namespace d = detail;

WorkloadOptions options(const std::string& train = "") {
  WorkloadOptions o;
  o.batch = 2;
  o.train = train;
  return o;
}

LayerCost forward_layer(const Workload& w, const std::string& name) {
  for (const auto& l : w.layers)
    if (l.name == name && l.phase == "forward") return l;
  throw std::runtime_error("no forward layer " + name);
}

TEST(TypedLayers, AStridedPaddedConvHasOneOutputShapeInTheTableAndTheKernelProblem) {
  Builder b("t", options());
  Conv2dParams p;
  p.out_channels = 8;
  p.kernel = {3, 3};
  p.stride = {2, 2};
  p.padding = {1, 1};
  const Tensor y = b.conv2d("c", b.input({2, 3, 9, 9}), p);
  const Workload w = b.finish();
  const LayerCost l = forward_layer(w, "c");
  EXPECT_EQ(y.shape, (Shape{2, 8, 5, 5}));  // (9 + 2 - 3) / 2 + 1
  EXPECT_EQ(to_json(w)["layers"][0]["outputs"][0], nlohmann::json({2, 8, 5, 5}));
  const d::ConvGeometry g = d::conv_geometry(l);
  EXPECT_EQ(g.output_size(), 2 * 8 * 5 * 5);
  EXPECT_EQ(g.p, 5);
  EXPECT_EQ(g.q, 5);
  EXPECT_EQ(g.stride_h, 2);
  EXPECT_EQ(g.pad_w, 1);
  EXPECT_EQ(g.r, 3);
  // The table's FLOPs are the kernel problem's multiply-adds, twice.
  EXPECT_DOUBLE_EQ(l.flops, 2.0 * double(g.output_size()) * double(g.c / g.groups * g.r * g.s));
  std::string why;
  EXPECT_TRUE(cpu_layer_supported(l, Pass::forward, &why)) << why;
}

TEST(TypedLayers, APoolWindowIsTheSameForCountingAndTheKernel) {
  Builder b("t", options());
  const Tensor y = b.maxpool("mp", b.input({2, 4, 8, 8}), {{3, 3}, {2, 2}, {1, 1}});
  const LayerCost l = forward_layer(b.finish(), "mp");
  const d::PoolGeometry g = d::pool_geometry(l);
  EXPECT_EQ(y.shape, (Shape{2, 4, 4, 4}));
  EXPECT_EQ((Shape{g.n, g.c, g.p, g.q}), y.shape);
  EXPECT_EQ(g.kernel_h, 3);
  EXPECT_EQ(g.stride_w, 2);
  EXPECT_EQ(g.pad_h, 1);
  // A global pool's window is the whole input, written as its parameters.
  Builder gb("t", options());
  (void)gb.global_avgpool("gap", gb.input({2, 4, 7, 7}));
  const d::PoolGeometry global = d::pool_geometry(forward_layer(gb.finish(), "gap"));
  EXPECT_EQ(global.kernel_h, 7);
  EXPECT_EQ(global.stride_h, 1);
  EXPECT_EQ(global.p, 1);
}

TEST(TypedLayers, NormalizationEpsilonComesFromTheLayer) {
  Builder b("t", options());
  (void)b.batchnorm("bn", {{2, 3, 4, 4}, true});
  const LayerCost l = forward_layer(b.finish(), "bn");
  EXPECT_DOUBLE_EQ(d::norm_geometry(l).epsilon, NormParams{}.epsilon);
  LayerCost tighter = l;
  tighter.params = NormParams{1e-3};
  EXPECT_DOUBLE_EQ(d::norm_geometry(tighter).epsilon, 1e-3);
}

TEST(TypedLayers, TheTrainingStepIsATypedFieldThatSelectsTheTrainingForward) {
  WorkloadOptions o = options();
  const auto inference = [&] {
    Builder b("t", o);
    (void)b.batchnorm("bn", {{2, 3, 4, 4}, true});
    return b.finish();
  }();
  o.train = "sgd";
  Builder tb("t", o);
  (void)tb.batchnorm("bn", {{2, 3, 4, 4}, true});
  const Workload training = tb.finish();
  const auto layers = distinct_layers(inference, &training);
  std::map<std::string, const DistinctLayer*> by_token;
  for (const auto& l : layers) by_token[l.token] = &l;
  ASSERT_EQ(by_token.size(), 3u);  // fwd, fwd_train, bwd_data
  EXPECT_EQ(by_token.at("fwd")->forward.step, Step::inference);
  EXPECT_EQ(by_token.at("fwd_train")->forward.step, Step::training);
  EXPECT_FALSE(d::training_forward(by_token.at("fwd")->forward, Pass::forward));
  EXPECT_TRUE(d::training_forward(by_token.at("fwd_train")->forward, Pass::forward));
  // The backward runs its own training forward for the statistics; it is not a forward itself.
  EXPECT_FALSE(d::training_forward(by_token.at("bwd_data")->forward, Pass::backward_data));
}

TEST(TypedLayers, ALayerWithoutItsOpsParametersIsRefusedByName) {
  Builder b("t", options());
  Conv2dParams p;
  p.out_channels = 2;
  (void)b.conv2d("c", b.input({1, 2, 3, 3}), p);
  LayerCost l = forward_layer(b.finish(), "c");
  l.params = LinearParams{};
  try {
    (void)d::conv_geometry(l);
    FAIL() << "no error";
  } catch (const LayerKernelError& e) {
    EXPECT_STREQ(e.what(), "layer 'c' (conv2d): carries no convolution parameters");
  }
  std::string why;
  EXPECT_FALSE(cpu_layer_supported(l, Pass::forward, &why));
  EXPECT_EQ(why, "layer 'c' (conv2d): carries no convolution parameters");
  l.params = Conv2dParams{3, {1, 1}, {1, 1}, {0, 0}, {1, 1}, 1, false};  // 3 output channels, not 2
  EXPECT_THROW((void)d::conv_geometry(l), LayerKernelError);
}

}  // namespace
}  // namespace edgeroof::dnn
