// Typed layer parameters: the Builder stores them on every phase of a layer, the workload table
// writes them as its attrs, and a table read back gives the same parameters and step.
#include "edgeroof/dnn/ops.hpp"
#include "edgeroof/dnn/zoo.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <variant>

namespace edgeroof::dnn {
namespace {

using Attrs = std::map<std::string, std::vector<std::int64_t>>;

WorkloadOptions training_options() {
  WorkloadOptions o;
  o.train = "sgd";
  return o;
}

TEST(LayerParams, EveryPhaseOfALayerCarriesTheForwardParametersAndTheStep) {
  Builder b("t", training_options());
  Conv2dParams p;
  p.out_channels = 8;
  p.kernel = {3, 3};
  p.stride = {2, 2};
  p.padding = {1, 1};
  (void)b.conv2d("c", {{1, 4, 9, 9}, true}, p);
  const Workload w = b.finish();
  ASSERT_EQ(w.layers.size(), 4u);  // forward, bwd_filter, bwd_data, update
  for (const auto& l : w.layers) {
    EXPECT_EQ(l.step, Step::training) << l.name;
    if (l.phase == "optimizer") {
      EXPECT_TRUE(std::holds_alternative<std::monostate>(l.params)) << l.name;
      continue;
    }
    const auto& got = std::get<Conv2dParams>(l.params);
    EXPECT_EQ(got.stride, (Pair{2, 2})) << l.name;
    EXPECT_EQ(got.padding, (Pair{1, 1})) << l.name;
    EXPECT_EQ(got.out_channels, 8) << l.name;
  }
  Builder inference("t", {});
  (void)inference.activation("r", "relu", {{1, 4}, true});
  EXPECT_EQ(inference.finish().layers.at(0).step, Step::inference);
}

TEST(LayerParams, AttrsAreTheTableFormOfEachKind) {
  Conv2dParams conv;
  conv.out_channels = 4;
  conv.kernel = {3, 1};
  conv.stride = {2, 1};
  conv.padding = {1, 0};
  conv.dilation = {1, 2};
  conv.groups = 2;
  conv.bias = true;
  EXPECT_EQ(attrs_of(conv), (Attrs{{"kernel", {3, 1}},
                                   {"stride", {2, 1}},
                                   {"padding", {1, 0}},
                                   {"dilation", {1, 2}},
                                   {"groups", {2}},
                                   {"bias", {1}}}));
  EXPECT_EQ(attrs_of(PoolParams{{3, 3}, {2, 2}, {1, 1}}),
            (Attrs{{"kernel", {3, 3}}, {"stride", {2, 2}}, {"padding", {1, 1}}}));
  EXPECT_EQ(attrs_of(LinearParams{false}), (Attrs{{"bias", {0}}}));
  EXPECT_EQ(attrs_of(AttentionParams{12, 4, true}), (Attrs{{"heads", {12}}, {"kv_heads", {4}}, {"causal", {1}}}));
  EXPECT_EQ(attrs_of(ConcatParams{1}), (Attrs{{"axis", {1}}}));
  EXPECT_EQ(attrs_of(UpsampleParams{2}), (Attrs{{"scale", {2, 2}}}));
  EXPECT_EQ(attrs_of(LstmParams{650}), (Attrs{{"hidden", {650}}}));
  // Normalization's epsilon is the same for every layer, so the table does not write it.
  EXPECT_EQ(attrs_of(NormParams{}), Attrs{});
  EXPECT_EQ(attrs_of(LayerParams{}), Attrs{});
}

TEST(LayerParams, ATableReadBackGivesTheSameParametersAndStep) {
  WorkloadOptions o = training_options();
  o.batch = 2;
  for (const char* model : {"yolov8n", "bert_base", "lstm"}) {
    const Workload built = build_workload(model, o);
    const Workload read = workload_from_json(to_json(built), "w.json");
    ASSERT_EQ(read.layers.size(), built.layers.size()) << model;
    for (std::size_t i = 0; i < built.layers.size(); ++i) {
      const auto& a = built.layers[i];
      const auto& b = read.layers[i];
      EXPECT_EQ(attrs_of(b.params), attrs_of(a.params)) << a.name;
      EXPECT_EQ(b.params.index(), a.params.index()) << a.name;
      EXPECT_EQ(b.step, Step::training) << a.name;
      if (const auto* conv = std::get_if<Conv2dParams>(&a.params)) {
        EXPECT_EQ(std::get<Conv2dParams>(b.params).out_channels, conv->out_channels) << a.name;
      }
    }
    EXPECT_EQ(to_json(read), to_json(built)) << model;
  }
  EXPECT_EQ(workload_from_json(to_json(build_workload("lstm", {})), "w.json").layers.at(0).step, Step::inference);
}

TEST(LayerParams, AttrsMissingFromATableTakeTheStructDefaults) {
  const auto conv = std::get<Conv2dParams>(params_from_attrs("conv2d", {{"stride", {2}}}, {{1, 16, 4, 4}}));
  EXPECT_EQ(conv.out_channels, 16);
  EXPECT_EQ(conv.stride, (Pair{2, 2}));  // one value for both dimensions
  EXPECT_EQ(conv.kernel, Conv2dParams{}.kernel);
  EXPECT_EQ(conv.groups, 1);
  EXPECT_FALSE(conv.bias);
  EXPECT_EQ(std::get<PoolParams>(params_from_attrs("maxpool", {}, {})).padding, (Pair{0, 0}));
  EXPECT_EQ(std::get<UpsampleParams>(params_from_attrs("upsample", {{"scale", {3, 3}}, {"junk", {}}}, {})).scale, 3);
  EXPECT_TRUE(std::holds_alternative<NormParams>(params_from_attrs("layernorm", {}, {})));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(params_from_attrs("relu", {{"bias", {1}}}, {})));
}

}  // namespace
}  // namespace edgeroof::dnn
