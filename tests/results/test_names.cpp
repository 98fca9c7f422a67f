// The names, label tokens and counters of the results contract: every name edgeroof-bench writes
// parses back to the same parts and formats to the same text, and what no writer makes is refused.
#include "edgeroof/results/keys.hpp"
#include "edgeroof/results/names.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace {

using namespace edgeroof::results;

// The one name `text` parses to, formatted again.
std::string round_trip(const std::string& text) {
  const auto parsed = parse_name(text);
  return parsed ? format_name(*parsed) : "refused";
}

TEST(Names, NumbersAreWrittenShortly) {
  EXPECT_EQ(format_number(0.125), "0.125");
  EXPECT_EQ(format_number(1.0), "1");
  EXPECT_EQ(format_number(256.0), "256");
  EXPECT_EQ(format_number(1.0 / 3.0), "0.3333333333");
}

TEST(Names, ComputeNamesAreFormattedAndParsedBack) {
  EXPECT_EQ(format_name(ComputeName{"cuda", "fp32", 0.125}), "compute/cuda/fp32/ai:0.125");
  EXPECT_EQ(format_name(ComputeName{"cpu", "fp64", 256.0}), "compute/cpu/fp64/ai:256");
  const auto parsed = parse_name("compute/cuda/fp16/ai:0.25");
  ASSERT_TRUE(parsed);
  const auto* c = std::get_if<ComputeName>(&*parsed);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->backend, "cuda");
  EXPECT_EQ(c->dtype, "fp16");
  EXPECT_EQ(c->ai, 0.25);
  EXPECT_EQ(family_of(*parsed), "compute");
  EXPECT_EQ(backend_of(*parsed), "cuda");
}

TEST(Names, GemmMemoryAndLayerNamesAreFormattedAndParsedBack) {
  EXPECT_EQ(format_name(GemmName{"cuda", "fp16-tensor", 8192}), "compute/cuda/fp16-tensor/gemm:8192");
  EXPECT_EQ(format_name(MemoryName{"cpu", "triad", 268435456}), "memory/cpu/triad/bytes:268435456");
  EXPECT_EQ(format_name(LayerName{"cuda", "resnet50", "layer3.0.conv2", "bwd_filter", 16}),
            "layer/cuda/resnet50/layer3.0.conv2/bwd_filter/bs:16");

  const auto gemm = parse_name("compute/cuda/int8-tensor/gemm:4096");
  ASSERT_TRUE(gemm && std::holds_alternative<GemmName>(*gemm));
  EXPECT_EQ(std::get<GemmName>(*gemm).type, "int8-tensor");
  EXPECT_EQ(std::get<GemmName>(*gemm).n, 4096);
  EXPECT_EQ(family_of(*gemm), "compute");

  const auto memory = parse_name("memory/cuda/copy/bytes:18446744073709551615");
  ASSERT_TRUE(memory && std::holds_alternative<MemoryName>(*memory));
  EXPECT_EQ(std::get<MemoryName>(*memory).kernel, "copy");
  EXPECT_EQ(std::get<MemoryName>(*memory).bytes, 18446744073709551615u);
  EXPECT_EQ(family_of(*memory), "memory");

  // A layer's own name may hold '/': everything between the model and the token is the layer.
  const auto layer = parse_name("layer/cpu/gpt2/h.0/attn/c_attn/bwd_data/bs:4");
  ASSERT_TRUE(layer && std::holds_alternative<LayerName>(*layer));
  const auto& l = std::get<LayerName>(*layer);
  EXPECT_EQ(l.backend, "cpu");
  EXPECT_EQ(l.model, "gpt2");
  EXPECT_EQ(l.layer, "h.0/attn/c_attn");
  EXPECT_EQ(l.token, "bwd_data");
  EXPECT_EQ(l.batch, 4);
  EXPECT_EQ(family_of(*layer), "layer");
}

TEST(Names, ModelNamesAreFormattedAndParsedBack) {
  EXPECT_EQ(format_name(ModelName{"cuda", "resnet50", "train_sgd", 16}), "model/cuda/resnet50/train_sgd/bs:16");
  const auto model = parse_name("model/cpu/bert_base/inference/bs:2");
  ASSERT_TRUE(model && std::holds_alternative<ModelName>(*model));
  const auto& m = std::get<ModelName>(*model);
  EXPECT_EQ(m.backend, "cpu");
  EXPECT_EQ(m.model, "bert_base");
  EXPECT_EQ(m.phase, "inference");
  EXPECT_EQ(m.batch, 2);
  EXPECT_EQ(family_of(*model), "model");
  EXPECT_TRUE(is_model_phase("train_adam"));
  EXPECT_FALSE(is_model_phase("train"));
}

TEST(Names, EveryWrittenFormRoundTrips) {
  for (const char* name : {"compute/cpu/fp32/ai:0.125", "compute/cuda/fp64/ai:16", "compute/cuda/tf32-tensor/gemm:8192",
                           "memory/cpu/read/bytes:16384", "memory/cuda/triad/bytes:268435456",
                           "layer/cuda/resnet50/layer3.0.conv2/bwd_filter/bs:16", "layer/cpu/toy/fc/fwd/bs:1",
                           "layer/cuda/m/a/b/c/fwd_train/bs:2", "model/cpu/resnet50/inference/bs:1",
                           "model/cuda/bert_base/train_adam/bs:16"}) {
    EXPECT_EQ(round_trip(name), name);
  }
}

TEST(Names, WhatNoWriterMakesIsRefused) {
  for (const char* name : {"",
                           "BM_Foo",
                           "compute/cpu/fp32",
                           "compute/cpu/fp32/ai:",
                           "compute/cpu/fp32/ai:0.50",
                           "compute/cpu/fp32/ai:1e3",
                           "compute/cpu/fp32/ai:+1",
                           "compute/cpu/fp32/ai:0",
                           "compute/cpu/fp32/ai:-1",
                           "compute/cpu/fp32/ai:inf",
                           "compute/cpu/fp32/ai:nan",
                           "compute/cpu/fp32/ai:16/real_time",
                           "compute/cpu/fp32/ai:16_median",
                           "compute/cpu/fp32/bytes:16",
                           "compute//fp32/ai:1",
                           "compute/cpu/fp32/gemm:0",
                           "compute/cpu/fp32/gemm:08",
                           "memory/cpu/triad/bytes:016",
                           "memory/cpu/triad/bytes:1.5",
                           "memory/cpu/triad/bytes:18446744073709551616",
                           "memory/cpu/triad/ai:1",
                           "memory/cpu/triad/bytes:1/x",
                           "layer/cpu/toy/fwd/bs:1",
                           "layer/cpu/toy/fc/fwd/bs:0",
                           "layer/cpu/toy/fc/fwd/bs:x",
                           "layer/cpu/toy//fwd/bs:1",
                           "layer/cpu/toy/fc/fwd/batch:1",
                           "model/cpu/resnet50/train/bs:1",
                           "model/cpu/resnet50/inference/bs:01",
                           "model/cpu/resnet50/x/inference/bs:1",
                           "model/cpu/resnet50/inference",
                           "Compute/cpu/fp32/ai:1"}) {
    EXPECT_EQ(round_trip(name), "refused") << name;
  }
}

TEST(Names, SplitGivesTheGenericPartsOfAnyName) {
  const auto n = split_name("memory/cuda/triad/bytes:1024");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->family, "memory");
  EXPECT_EQ(n->backend, "cuda");
  EXPECT_EQ(n->what, "triad");
  EXPECT_EQ(n->param_key, "bytes");
  EXPECT_EQ(n->param_value, "1024");
  EXPECT_EQ(n->parts.size(), 4u);
  const auto other = split_name("model/cpu/resnet50/inference/bs:1/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->family, "model");
  EXPECT_EQ(other->parts.size(), 5u);
  EXPECT_EQ(other->param_value, "1");
  EXPECT_FALSE(split_name("BM_Foo"));
  EXPECT_FALSE(split_name("a/b/c"));
  EXPECT_FALSE(split_name(""));
}

TEST(Names, LayerTokensAndCeilingKeys) {
  EXPECT_EQ(split_layer_token("conv1/bwd_data"), std::make_pair(std::string("conv1"), std::string("bwd_data")));
  EXPECT_EQ(split_layer_token("h.0/attn/bwd_a"), std::make_pair(std::string("h.0/attn"), std::string("bwd_a")));
  EXPECT_EQ(split_layer_token("h.0/attn"), std::make_pair(std::string("h.0/attn"), std::string("fwd")));
  EXPECT_EQ(split_layer_token("fc"), std::make_pair(std::string("fc"), std::string("fwd")));
  EXPECT_EQ(ceiling_key("cuda", "fp16-tensor"), "cuda/fp16-tensor");
  EXPECT_EQ(split_ceiling_key("cpu/dram"), std::make_pair(std::string("cpu"), std::string("dram")));
  EXPECT_EQ(split_ceiling_key("cpu"), std::make_pair(std::string("cpu"), std::string()));
}

TEST(Labels, TokensAreAddedOnceAndFoundByWord) {
  EXPECT_EQ(add_label_token("", "throttled"), "throttled");
  EXPECT_EQ(add_label_token("level:l1", "throttled"), "level:l1 throttled");
  EXPECT_EQ(add_label_token("level:l1 throttled", "throttled"), "level:l1 throttled");
  EXPECT_EQ(add_label_token("a,throttled", "throttled"), "a,throttled");
  EXPECT_EQ(add_label_token("throttled_not", "throttled"), "throttled_not throttled");
  EXPECT_TRUE(has_label_token("level:dram, throttled", labels::throttled));
  EXPECT_FALSE(has_label_token("level:dram throttled_not", labels::throttled));
  const auto tokens = label_tokens(" level:l2,,throttled  x ");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0], "level:l2");
  EXPECT_EQ(tokens[1], "throttled");
  EXPECT_EQ(tokens[2], "x");
}

TEST(Labels, LevelIsTheFirstLevelWord) {
  EXPECT_EQ(level_token("dram"), "level:dram");
  EXPECT_EQ(level_of_label("level:l1 throttled"), "l1");
  EXPECT_EQ(level_of_label("throttled,level:dram level:l2"), "dram");
  EXPECT_EQ(level_of_label("level: level:l3"), "l3");
  EXPECT_EQ(level_of_label("mylevel:l1 throttled"), "");
  EXPECT_EQ(level_of_label(""), "");
}

TEST(Counters, TheNonNegativeOnesAreTheContractsQuantities) {
  for (const char* c : {"flops", "bytes", "ai", "FLOP/s", "B/s", "energy_J", "power_W", "energy_J.VDD_GPU_SOC",
                        "clock_min_ratio", "throttled", "coverage", "layers"}) {
    EXPECT_TRUE(counters::is_non_negative(c)) << c;
  }
  for (const char* c : {"pool_threads", "instances", "energy_Jx", "energy", "sensor_updates", "custom"}) {
    EXPECT_FALSE(counters::is_non_negative(c)) << c;
  }
  EXPECT_EQ(counters::rail_energy("VDD_CPU_CV"), "energy_J.VDD_CPU_CV");
}

}  // namespace
