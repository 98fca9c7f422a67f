// Every op's FLOPs and bytes per phase against hand derivations on small shapes.
#include "edgeroof/dnn/ops.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

namespace edgeroof::dnn {
namespace {

WorkloadOptions opts(const std::string& dtype = "fp32", const std::string& train = "") {
  WorkloadOptions o;
  o.batch = 1;
  o.dtype = dtype;
  o.train = train;
  return o;
}

// The layers of a workload by name.
std::map<std::string, LayerCost> by_name(const Workload& w) {
  std::map<std::string, LayerCost> m;
  for (const auto& l : w.layers) m[l.name] = l;
  return m;
}

// A tensor that needs a gradient (the output of some earlier layer).
Tensor act(Shape s) { return {std::move(s), true}; }

TEST(Conv2d, ForwardAndBothBackwardPassesByHand) {
  Builder b("t", opts("fp32", "sgd"));
  Conv2dParams p;
  p.out_channels = 6;
  p.kernel = {3, 3};
  p.padding = {1, 1};
  p.bias = true;
  const Tensor y = b.conv2d("c", act({2, 4, 5, 5}), p);
  EXPECT_EQ(y.shape, (Shape{2, 6, 5, 5}));
  auto l = by_name(b.finish());
  // y: 2*6*5*5 = 300 outputs, each 4*3*3 = 36 multiply-adds: 10800 MAC = 21600 FLOP, + 300 bias adds.
  EXPECT_DOUBLE_EQ(l["c"].flops, 21900);
  // x 200, w 6*4*9 = 216, bias 6, y 300 elements, 4 bytes each.
  EXPECT_DOUBLE_EQ(l["c"].bytes, (200 + 216 + 6 + 300) * 4);
  EXPECT_DOUBLE_EQ(l["c/bwd_data"].flops, 21600);  // dx = conv_transpose(dy, w)
  EXPECT_DOUBLE_EQ(l["c/bwd_data"].bytes, (300 + 216 + 200) * 4);
  EXPECT_DOUBLE_EQ(l["c/bwd_filter"].flops, 21600 + 300);  // dw and the bias gradient
  EXPECT_DOUBLE_EQ(l["c/bwd_filter"].bytes, (300 + 200 + 216 + 6) * 4);
  EXPECT_EQ(l["c/bwd_filter"].phase, "backward_weights");
  EXPECT_EQ(l["c/bwd_filter"].inputs, l["c"].inputs);  // every phase carries the forward shapes
  EXPECT_EQ(std::get<Conv2dParams>(l["c"].params).padding, (Pair{1, 1}));
  EXPECT_EQ(attrs_of(l["c"].params).at("padding"), (std::vector<std::int64_t>{1, 1}));
  EXPECT_DOUBLE_EQ(l["c/update"].flops, 2 * 222);
  EXPECT_DOUBLE_EQ(l["c/update"].bytes, 3 * 222 * 4);
}

// The derivation behind "backward-data and backward-weights have the forward's multiply-adds":
// enumerate the products each gradient sums and count them.
TEST(Conv2d, BackwardMultiplyAddsEqualForwardByEnumeration) {
  const int n = 2, c = 3, h = 5, wd = 6, k = 4, r = 3, s = 2, stride = 1;
  const int p = (h - r) / stride + 1, q = (wd - s) / stride + 1;
  long forward = 0, dx = 0, dw = 0;
  forward = static_cast<long>(n) * k * p * q * c * r * s;
  // dx[n][c][y][x] = sum over (k, i, j) with y = p*stride + i, x = q*stride + j inside y's range.
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < wd; ++xx)
      for (int i = 0; i < r; ++i)
        for (int j = 0; j < s; ++j) {
          const int pp = yy - i, qq = xx - j;
          if (pp >= 0 && pp < p && qq >= 0 && qq < q) dx += static_cast<long>(n) * c * k;
        }
  // dw[k][c][i][j] = sum over (n, p, q) of dy * x.
  dw = static_cast<long>(k) * c * r * s * n * p * q;
  EXPECT_EQ(dx, forward);
  EXPECT_EQ(dw, forward);
  Builder b("t", opts("fp32", "sgd"));
  Conv2dParams cp;
  cp.out_channels = k;
  cp.kernel = {r, s};
  b.conv2d("c", act({n, c, h, wd}), cp);
  auto l = by_name(b.finish());
  EXPECT_DOUBLE_EQ(l["c"].flops, 2.0 * forward);
  EXPECT_DOUBLE_EQ(l["c/bwd_data"].flops, 2.0 * dx);
  EXPECT_DOUBLE_EQ(l["c/bwd_filter"].flops, 2.0 * dw);
}

TEST(Conv2d, StrideDilationAndDepthwise) {
  Builder b("t", opts());
  Conv2dParams dw;
  dw.out_channels = 8;
  dw.groups = 8;
  dw.kernel = {3, 3};
  dw.stride = {2, 2};
  dw.padding = {1, 1};
  // (10 + 2 - 2 - 1) / 2 + 1 = 5: 8*5*5 outputs, each 1*3*3 multiply-adds.
  EXPECT_EQ(b.conv2d("dw", act({1, 8, 10, 10}), dw).shape, (Shape{1, 8, 5, 5}));
  Conv2dParams dil;
  dil.out_channels = 1;
  dil.kernel = {3, 3};
  dil.dilation = {2, 2};
  // 7 - 2*(3-1) - 1 + 1 = 3: 9 outputs of 9 multiply-adds.
  EXPECT_EQ(b.conv2d("dil", act({1, 1, 7, 7}), dil).shape, (Shape{1, 1, 3, 3}));
  auto l = by_name(b.finish());
  EXPECT_DOUBLE_EQ(l["dw"].flops, 2 * 200 * 9);
  EXPECT_DOUBLE_EQ(l["dw"].bytes, (800 + 8 * 9 + 200) * 4);
  EXPECT_DOUBLE_EQ(l["dil"].flops, 2 * 81);
  EXPECT_THROW(b.conv2d("bad", act({1, 6, 4, 4}), dw), ModelError);  // 8 groups do not divide 6 channels
}

TEST(Linear, Fp16ForwardBackwardAndNoDataGradientForTheModelInput) {
  Builder b("t", opts("fp16", "sgd"));
  b.linear("fc", act({2, 3, 4}), 5, true);       // 6 rows of 4 -> 5
  b.linear("first", b.input({6, 4}), 5, false);  // reads the model input
  auto l = by_name(b.finish());
  // 6*4*5 = 120 multiply-adds = 240 FLOP, + 30 bias adds; bytes: x 24, w 20, b 5, y 30 at 2 B.
  EXPECT_DOUBLE_EQ(l["fc"].flops, 270);
  EXPECT_DOUBLE_EQ(l["fc"].bytes, (24 + 20 + 5 + 30) * 2);
  EXPECT_DOUBLE_EQ(l["fc/bwd_data"].flops, 240);  // dx = dy W: [6x5] x [5x4]
  EXPECT_DOUBLE_EQ(l["fc/bwd_data"].bytes, (30 + 20 + 24) * 2);
  EXPECT_DOUBLE_EQ(l["fc/bwd_weights"].flops, 270);  // dW = dy^T x: [5x6] x [6x4], db = sum dy
  EXPECT_DOUBLE_EQ(l["fc/bwd_weights"].bytes, (30 + 24 + 20 + 5) * 2);
  EXPECT_TRUE(l["fc"].tensor_op);
  EXPECT_EQ(l.count("first/bwd_data"), 0u);
  EXPECT_EQ(l.count("first/bwd_weights"), 1u);
}

TEST(Optimizers, FlopsAndBytesPerParameter) {
  // linear 4 -> 5 with bias: 25 parameters.
  const double params = 25;
  const std::map<std::string, std::pair<double, double>> expected{
      {"sgd", {2, 3}}, {"sgd_momentum", {4, 5}}, {"adam", {14, 7}}};  // FLOP and tensors moved per param
  for (const auto& [name, cost] : expected) {
    Builder b("t", opts("fp32", name));
    b.linear("fc", act({1, 4}), 5, true);
    const auto w = b.finish();
    EXPECT_EQ(w.phase, "training:" + name);
    const auto& u = w.layers.back();
    EXPECT_EQ(u.name, "fc/update");
    EXPECT_EQ(u.phase, "optimizer");
    EXPECT_EQ(u.op, name);
    EXPECT_DOUBLE_EQ(u.flops, cost.first * params) << name;
    EXPECT_DOUBLE_EQ(u.bytes, cost.second * params * 4) << name;
  }
}

TEST(Gemm, MatmulAndBmmBothOperandGradients) {
  Builder b("t", opts("fp32", "sgd"));
  b.matmul("mm", act({3, 4}), act({4, 5}));
  b.bmm("bmm", act({2, 3, 4}), b.input({2, 4, 5}));
  auto l = by_name(b.finish());
  EXPECT_DOUBLE_EQ(l["mm"].flops, 2 * 3 * 4 * 5);
  EXPECT_DOUBLE_EQ(l["mm"].bytes, (12 + 20 + 15) * 4);
  EXPECT_EQ(l["mm"].op, "matmul");
  EXPECT_DOUBLE_EQ(l["mm/bwd_a"].flops, 120);  // dA = dC B^T
  EXPECT_DOUBLE_EQ(l["mm/bwd_b"].flops, 120);  // dB = A^T dC
  EXPECT_DOUBLE_EQ(l["bmm"].flops, 2 * 2 * 3 * 4 * 5);
  EXPECT_EQ(l.count("bmm/bwd_b"), 0u);  // b is a model input
}

TEST(Attention, FusedEqualsUnfusedArithmeticAndCausalCountsUnmaskedPairs) {
  // q, k, v [1, 2, 4, 8]: 2 heads, 4 queries, 4 keys, d = 8.
  const Tensor q = act({1, 2, 4, 8});
  Builder fused("t", opts());
  fused.attention("full", q, q, q, false);
  fused.attention("causal", q, q, q, true);
  fused.attention("decode", act({1, 2, 1, 8}), act({1, 2, 6, 8}), act({1, 2, 6, 8}), true);
  auto l = by_name(fused.finish());
  // Per head and pair: QK^T 2d, softmax 5, PV 2d -> 2 heads * 16 pairs * (32 + 5).
  EXPECT_DOUBLE_EQ(l["full"].flops, 2 * 16 * 37);
  EXPECT_DOUBLE_EQ(l["full"].bytes, 4 * 64 * 4);  // Q, K, V, O
  EXPECT_DOUBLE_EQ(l["causal"].flops, 2 * (1 + 2 + 3 + 4) * 37);
  EXPECT_DOUBLE_EQ(l["decode"].flops, 2 * 6 * 37);  // the new token sees the whole cache
  EXPECT_TRUE(std::get<AttentionParams>(l["causal"].params).causal);
  EXPECT_EQ(attrs_of(l["causal"].params).at("causal"), (std::vector<std::int64_t>{1}));

  WorkloadOptions o = opts();
  o.fused_attention = false;
  Builder unfused("t", o);
  unfused.attention("full", q, q, q, false);
  const auto w = unfused.finish();
  ASSERT_EQ(w.layers.size(), 3u);
  EXPECT_EQ(w.layers[0].name, "full.scores");
  EXPECT_DOUBLE_EQ(w.layers[0].flops, 2 * 2 * 4 * 4 * 8);
  EXPECT_DOUBLE_EQ(w.layers[1].flops, 5 * 32);
  EXPECT_DOUBLE_EQ(w.total_flops(), l["full"].flops);
  // The 2x4x4 score matrix is written and read twice: (64+64+32) + (32+32) + (32+64+64) elements.
  EXPECT_DOUBLE_EQ(w.total_bytes(), (160 + 64 + 160) * 4);
}

TEST(Attention, FusedBackwardRecomputesScores) {
  Builder b("t", opts("fp32", "sgd"));
  const Tensor q = act({1, 2, 4, 8});
  b.attention("a", q, q, q, false);
  auto l = by_name(b.finish());
  // 5 GEMM passes of 2*d per pair, 4 pointwise per pair, D = rowsum(dO*O): 2 per query element.
  EXPECT_DOUBLE_EQ(l["a/bwd_data"].flops, 2 * 16 * (10 * 8 + 4) + 2 * 4 * 8 * 2);
  const double lse = 2 * 4 * 4;  // fp32 log-sum-exp per head and query
  EXPECT_DOUBLE_EQ(l["a"].bytes, 4 * 64 * 4 + lse);
  // Reads Q K V O dO lse, writes dQ dK dV.
  EXPECT_DOUBLE_EQ(l["a/bwd_data"].bytes, 8 * 64 * 4 + lse);
}

TEST(Normalization, BatchnormInferenceTrainingAndLayernorm) {
  Builder inf("t", opts());
  inf.batchnorm("bn", act({2, 3, 2, 2}));
  inf.layernorm("ln", act({2, 5}));
  auto i = by_name(inf.finish());
  EXPECT_DOUBLE_EQ(i["bn"].flops, 2 * 24);
  EXPECT_DOUBLE_EQ(i["bn"].bytes, (24 + 24 + 4 * 3) * 4);  // x, y, gamma beta mean var
  EXPECT_DOUBLE_EQ(i["ln"].flops, 8 * 10);
  EXPECT_DOUBLE_EQ(i["ln"].bytes, (10 + 10 + 2 * 5) * 4);

  Builder tr("t", opts("fp32", "sgd"));
  tr.batchnorm("bn", act({2, 3, 2, 2}));
  tr.layernorm("ln", act({2, 5}));
  auto t = by_name(tr.finish());
  EXPECT_DOUBLE_EQ(t["bn"].flops, 7 * 24);
  EXPECT_DOUBLE_EQ(t["bn"].bytes, (48 + 8 * 3) * 4);
  EXPECT_DOUBLE_EQ(t["bn/bwd_data"].flops, 9 * 24);
  EXPECT_DOUBLE_EQ(t["bn/bwd_data"].bytes, (72 + 5 * 3) * 4);  // x dy dx; gamma, mean, 1/std, dgamma, dbeta
  EXPECT_DOUBLE_EQ(t["bn/update"].flops, 2 * 6);
  EXPECT_DOUBLE_EQ(t["ln"].bytes, (20 + 10 + 4) * 4);  // + saved mean and 1/std of 2 rows
  EXPECT_DOUBLE_EQ(t["ln/bwd_data"].flops, 13 * 10);
}

TEST(Normalization, RmsnormAndRope) {
  Builder b("t", opts("fp16", "sgd"));
  b.rmsnorm("rms", act({3, 4}));
  b.rope("rope", act({1, 2, 3, 4}));
  auto l = by_name(b.finish());
  EXPECT_DOUBLE_EQ(l["rms"].flops, 4 * 12);
  EXPECT_DOUBLE_EQ(l["rms"].bytes, (12 + 12 + 4 + 3) * 2);  // x, y, gamma, saved 1/rms per row
  EXPECT_DOUBLE_EQ(l["rms/bwd_data"].flops, 9 * 12);
  EXPECT_DOUBLE_EQ(l["rms/update"].flops, 2 * 4);
  // 24 elements rotated in pairs (mul, mul, add each); cos and sin tables of 3 positions x 2 pairs.
  EXPECT_DOUBLE_EQ(l["rope"].flops, 3 * 24);
  EXPECT_DOUBLE_EQ(l["rope"].bytes, (24 + 24 + 12) * 2);
  EXPECT_DOUBLE_EQ(l["rope/bwd_data"].flops, 3 * 24);
  EXPECT_THROW(b.rope("odd", act({1, 1, 2, 3})), ModelError);
}

TEST(Pointwise, SoftmaxActivationsAddMulConcatUpsample) {
  Builder b("t", opts("fp32", "sgd"));
  b.softmax("sm", act({3, 4}));
  b.activation("relu", "relu", act({10}));
  b.activation("gelu", "gelu", act({10}));
  b.activation("silu", "silu", act({10}));
  b.activation("hs", "hardswish", act({10}));
  b.activation("sig", "sigmoid", act({10}));
  b.add("add", act({2, 3}), act({2, 3}));
  b.mul("se", act({1, 2, 2, 2}), act({1, 2, 1, 1}));
  b.concat("cat", {act({1, 2, 3}), act({1, 4, 3})}, 1);
  b.upsample("up", act({1, 1, 2, 2}), 2);
  auto l = by_name(b.finish());
  EXPECT_DOUBLE_EQ(l["sm"].flops, 60);
  EXPECT_DOUBLE_EQ(l["sm"].bytes, 24 * 4);
  EXPECT_DOUBLE_EQ(l["sm/bwd_data"].flops, 48);
  EXPECT_DOUBLE_EQ(l["sm/bwd_data"].bytes, 36 * 4);
  const std::map<std::string, std::pair<double, double>> per_element{
      {"relu", {1, 1}}, {"gelu", {5, 11}}, {"silu", {5, 9}}, {"hs", {5, 6}}, {"sig", {4, 3}}};
  for (const auto& [name, fb] : per_element) {
    EXPECT_DOUBLE_EQ(l[name].flops, 10 * fb.first) << name;
    EXPECT_DOUBLE_EQ(l[name].bytes, 20 * 4) << name;
    EXPECT_DOUBLE_EQ(l[name + "/bwd_data"].flops, 10 * fb.second) << name;
    EXPECT_DOUBLE_EQ(l[name + "/bwd_data"].bytes, 30 * 4) << name;
  }
  EXPECT_DOUBLE_EQ(l["add"].flops, 6);
  EXPECT_DOUBLE_EQ(l["add/bwd_data"].flops, 6);  // the two gradient streams meet again
  EXPECT_DOUBLE_EQ(l["se"].flops, 8);
  EXPECT_DOUBLE_EQ(l["se"].bytes, (8 + 2 + 8) * 4);
  // da = dy*s (8 mul); ds = sum over H*W of dy*a (8 mul + 6 adds down to 2 elements).
  EXPECT_DOUBLE_EQ(l["se/bwd_data"].flops, 8 + 14);
  EXPECT_DOUBLE_EQ(l["se/bwd_data"].bytes, (8 + 2 + 8 + 8 + 2) * 4);
  EXPECT_EQ(l["cat"].outputs.front(), (Shape{1, 6, 3}));
  EXPECT_DOUBLE_EQ(l["cat"].flops, 0);
  EXPECT_DOUBLE_EQ(l["cat"].bytes, 2 * 18 * 4);
  EXPECT_DOUBLE_EQ(l["up"].bytes, (4 + 16) * 4);
  EXPECT_DOUBLE_EQ(l["up/bwd_data"].flops, 12);  // 4 gradients summed into each of 4 inputs
  EXPECT_THROW(b.activation("x", "swish2", act({1})), ModelError);
}

TEST(Pointwise, DecomposedLayerStepsOfOnnxFiles) {
  Builder b("t", opts("fp32", "sgd"));
  b.binary("div", "div", act({2, 3}), act({2, 1}));
  b.reduce("mean", "reduce_mean", act({2, 3}), {2, 1});
  b.reduce("sum", "reduce_sum", act({2, 3}), {2});
  b.activation("sqrt", "sqrt", act({4}));
  b.activation("erf", "erf", act({4}));
  auto l = by_name(b.finish());
  EXPECT_DOUBLE_EQ(l["div"].flops, 6);
  EXPECT_DOUBLE_EQ(l["div"].bytes, (6 + 2 + 6) * 4);
  // da = dy/b: 6; db = -dy*a/b^2: 4 per element, then 6 - 2 adds down to [2, 1].
  EXPECT_DOUBLE_EQ(l["div/bwd_data"].flops, 6 + 4 * 6 + 4);
  EXPECT_DOUBLE_EQ(l["div/bwd_data"].bytes, (6 + 8 + 8) * 4);
  EXPECT_DOUBLE_EQ(l["mean"].flops, 6);  // 2 x (2 adds + 1 divide)
  EXPECT_DOUBLE_EQ(l["mean"].bytes, (6 + 2) * 4);
  EXPECT_DOUBLE_EQ(l["mean/bwd_data"].flops, 6);
  EXPECT_DOUBLE_EQ(l["sum"].flops, 4);
  EXPECT_DOUBLE_EQ(l["sum/bwd_data"].flops, 0);  // a broadcast copy
  EXPECT_DOUBLE_EQ(l["sqrt/bwd_data"].flops, 2 * 4);
  EXPECT_DOUBLE_EQ(l["erf/bwd_data"].flops, 5 * 4);
  EXPECT_THROW(b.reduce("bad", "reduce_mean", act({2, 3}), {4}), ModelError);
  EXPECT_THROW(b.binary("bad", "atan2", act({2}), act({2})), ModelError);
}

TEST(Pooling, WindowsClippedByPaddingAndGlobal) {
  Builder b("t", opts("fp32", "sgd"));
  // 4x4, 3x3 window, stride 2, padding 1 -> 2x2 outputs; per dimension the windows hold 2 and 3
  // input elements (the first overhangs the padding): 5*5 = 25 elements in all windows.
  b.maxpool("max", act({1, 1, 4, 4}), {{3, 3}, {2, 2}, {1, 1}});
  b.avgpool("avg", act({1, 1, 4, 4}), {{3, 3}, {2, 2}, {1, 1}});
  b.global_avgpool("gap", act({2, 3, 4, 4}));
  auto l = by_name(b.finish());
  EXPECT_DOUBLE_EQ(l["max"].flops, 25 - 4);  // v - 1 compares per window
  EXPECT_DOUBLE_EQ(l["max"].bytes, (16 + 4) * 4);
  EXPECT_DOUBLE_EQ(l["max/bwd_data"].flops, 4);
  EXPECT_DOUBLE_EQ(l["max/bwd_data"].bytes, (2 * 16 + 2 * 4) * 4);
  EXPECT_DOUBLE_EQ(l["avg"].flops, 25);  // v - 1 adds and a divide per window
  EXPECT_DOUBLE_EQ(l["avg/bwd_data"].flops, 25 + 4);
  EXPECT_DOUBLE_EQ(l["gap"].flops, 2 * 3 * 16);
  EXPECT_EQ(l["gap"].outputs.front(), (Shape{2, 3, 1, 1}));
}

TEST(Sequence, EmbeddingAndLstm) {
  Builder b("t", opts("fp32", "adam"));
  const Tensor e = b.embedding("emb", b.input({2, 3}), 10, 4);
  EXPECT_EQ(e.shape, (Shape{2, 3, 4}));
  b.lstm("lstm", b.input({3, 2, 4}), 5);
  auto l = by_name(b.finish());
  EXPECT_DOUBLE_EQ(l["emb"].flops, 0);
  EXPECT_DOUBLE_EQ(l["emb"].bytes, 6 * 8 + 2 * 24 * 4);  // int64 ids, rows read, output written
  EXPECT_DOUBLE_EQ(l["emb/bwd_weights"].flops, 24);
  EXPECT_DOUBLE_EQ(l["emb/update"].flops, 14 * 40);
  EXPECT_DOUBLE_EQ(l["emb/update"].bytes, 7 * 40 * 4);
  // T*N = 6 steps; gates 4*5 x (4 + 5) multiply-adds per step; 26 pointwise per unit and step.
  EXPECT_DOUBLE_EQ(l["lstm"].flops, 2 * 6 * 20 * 9 + 26 * 30);
  // The input is a model input: backward data only runs the recurrence through W_hh.
  EXPECT_DOUBLE_EQ(l["lstm/bwd_data"].flops, 2 * 6 * 20 * 5 + 22 * 30);
  EXPECT_DOUBLE_EQ(l["lstm/bwd_weights"].flops, 2 * 6 * 20 * 9 + 4 * 30);
  EXPECT_DOUBLE_EQ(l["lstm/update"].flops, 14 * (20 * 9 + 40));
}

TEST(Lstm, InferenceBytes) {
  Builder b("t", opts());
  b.lstm("lstm", act({3, 2, 4}), 5);
  const auto w = b.finish();
  // x 24, weights 4*5*(4+5) + 2 biases of 20, y 30, h0 c0 hn cn 4*10, all fp32.
  EXPECT_DOUBLE_EQ(w.layers.at(0).bytes, (24 + 220 + 30 + 40) * 4);
}

TEST(TrainingStep, ForwardThenBackwardInReverseThenUpdates) {
  Builder b("t", opts("fp32", "sgd"));
  Conv2dParams p;
  p.out_channels = 2;
  Tensor x = b.conv2d("conv", b.input({1, 1, 2, 2}), p);
  x = b.activation("relu", "relu", x);
  b.linear("fc", b.view(x, {1, 8}), 3, true);
  const auto w = b.finish();
  std::vector<std::string> names;
  for (const auto& l : w.layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv", "relu", "fc", "fc/bwd_data", "fc/bwd_weights", "relu/bwd_data",
                                             "conv/bwd_filter", "conv/update", "fc/update"}));
}

TEST(L2Reuse, OnlyTheTensorTheLayerJustBeforeWroteAndOnlyWhenItFits) {
  // conv -> relu -> (branch reading the conv's output again) conv; x of 1x8x4x4 fp32 = 512 bytes.
  auto build = [](double l2_bytes) {
    WorkloadOptions o = opts();
    o.l2_bytes = l2_bytes;
    Builder b("t", o);
    Conv2dParams p;
    p.out_channels = 8;
    const Tensor c = b.conv2d("conv", b.input({1, 8, 4, 4}), p);
    const Tensor r = b.activation("relu", "relu", b.view(c, {1, 8, 4, 4}));
    b.conv2d("skip", c, p);  // c was written two layers back: from DRAM
    b.add("add", b.conv2d("conv2", r, p), r);
    return by_name(b.finish());
  };
  auto off = build(0), fits = build(512), small = build(511);
  EXPECT_DOUBLE_EQ(fits["conv"].bytes, off["conv"].bytes);        // a model input: from DRAM
  EXPECT_DOUBLE_EQ(fits["relu"].bytes, off["relu"].bytes - 512);  // the conv's output, still in L2
  EXPECT_DOUBLE_EQ(fits["skip"].bytes, off["skip"].bytes);        // written two layers back
  EXPECT_DOUBLE_EQ(fits["conv2"].bytes, off["conv2"].bytes);      // relu's output, but skip came between
  EXPECT_DOUBLE_EQ(fits["add"].bytes, off["add"].bytes - 512);    // conv2's output
  EXPECT_DOUBLE_EQ(small["relu"].bytes, off["relu"].bytes);       // does not fit
  EXPECT_DOUBLE_EQ(fits["relu"].flops, off["relu"].flops);
}

TEST(Options, BadDtypeInt8TrainingAndBadOptimizer) {
  EXPECT_THROW(Builder("t", opts("fp64")), ModelError);
  EXPECT_THROW(Builder("t", opts("int8", "sgd")), ModelError);
  EXPECT_THROW(Builder("t", opts("fp32", "lamb")), ModelError);
  EXPECT_EQ(dtype_size("bf16"), 2);
  EXPECT_EQ(dtype_size("int8"), 1);
  Builder b("t", opts("int8"));
  b.linear("fc", act({1, 4}), 5, false);
  EXPECT_DOUBLE_EQ(b.finish().layers.at(0).bytes, 4 + 20 + 5);  // one byte per element
}

// ---- Counts that do not fit are refused, never wrapped or rounded ----------------------------------

// The one line of the ModelError that f throws.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CheckedCounts, ElementCountsThatDoNotFitAreRefused) {
  EXPECT_DOUBLE_EQ(element_count({3037000499, 3037000499}), 3037000499.0 * 3037000499.0);  // just below 2^63
  EXPECT_EQ(error_of([] {
              (void)element_count({std::int64_t{1} << 62, 3, 224, 224});
            }),
            "a tensor of shape 4611686018427387904x3x224x224 has more elements than fit in 64 bits");
  EXPECT_EQ(error_of([] { (void)element_count({2, -3}); }), "a tensor of shape 2x-3 has a negative dimension");
}

TEST(CheckedCounts, LayerCountsBeyondSixtyThreeBitsAreRefusedNamingTheLayer) {
  // 2^40 x 64 x 64 outputs fit, but each takes 64 x 3 x 3 multiply-adds: 2 x 2^52 x 576 FLOP > 2^63.
  Builder b("t", opts());
  Conv2dParams p;
  p.out_channels = 64;
  p.kernel = {3, 3};
  p.padding = {1, 1};
  const double flops = 2.0 * std::ldexp(1.0, 40) * 64 * 64 * 64 * 64 * 9;
  char expected[160];
  std::snprintf(expected, sizeof(expected),
                "c: FLOP = %.6g does not fit in a 64-bit count (batch or sequence too large)", flops);
  EXPECT_EQ(error_of([&] { b.conv2d("c", act({std::int64_t{1} << 40, 64, 64, 64}), p); }), expected);
  // Products of dimensions are checked before they can wrap.
  Builder a("t", opts());
  const Tensor q = act({std::int64_t{1} << 62, 12, 1, 64});
  EXPECT_EQ(error_of([&] { a.attention("attn", q, q, q, false); }),
            "attn: 4611686018427387904 x 12 does not fit in a 64-bit count (batch or sequence too large)");
}

TEST(CheckedCounts, WindowsThatCannotBeAreRefused) {
  Builder b("t", opts());
  Conv2dParams p;
  p.out_channels = 4;
  p.kernel = {3, 3};
  p.stride = {0, 1};  // a division by zero before
  EXPECT_EQ(error_of([&] {
              b.conv2d("c", act({1, 2, 8, 8}), p);
            }),
            "c: kernel, stride and dilation must be at least 1 and padding at least 0");
  // A 3x3 window over 2x2 with stride 2 used to give one output ((2 - 3) / 2 + 1 rounds to 1).
  p.stride = {2, 2};
  EXPECT_EQ(error_of([&] { b.conv2d("c", act({1, 2, 2, 2}), p); }), "c: kernel larger than the padded input 1x2x2x2");
  EXPECT_EQ(error_of([&] {
              b.maxpool("m", act({1, 2, 2, 2}), {{3, 3}, {2, 2}, {0, 0}});
            }),
            "m: pooling window larger than the padded input");
  EXPECT_EQ(error_of([&] {
              b.maxpool("m", act({1, 2, 8, 8}), {{3, 3}, {1, 1}, {-1, 0}});
            }),
            "m: kernel, stride and dilation must be at least 1 and padding at least 0");
}

}  // namespace
}  // namespace edgeroof::dnn
