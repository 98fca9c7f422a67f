// Layer kernels: the layer families' selection, the direct references the checks use (against hand
// derivations), and the oneDNN kernels on small shapes against those references.
#include "../../dnn/kernels/src/layer_problem.hpp"
#include "edgeroof/config.hpp"
#include "edgeroof/dnn/layer_kernels.hpp"
#include "layer_test_cases.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace {

using namespace edgeroof::dnn;
namespace d = edgeroof::dnn::detail;
using edgeroof::dnn::layer_cases::conv;
using edgeroof::dnn::layer_cases::simple;

LayerCost phase_of(LayerCost l, const std::string& suffix, const std::string& phase, double flops) {
  l.name += suffix;
  l.phase = phase;
  l.flops = flops;
  return l;
}

TEST(LayerPass, TokensAndPhases) {
  EXPECT_EQ(pass_of("forward"), Pass::forward);
  EXPECT_EQ(pass_of("backward_data"), Pass::backward_data);
  EXPECT_EQ(pass_of("backward_weights"), Pass::backward_weights);
  EXPECT_FALSE(pass_of("optimizer").has_value());
  EXPECT_EQ(pass_token(Pass::forward, "conv2d"), "fwd");
  EXPECT_EQ(pass_token(Pass::backward_weights, "conv2d"), "bwd_filter");
  EXPECT_EQ(pass_token(Pass::backward_weights, "linear"), "bwd_weights");
}

TEST(DistinctLayers, DedupesShapesCountsInstancesAndMatchesBackwardToForward) {
  Workload inference;
  inference.layers = {
      conv("layer1.0.conv2", {2, 8, 6, 6}, 8, 3, 1, 1), conv("layer1.1.conv2", {2, 8, 6, 6}, 8, 3, 1, 1),
      conv("layer2.0.conv2", {2, 8, 6, 6}, 8, 3, 2, 1), simple("layer1.0.relu", "relu", {{2, 8, 6, 6}}, {2, 8, 6, 6})};
  Workload training = inference;
  // Backward in reverse layer order, as a training table lists it.
  training.layers.push_back(phase_of(inference.layers[1], "/bwd_filter", "backward_weights", 12.0));
  training.layers.push_back(phase_of(inference.layers[0], "/bwd_data", "backward_data", 10.0));
  training.layers.push_back(phase_of(inference.layers[0], "/bwd_filter", "backward_weights", 11.0));
  training.layers.push_back(phase_of(inference.layers[2], "/update", "optimizer", 13.0));

  const auto layers = distinct_layers(inference, &training);
  ASSERT_EQ(layers.size(), 5u);
  EXPECT_EQ(layers[0].forward.name, "layer1.0.conv2");
  EXPECT_EQ(layers[0].token, "fwd");
  EXPECT_EQ(layers[0].instances, 2);
  EXPECT_EQ(layers[1].forward.name, "layer2.0.conv2");  // stride 2: another shape
  EXPECT_EQ(layers[1].instances, 1);
  EXPECT_EQ(layers[2].forward.op, "relu");
  EXPECT_EQ(layers[3].token, "bwd_data");
  EXPECT_EQ(layers[3].pass, Pass::backward_data);
  EXPECT_EQ(layers[3].counted.flops, 10.0);  // the backward LayerCost's own counts
  EXPECT_EQ(layers[4].token, "bwd_filter");
  EXPECT_EQ(layers[4].pass, Pass::backward_weights);
  EXPECT_EQ(layers[4].instances, 2);
  EXPECT_EQ(layers[4].forward.name, "layer1.0.conv2");
  EXPECT_EQ(layers[4].counted.flops, 11.0);
}

TEST(DistinctLayers, TrainingForwardThatDiffersGetsItsOwnBenchmark) {
  LayerCost bn = simple("bn1", "batchnorm", {{2, 4, 3, 3}, {4}, {4}}, {2, 4, 3, 3});
  bn.flops = 4.0;  // inference: running statistics
  LayerCost conv1 = conv("conv1", {2, 3, 5, 5}, 4, 3, 1, 1);
  Workload inference;
  inference.layers = {conv1, bn};
  Workload training = inference;
  training.layers[1].flops = 7.0;  // training: the batch's statistics as well
  const auto layers = distinct_layers(inference, &training);
  ASSERT_EQ(layers.size(), 3u);  // conv1 and bn1 forward, then bn1 fwd_train; conv1's is the same
  EXPECT_EQ(layers[2].token, "fwd_train");
  EXPECT_EQ(layers[2].pass, Pass::forward);
  EXPECT_EQ(layers[2].counted.flops, 7.0);
  EXPECT_TRUE(d::training_forward(layers[2].forward, layers[2].pass));
  EXPECT_FALSE(d::training_forward(layers[1].forward, layers[1].pass));
}

TEST(DistinctLayers, BmmSecondOperandGradientRunsAsWeightsPass) {
  const LayerCost bmm = simple("attn.scores", "bmm", {{4, 5, 3}, {4, 3, 7}}, {4, 5, 7});
  Workload w;
  w.layers = {bmm, phase_of(bmm, "/bwd_a", "backward_data", 1.0), phase_of(bmm, "/bwd_b", "backward_data", 1.0)};
  const auto layers = distinct_layers(Workload{}, &w);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].token, "bwd_a");
  EXPECT_EQ(layers[0].pass, Pass::backward_data);
  EXPECT_EQ(layers[1].token, "bwd_b");
  EXPECT_EQ(layers[1].pass, Pass::backward_weights);
  const auto g = d::gemm_geometry(bmm, Pass::backward_weights);  // dB[3x7] = A^T[3x5] dC[5x7]
  EXPECT_EQ(g.m, 3);
  EXPECT_EQ(g.n, 7);
  EXPECT_EQ(g.k, 5);
  EXPECT_TRUE(g.trans_a);
}

TEST(LayerGeometry, RejectsInconsistentShapesAndSaysWhy) {
  LayerCost bad = conv("c", {1, 4, 8, 8}, 4, 3, 1, 1);
  bad.outputs = {{1, 4, 7, 7}};
  EXPECT_THROW((void)d::conv_geometry(bad), LayerKernelError);
  std::string why;
  EXPECT_FALSE(cpu_layer_supported(bad, Pass::forward, &why));
  EXPECT_NE(why.find("output shape"), std::string::npos) << why;

  LayerCost half = conv("c", {1, 4, 8, 8}, 4, 3, 1, 1);
  half.dtype = "fp16";
  EXPECT_FALSE(cpu_layer_supported(half, Pass::forward, &why));
  EXPECT_NE(why.find("fp16"), std::string::npos) << why;

  EXPECT_FALSE(cpu_layer_supported(simple("a", "attention", {{1, 2, 4, 8}}, {1, 2, 4, 8}), Pass::forward, &why));
  EXPECT_NE(why.find("attention"), std::string::npos) << why;
  EXPECT_FALSE(cpu_layer_supported(simple("p", "relu", {{4}}, {4}), Pass::backward_weights, &why));
}

TEST(LayerGeometry, BroadcastOperandIndexAndRejection) {
  const auto g = d::binary_geometry(simple("s", "mul", {{2, 3, 4}, {3, 1}}, {2, 3, 4}));
  EXPECT_EQ(g.b, (Shape{1, 3, 1}));
  EXPECT_EQ(g.b_index(1 * 12 + 2 * 4 + 3), 2);  // element (1, 2, 3) reads b (0, 2, 0)
  EXPECT_EQ(g.size(), 24);
  EXPECT_EQ(g.b_size(), 3);
  const auto swapped = d::binary_geometry(simple("s", "mul", {{2, 3, 1, 1}, {2, 3, 4, 5}}, {2, 3, 4, 5}));
  EXPECT_EQ(swapped.a, (Shape{2, 3, 4, 5}));
  std::string why;
  EXPECT_FALSE(cpu_layer_supported(simple("bad", "add", {{2, 3}, {3, 2}}, {2, 3}), Pass::forward, &why));
  EXPECT_NE(why.find("cannot broadcast"), std::string::npos) << why;
}

TEST(LayerGeometry, LinearGemmsOfEachPass) {
  const LayerCost fc = simple("fc", "linear", {{2, 3, 16}}, {2, 3, 10});  // 6 rows, 16 in, 10 out
  const auto f = d::gemm_geometry(fc, Pass::forward);
  EXPECT_EQ(f.m, 6);
  EXPECT_EQ(f.n, 10);
  EXPECT_EQ(f.k, 16);
  EXPECT_TRUE(f.trans_b);
  const auto bd = d::gemm_geometry(fc, Pass::backward_data);
  EXPECT_EQ(bd.m, 6);
  EXPECT_EQ(bd.n, 16);
  EXPECT_EQ(bd.k, 10);
  const auto bw = d::gemm_geometry(fc, Pass::backward_weights);
  EXPECT_EQ(bw.m, 10);
  EXPECT_EQ(bw.n, 16);
  EXPECT_EQ(bw.k, 6);
  EXPECT_TRUE(bw.trans_a);
}

// x = 1..9 on a 3x3 plane, a 2x2 filter of ones, stride 1, no padding.
TEST(LayerReference, ConvolutionPassesMatchHandDerivation) {
  const auto g = d::conv_geometry(conv("c", {1, 1, 3, 3}, 1, 2, 1, 0));
  std::vector<float> x(9), ones(4, 1.0f), dy{1, 2, 3, 4};
  std::iota(x.begin(), x.end(), 1.0f);
  const double fwd[] = {12, 16, 24, 28};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d::conv_forward_at(g, x.data(), ones.data(), nullptr, i).value, fwd[i]);
  const double dx[] = {1, 3, 2, 4, 10, 6, 3, 7, 4};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(d::conv_backward_data_at(g, dy.data(), ones.data(), i).value, dx[i]) << i;
  const double dw[] = {37, 47, 67, 77};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d::conv_backward_weights_at(g, x.data(), dy.data(), i).value, dw[i]) << i;
}

// Stride 2, padding 1 on a 4x4 plane of 1..16 with a 3x3 filter of ones: each output sums the
// window's in-range part.
TEST(LayerReference, StridedPaddedConvolution) {
  const auto g = d::conv_geometry(conv("c", {1, 1, 4, 4}, 1, 3, 2, 1));
  ASSERT_EQ(g.p, 2);
  std::vector<float> x(16), ones(9, 1.0f);
  std::iota(x.begin(), x.end(), 1.0f);
  // (0,0): rows 0-1, cols 0-1 = 1+2+5+6; (0,1): rows 0-1, cols 1-3 = 2+3+4+6+7+8;
  // (1,0): rows 1-3, cols 0-1 = 5+6+9+10+13+14; (1,1): rows 1-3, cols 1-3.
  const double fwd[] = {14, 30, 57, 99};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d::conv_forward_at(g, x.data(), ones.data(), nullptr, i).value, fwd[i]);
}

TEST(LayerReference, PoolingSoftmaxBatchnorm) {
  LayerCost mp = simple("mp", "maxpool", {{1, 1, 4, 4}}, {1, 1, 2, 2});
  mp.params = PoolParams{{2, 2}, {2, 2}, {0, 0}};
  const auto g = d::pool_geometry(mp);
  std::vector<float> x{1, 9, 2, 3, 4, 5, 8, 6, 0, 0, 7, 7, 1, 2, 3, 1}, dy{10, 20, 30, 40};
  EXPECT_EQ(d::pool_forward_at(g, x.data(), 1).value, 8.0);
  EXPECT_EQ(d::pool_backward_at(g, x.data(), dy.data(), 1).value, 10.0);  // the 9 of window 0
  EXPECT_EQ(d::pool_backward_at(g, x.data(), dy.data(), 0).value, 0.0);
  EXPECT_EQ(d::pool_backward_at(g, x.data(), dy.data(), 10).value, 40.0);  // first 7 of window 3
  // The two 7s tie: which one receives the gradient is the library's choice, so checks skip it.
  EXPECT_TRUE(d::pool_backward_at(g, x.data(), dy.data(), 10).ambiguous);
  EXPECT_TRUE(d::pool_backward_at(g, x.data(), dy.data(), 11).ambiguous);
  EXPECT_FALSE(d::pool_backward_at(g, x.data(), dy.data(), 1).ambiguous);
  EXPECT_FALSE(d::pool_backward_at(g, x.data(), dy.data(), 14).ambiguous);  // the 3 of window 3: not a maximum

  const d::RowGeometry sg{1, 2};
  const std::vector<float> logits{0.0f, 0.0f};
  EXPECT_DOUBLE_EQ(d::softmax_forward_at(sg, logits.data(), 0).value, 0.5);
  const std::vector<float> y{0.5f, 0.5f}, dys{1.0f, 0.0f};
  EXPECT_DOUBLE_EQ(d::softmax_backward_at(sg, y.data(), dys.data(), 0).value, 0.25);  // 0.5 * (1 - 0.5)

  // One channel of x = {1, 3}: mean 2, variance 1; dy = {1, 0}.
  const d::NormGeometry ng{2, 1, 1, NormParams{}.epsilon};
  const std::vector<float> bx{1, 3}, bdy{1, 0}, gamma{1}, beta{0.5f}, mean{2}, var{1};
  EXPECT_NEAR(d::batchnorm_inference_at(ng, bx.data(), gamma.data(), beta.data(), mean.data(), var.data(), 0).value,
              -1.0 / std::sqrt(1.0 + NormParams{}.epsilon) + 0.5, 1e-12);
  // xhat = {-1, 1} (to eps); mean dy = 0.5, mean dy*xhat = -0.5: dx0 = 1 - 0.5 - (-1)(-0.5) = 0.
  EXPECT_NEAR(d::batchnorm_backward_at(ng, bx.data(), bdy.data(), gamma.data(), 0).value, 0.0, 1e-5);
}

// One row x = {0, 1, 2}: mean 1, variance 2/3, xhat = {-sqrt(1.5), 0, sqrt(1.5)}; with dy = {1, 0, 0}
// and gamma = 1: dx = sqrt(1.5) * (dy - 1/3 - xhat * (-sqrt(1.5)/3)) = {sqrt(1.5)/6, -sqrt(1.5)/3, ...}.
TEST(LayerReference, LayernormMatchesHandDerivation) {
  const d::RowGeometry g{1, 3, NormParams{}.epsilon};
  const std::vector<float> x{0, 1, 2}, gamma{1, 1, 1}, beta{0.5f, 0, 0}, dy{1, 0, 0};
  EXPECT_NEAR(d::layernorm_forward_at(g, x.data(), gamma.data(), beta.data(), 0).value, -std::sqrt(1.5) + 0.5, 1e-5);
  EXPECT_NEAR(d::layernorm_forward_at(g, x.data(), gamma.data(), beta.data(), 1).value, 0.0, 1e-12);
  EXPECT_NEAR(d::layernorm_backward_at(g, x.data(), dy.data(), gamma.data(), 0).value, std::sqrt(1.5) / 6, 1e-5);
  EXPECT_NEAR(d::layernorm_backward_at(g, x.data(), dy.data(), gamma.data(), 1).value, -std::sqrt(1.5) / 3, 1e-5);
}

// [[1, 2]] and [[3, 4, 5]] along axis 1 make [[1, 2, 3, 4, 5]]; the backward cuts dy back apart.
// Upsampling [[1, 2], [3, 4]] by 2 repeats each value in a 2x2 block; its backward sums them.
TEST(LayerReference, ConcatAndUpsample) {
  LayerCost cat = simple("c", "concat", {{1, 2}, {1, 3}}, {1, 5});
  cat.params = ConcatParams{1};
  const auto g = d::concat_geometry(cat);
  const std::vector<float> a{1, 2}, b{3, 4, 5}, dy{10, 20, 30, 40, 50};
  EXPECT_EQ(d::concat_forward_at(g, {a.data(), b.data()}, 3).value, 4.0);
  EXPECT_EQ(d::concat_backward_at(g, dy.data(), 1, 0).value, 30.0);
  EXPECT_EQ(d::concat_backward_at(g, dy.data(), 0, 1).value, 20.0);

  LayerCost up = simple("u", "upsample", {{1, 1, 2, 2}}, {1, 1, 4, 4});
  up.params = UpsampleParams{2};
  const auto u = d::upsample_geometry(up);
  const std::vector<float> x{1, 2, 3, 4};
  EXPECT_EQ(d::upsample_forward_at(u, x.data(), 1 * 4 + 2).value, 2.0);  // row 1, col 2 <- (0, 1)
  EXPECT_EQ(d::upsample_forward_at(u, x.data(), 3 * 4 + 0).value, 3.0);  // row 3, col 0 <- (1, 0)
  std::vector<float> dyu(16);
  std::iota(dyu.begin(), dyu.end(), 0.0f);
  EXPECT_EQ(d::upsample_backward_at(u, dyu.data(), 3).value, 10.0 + 11.0 + 14.0 + 15.0);
}

TEST(LayerReference, RelativeErrorCatchesWrongValues) {
  EXPECT_EQ(d::relative_error(1.0, {1.0, 1.0}), 0.0);
  EXPECT_GT(d::relative_error(1.5, {1.0, 1.0}), 0.4);
  EXPECT_GT(d::relative_error(1e-9, {0.0, 0.0}), 1.0);  // an exact zero must stay zero
  EXPECT_EQ(d::sample_indices(5).size(), 5u);
  const auto s = d::sample_indices(1000, 10);
  EXPECT_EQ(s.front(), 0);
  EXPECT_EQ(s.back(), 999);
}

#if EDGEROOF_HAVE_ONEDNN

// Every output element of each small layer against the direct evaluation of its definition.
TEST(OnednnKernels, EveryOpAndPassMatchesTheReference) {
  for (const auto& c : edgeroof::dnn::layer_cases::small_layer_cases()) {
    SCOPED_TRACE(c.layer.name + " " + pass_token(c.pass, c.layer.op));
    auto kernel = make_cpu_layer_kernel(c.layer, c.pass);
    kernel->prepare();
    kernel->run();
    const double err = kernel->max_relative_error();
    EXPECT_LT(err, c.fp32_tolerance) << kernel->algorithm();
    EXPECT_LE(err, kernel->tolerance());
    EXPECT_EQ(kernel->algorithm().rfind("onednn:", 0), 0u);
  }
}

TEST(OnednnKernels, UnsupportedLayerIsOneClearError) {
  try {
    (void)make_cpu_layer_kernel(simple("attn", "attention", {{1, 2, 4, 8}}, {1, 2, 4, 8}), Pass::forward);
    FAIL() << "attention has no oneDNN kernel";
  } catch (const LayerKernelError& e) {
    EXPECT_NE(std::string(e.what()).find("attn"), std::string::npos);
  }
  EXPECT_TRUE(onednn_version().has_value());
}

#else

TEST(OnednnKernels, StubSaysHowToEnable) {
  try {
    (void)make_cpu_layer_kernel(conv("c", {1, 1, 3, 3}, 1, 2, 1, 0), Pass::forward);
    FAIL() << "built without oneDNN";
  } catch (const LayerKernelError& e) {
    EXPECT_NE(std::string(e.what()).find("EDGEROOF_ENABLE_ONEDNN"), std::string::npos);
  }
}

#endif

}  // namespace
