// Zoo models against published multiply-add counts and the structure of their training steps.
#include "edgeroof/dnn/zoo.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>

namespace edgeroof::dnn {
namespace {

// Multiply-adds of the GEMM-like layers of the forward pass (conv2d, linear, matmul, bmm, lstm
// GEMMs and the attention's two products), per sample: what papers and torchvision call "FLOPs".
double forward_macs(const Workload& w, const std::set<std::string>& ops = {"conv2d", "linear"}) {
  double macs = 0.0;
  for (const auto& l : w.layers) {
    if (l.phase != "forward" || ops.count(l.op) == 0) continue;
    double m = l.flops;
    const auto* conv = std::get_if<Conv2dParams>(&l.params);
    const auto* linear = std::get_if<LinearParams>(&l.params);
    if ((conv != nullptr && conv->bias) || (linear != nullptr && linear->bias)) {
      m -= element_count(l.outputs[0]);  // the bias adds are not multiply-adds
    }
    macs += m / 2;
  }
  return macs / static_cast<double>(w.batch);
}

TEST(Zoo, ResNet50MatchesTheFourPointOneGigaMacsOfThePaper) {
  const auto w = build_workload("resnet50", {16});
  // torchvision lists 4.09 GMACs (convs and fc, 224x224); exactly 4,089,184,256 by our count:
  // convs 4,087,136,256 + fc 2048*1000.
  EXPECT_NEAR(forward_macs(w), 4.089184256e9, 1.0);
  EXPECT_EQ(w.batch, 16);
  EXPECT_TRUE(w.complete());
  // 53 convolutions (49 + 4 downsample), 53 batchnorms, one fc.
  int convs = 0, bns = 0;
  for (const auto& l : w.layers) convs += l.op == "conv2d", bns += l.op == "batchnorm";
  EXPECT_EQ(convs, 53);
  EXPECT_EQ(bns, 53);
}

TEST(Zoo, MobileNetV3LargeAndYolov8nMatchPublishedCounts) {
  // torchvision: 0.22 GMACs per image (our exact count 216,589,760).
  EXPECT_NEAR(forward_macs(build_workload("mobilenet_v3_large", {4})), 0.22e9, 0.005e9);
  // Ultralytics: 8.7 GFLOPs (= 2 x multiply-adds) at 640x640.
  EXPECT_NEAR(2 * forward_macs(build_workload("yolov8n", {1})), 8.7e9, 0.1e9);
}

TEST(Zoo, TransformersByHand) {
  // BERT-base, 128 tokens, per layer and token: q k v o 4*768^2 + FFN 2*768*3072 multiply-adds.
  const auto bert = build_workload("bert_base", {2});
  EXPECT_DOUBLE_EQ(forward_macs(bert), 12.0 * 128 * (4 * 768 * 768 + 2 * 768 * 3072));
  // Attention: 12 layers x 12 heads x QK^T and PV of 128 x 128 x 64.
  double attention_macs = 0.0;
  for (const auto& l : bert.layers) {
    if (l.op == "attention") attention_macs += (l.flops - 5.0 * 2 * 12 * 128 * 128) / 4 / 64;
  }
  EXPECT_DOUBLE_EQ(attention_macs, 12.0 * 2 * 12 * 128 * 128);  // pairs of all heads, batch 2
  // ViT-B/16: 197 tokens; patch conv 196 x 768 x 768; head 768 x 1000 on the class token; with the
  // attention products (12 x 12 heads x 2 x 197^2 x 64) this is torchvision's 17.56 GMACs.
  const auto vit = build_workload("vit_b_16", {1});
  const double linear = 12.0 * 197 * (768 * 2304 + 768 * 768 + 2 * 768 * 3072) + 196.0 * 768 * 768 + 768 * 1000;
  EXPECT_DOUBLE_EQ(forward_macs(vit), linear);
  EXPECT_NEAR(forward_macs(vit, {"conv2d", "linear", "attention"}) - 12.0 * 12 * 197 * 197 * 5 / 2, 17.56e9, 0.01e9);
  // GPT-2 decode: every weight once per token (12 x 7.08 M + lm_head 768 x 50257).
  EXPECT_DOUBLE_EQ(forward_macs(build_workload("gpt2_decode", {1})),
                   12.0 * (4 * 768 * 768 + 2 * 768 * 3072) + 768.0 * 50257);
}

TEST(Zoo, Llama2SevenBillionParameters) {
  // Decode: every linear weight once per token: 32 x (4 x 4096^2 + 3 x 4096 x 11008) + lm_head.
  EXPECT_DOUBLE_EQ(forward_macs(build_workload("llama2_7b_decode", {1})),
                   32.0 * (4 * 4096.0 * 4096 + 3 * 4096.0 * 11008) + 4096.0 * 32000);
  // The SGD update touches every parameter once: Meta's 6,738,415,616.
  WorkloadOptions o;
  o.train = "sgd";
  o.dtype = "bf16";
  double params = 0.0;
  for (const auto& l : build_workload("llama2_7b_prefill", o).layers)
    params += l.phase == "optimizer" ? l.flops / 2 : 0.0;
  EXPECT_DOUBLE_EQ(params, 6738415616.0);
}

TEST(Zoo, SequenceLength) {
  WorkloadOptions o;
  o.seq_len = 1000;
  for (const auto& l : build_workload("gpt2_decode", o).layers) {
    if (l.op == "attention") {
      EXPECT_EQ(l.inputs.at(1), (Shape{1, 12, 1001, 64}));
    }
  }
  o.seq_len = 64;
  // BERT-base at 64 tokens: half the projections of 128 tokens.
  EXPECT_DOUBLE_EQ(forward_macs(build_workload("bert_base", o)), 12.0 * 64 * (4 * 768 * 768 + 2 * 768 * 3072));
  EXPECT_THROW((void)build_workload("resnet50", o), ModelError);  // no sequence
  o.seq_len = 1024;
  EXPECT_THROW((void)build_workload("gpt2_decode", o), ModelError);  // 1025 positions
  EXPECT_NO_THROW((void)build_workload("gpt2_prefill", o));
}

TEST(Zoo, DecodeReadsTheKvCacheAndIsMemoryBound) {
  const auto prefill = build_workload("gpt2_prefill", {1, "fp16"});
  const auto decode = build_workload("gpt2_decode", {1, "fp16"});
  for (const auto& l : decode.layers) {
    if (l.op != "attention") continue;
    EXPECT_EQ(l.inputs.at(1), (Shape{1, 12, 513, 64}));  // 512 cached + 1 new
    EXPECT_EQ(l.outputs.at(0), (Shape{1, 12, 1, 64}));
  }
  EXPECT_LT(decode.total_flops() / decode.total_bytes(), 2.0);
  EXPECT_GT(prefill.total_flops() / prefill.total_bytes(), 50.0);
}

TEST(Zoo, TrainingStepOfResNet50) {
  WorkloadOptions o;
  o.batch = 2;
  o.train = "sgd";
  const auto w = build_workload("resnet50", o);
  EXPECT_EQ(w.phase, "training:sgd");
  double fwd = 0, bwd_data = 0, bwd_filter = 0, conv1 = 0, updates = 0;
  for (const auto& l : w.layers) {
    if (l.op != "conv2d" && l.op != "linear") continue;
    if (l.phase == "forward") fwd += l.flops;
    if (l.phase == "backward_data") bwd_data += l.flops;
    if (l.phase == "backward_weights") bwd_filter += l.flops;
    if (l.name == "conv1") conv1 = l.flops;
  }
  for (const auto& l : w.layers) updates += l.phase == "optimizer" ? l.flops / 2 : 0.0;
  const double fc_bias = 2 * 1000;
  EXPECT_DOUBLE_EQ(bwd_filter, fwd);  // every weight gradient: the forward's products, bias grads included
  EXPECT_DOUBLE_EQ(bwd_data, fwd - fc_bias - conv1);  // no dx for the image
  EXPECT_DOUBLE_EQ(updates, 25557032);                // torchvision's parameter count of ResNet-50
}

TEST(Zoo, EveryModelBuildsAtEveryDtypeAndRoundTripsThroughJson) {
  for (const auto& name : zoo_models()) {
    for (const std::string dtype : {"fp32", "fp16", "bf16", "int8"}) {
      WorkloadOptions o;
      o.batch = 3;
      o.dtype = dtype;
      const auto w = build_workload(name, o);
      EXPECT_TRUE(w.complete()) << name;
      EXPECT_GT(w.total_flops(), 0.0) << name;
      const auto back = workload_from_json(to_json(w), name);
      EXPECT_EQ(back.layers.size(), w.layers.size());
      EXPECT_DOUBLE_EQ(back.total_bytes(), w.total_bytes());
    }
  }
  EXPECT_THROW((void)build_workload("resnet51", {1}), ModelError);
}

// A batch over 2^62 used to wrap the counts; now the first tensor that cannot be counted says so.
TEST(Zoo, BatchesWhoseCountsDoNotFitAreRefused) {
  WorkloadOptions o;
  o.batch = std::int64_t{1} << 62;
  try {
    (void)build_workload("resnet50", o);
    FAIL() << "no error";
  } catch (const ModelError& e) {
    // conv1 counts its output first.
    EXPECT_STREQ(e.what(), "a tensor of shape 4611686018427387904x64x112x112 has more elements than fit in 64 bits");
  }
  // 2^40 images fit as tensors, but conv1's FLOPs do not: 2 x 2^40 x 64 x 112 x 112 x 3 x 7 x 7.
  o.batch = std::int64_t{1} << 40;
  char expected[160];
  std::snprintf(expected, sizeof(expected),
                "conv1: FLOP = %.6g does not fit in a 64-bit count (batch or sequence too large)",
                2.0 * std::ldexp(1.0, 40) * 64 * 112 * 112 * 3 * 7 * 7);
  try {
    (void)build_workload("resnet50", o);
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_STREQ(e.what(), expected);
  }
}

TEST(WorkloadTable, EveryFieldIsCheckedNamingTheFileAndPath) {
  const auto good = to_json(build_workload("lstm", {2}));
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"/layers/1/flops", -2.0},   {"/layers/1/bytes", 9223372036854775808.0},
      {"/layers/1/name", nullptr}, {"/layers/1/attrs/hidden/0", "650"},
      {"/layers/1/outputs/0", 35}, {"/unsupported/0", 3},
      {"/model", false},
  };
  const std::vector<std::string> expected = {
      "w.json: layers[1] (rnn.0): flops = -2.0 is negative",
      "w.json: layers[1] (rnn.0): bytes = 9.223372036854776e+18 does not fit in 64 bits",
      "w.json: layers[1]: name is null",
      "w.json: layers[1] (rnn.0): attrs.hidden[0] is a string \"650\", not a whole number",
      "w.json: layers[1] (rnn.0): outputs[0] is not an array of dimensions",
      "w.json: unsupported[0] is a number, not a string",
      "w.json: model is a boolean, not a string",
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto doc = good;
    doc[nlohmann::json::json_pointer(cases[i].first)] = cases[i].second;
    try {
      (void)workload_from_json(doc, "w.json");
      ADD_FAILURE() << cases[i].first << ": no error";
    } catch (const ModelError& e) {
      EXPECT_EQ(std::string(e.what()), expected[i]);
    }
  }
  EXPECT_THROW((void)workload_from_json(nlohmann::json::array(), "w.json"), ModelError);
}

}  // namespace
}  // namespace edgeroof::dnn
