// Small layers of every op and pass the layer kernels run, shared by the oneDNN tests and the
// GPU device tests: each small enough (< 384 outputs) that the check compares every element.
#pragma once

#include "edgeroof/dnn/layer_kernels.hpp"

#include <string>
#include <variant>
#include <vector>

namespace edgeroof::dnn::layer_cases {

inline LayerCost conv(const std::string& name, Shape x, std::int64_t k, std::int64_t r, std::int64_t stride,
                      std::int64_t pad, std::int64_t groups = 1, std::int64_t dilation = 1) {
  LayerCost l;
  l.name = name;
  l.op = "conv2d";
  l.phase = "forward";
  l.dtype = "fp32";
  const auto out = [&](std::int64_t in) { return (in + 2 * pad - dilation * (r - 1) - 1) / stride + 1; };
  l.inputs = {x, {k, x[1] / groups, r, r}};
  l.outputs = {{x[0], k, out(x[2]), out(x[3])}};
  l.params = Conv2dParams{k, {r, r}, {stride, stride}, {pad, pad}, {dilation, dilation}, groups, false};
  l.flops = 1.0;
  return l;
}

inline LayerCost simple(const std::string& name, const std::string& op, std::vector<Shape> inputs, Shape output) {
  LayerCost l;
  l.name = name;
  l.op = op;
  l.phase = "forward";
  l.dtype = "fp32";
  l.inputs = std::move(inputs);
  l.outputs = {std::move(output)};
  return l;
}

inline LayerCost pool(const std::string& name, const std::string& op, Shape x, Shape y, std::int64_t k,
                      std::int64_t stride, std::int64_t pad) {
  LayerCost l = simple(name, op, {std::move(x)}, std::move(y));
  l.params = PoolParams{{k, k}, {stride, stride}, {pad, pad}};
  return l;
}

inline LayerCost with_params(LayerCost l, LayerParams params) {
  l.params = params;
  return l;
}

struct LayerCase {
  LayerCost layer;
  Pass pass;
  double fp32_tolerance;  // what an fp32 CPU kernel must meet on these sizes
};

inline std::vector<LayerCase> small_layer_cases() {
  std::vector<LayerCase> cases;
  for (Pass pass : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
    for (const auto& l : {conv("plain", {2, 3, 7, 7}, 4, 3, 1, 1), conv("strided", {1, 4, 9, 9}, 6, 3, 2, 1),
                          conv("grouped", {1, 6, 5, 5}, 6, 3, 1, 1, 3), conv("depthwise", {2, 4, 6, 6}, 4, 3, 1, 1, 4),
                          conv("dilated", {1, 2, 8, 8}, 3, 3, 1, 2, 1, 2), conv("pointwise", {2, 8, 3, 3}, 5, 1, 1, 0),
                          simple("fc", "linear", {{3, 17}}, {3, 5}), simple("tokens", "linear", {{2, 3, 8}}, {2, 3, 6}),
                          simple("bmm", "bmm", {{3, 4, 5}, {3, 5, 2}}, {3, 4, 2}),
                          simple("broadcast", "matmul", {{3, 4, 5}, {5, 2}}, {3, 4, 2})}) {
      cases.push_back({l, pass, 1e-5});
    }
  }
  LayerCost biased = conv("biased", {1, 2, 5, 5}, 3, 3, 1, 1);
  std::get<Conv2dParams>(biased.params).bias = true;
  cases.push_back({biased, Pass::forward, 1e-5});
  for (Pass pass : {Pass::forward, Pass::backward_data}) {
    cases.push_back({pool("maxpool", "maxpool", {2, 3, 8, 8}, {2, 3, 4, 4}, 3, 2, 1), pass, 1e-5});
    cases.push_back({pool("avgpool", "avgpool", {2, 3, 7, 7}, {2, 3, 1, 1}, 7, 1, 0), pass, 1e-5});
    cases.push_back({pool("avgpool_pad", "avgpool", {1, 2, 6, 6}, {1, 2, 3, 3}, 3, 2, 1), pass, 1e-5});
    for (const char* op : {"relu", "gelu", "silu", "hardswish", "sigmoid"})
      cases.push_back({simple(op, op, {{2, 3, 5, 5}}, {2, 3, 5, 5}), pass, 2e-5});
    cases.push_back({simple("softmax", "softmax", {{2, 3, 7}}, {2, 3, 7}), pass, 1e-5});
    cases.push_back(
        {with_params(simple("bn", "batchnorm", {{4, 3, 5, 5}, {3}, {3}}, {4, 3, 5, 5}), NormParams{}), pass, 1e-4});
    cases.push_back(
        {with_params(simple("ln", "layernorm", {{2, 3, 16}, {16}, {16}}, {2, 3, 16}), NormParams{}), pass, 1e-4});
  }
  LayerCost bn_train =
      with_params(simple("bn_train", "batchnorm", {{4, 3, 5, 5}, {3}, {3}}, {4, 3, 5, 5}), NormParams{});
  bn_train.step = Step::training;
  cases.push_back({bn_train, Pass::forward, 1e-4});
  for (Pass pass : {Pass::forward, Pass::backward_data}) {
    LayerCost cat = simple("concat", "concat", {{2, 3, 4}, {2, 1, 4}, {2, 2, 4}}, {2, 6, 4});
    cat.params = ConcatParams{1};
    cases.push_back({cat, pass, 1e-6});
    LayerCost up = simple("upsample", "upsample", {{2, 3, 3, 4}}, {2, 3, 6, 8});
    up.params = UpsampleParams{2};
    cases.push_back({up, pass, 1e-6});
  }
  cases.push_back({simple("add", "add", {{2, 3, 4}, {2, 3, 4}}, {2, 3, 4}), Pass::forward, 1e-6});
  cases.push_back({simple("mul", "mul", {{2, 3, 4}, {2, 3, 4}}, {2, 3, 4}), Pass::forward, 1e-6});
  cases.push_back({simple("se_scale", "mul", {{2, 3, 4, 5}, {2, 3, 1, 1}}, {2, 3, 4, 5}), Pass::forward, 1e-6});
  cases.push_back({simple("scale_first", "mul", {{2, 3, 1, 1}, {2, 3, 4, 5}}, {2, 3, 4, 5}), Pass::forward, 1e-6});
  cases.push_back({simple("bias_add", "add", {{2, 3, 4}, {4}}, {2, 3, 4}), Pass::forward, 1e-6});
  return cases;
}

}  // namespace edgeroof::dnn::layer_cases
