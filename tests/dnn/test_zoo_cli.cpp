// `edgeroof model` end to end: the JSON it writes is the workload table of the library, bad input
// is one line on standard error with the documented exit status, and nothing is written.
#include "edgeroof/dnn/zoo.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace edgeroof::dnn {
namespace {

namespace fs = std::filesystem;
using test::fails_with;
using test::fails_with_line_containing;
using test::run_edgeroof;
using test::succeeded;

test::ProgramRun model(std::vector<std::string> args) {
  args.insert(args.begin(), "model");
  return run_edgeroof(args);
}

TEST(ModelCli, JsonIsTheLibrarysWorkloadTable) {
  const test::ScratchDir dir("model_json");
  const fs::path out = dir.path() / "bert.json";
  const auto r = model(
      {"bert_base", "--batch", "2", "--dtype", "fp16", "--train", "adam", "--format", "json", "-o", out.string()});
  ASSERT_TRUE(succeeded(r));
  const auto doc = nlohmann::json::parse(test::read_file(out));
  WorkloadOptions o;
  o.batch = 2;
  o.dtype = "fp16";
  o.train = "adam";
  const auto expected = build_workload("bert_base", o);
  EXPECT_EQ(doc.at("phase"), "training:adam");
  EXPECT_EQ(doc.at("layers").size(), expected.layers.size());
  EXPECT_DOUBLE_EQ(doc.at("totals").at("flops").get<double>(), expected.total_flops());
  EXPECT_DOUBLE_EQ(doc.at("totals").at("bytes").get<double>(), expected.total_bytes());
  EXPECT_TRUE(doc.at("unsupported").empty());
  EXPECT_NO_THROW((void)workload_from_json(doc, out.string()));  // what model writes, predict reads
}

TEST(ModelCli, CsvHasOneRowPerLayerAndATotal) {
  const auto r = model({"lstm", "--batch", "4", "--format", "csv"});
  ASSERT_TRUE(succeeded(r));
  // Header, embedding, two LSTM layers, decoder, total.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 6);
  EXPECT_EQ(r.out.rfind("name,op,phase,inputs,outputs,flops,bytes,FLOP/B\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nrnn.0,lstm,forward,\"35x4x650,2600x650,2600x650,2600,2600\",35x4x650,"), std::string::npos)
      << r.out;
}

TEST(ModelCli, ListNamesEveryZooModel) {
  const auto r = model({"--list", "--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc.at("models").size(), zoo_models().size());
  EXPECT_EQ(doc.at("onnx").get<bool>(), onnx_available());
}

TEST(ModelCli, BadInputIsOneLineAndNonZero) {
  EXPECT_TRUE(fails_with_line_containing(model({"resnet51"}), 1, "edgeroof model: error: unknown model 'resnet51'"));
  EXPECT_TRUE(fails_with(model({"resnet50", "--dtype", "fp64"}), 1,
                         "edgeroof model: error: unknown dtype 'fp64' (choose fp32, fp16, bf16 or int8)"));
  EXPECT_TRUE(fails_with(model({"resnet50", "--train", "int8sgd"}), 1,
                         "edgeroof model: error: unknown optimizer 'int8sgd' (choose sgd, sgd_momentum or adam)"));
  EXPECT_TRUE(fails_with(model({"resnet50", "--batch", "many"}), 2,
                         "edgeroof model: --batch takes a whole number from 1 to 1048576, not 'many' (see 'edgeroof "
                         "model --help')"));
  EXPECT_TRUE(fails_with(
      model({}), 2, "edgeroof model: name one model (see --list) or one .onnx file (see 'edgeroof model --help')"));
  EXPECT_TRUE(fails_with_line_containing(model({"/nonexistent/model.onnx"}), 1, "/nonexistent/model.onnx"));
}

// The batch of the first contact (over 2^62) is refused as an argument; a batch and sequence in
// range whose counts do not fit are refused by the counting, naming the first layer that overflows.
TEST(ModelCli, BatchesAndSequencesOutOfRange) {
  const test::ScratchDir dir("model_range");
  const auto out = (dir.path() / "w.json").string();
  EXPECT_TRUE(fails_with(model({"resnet50", "--batch", "4611686018427387905", "-o", out}), 2,
                         "edgeroof model: --batch takes a whole number from 1 to 1048576, not '4611686018427387905' "
                         "(see 'edgeroof model --help')"));
  EXPECT_TRUE(fails_with(model({"resnet50", "--batch", "0"}), 2,
                         "edgeroof model: --batch takes a whole number from 1 to 1048576, not '0' (see 'edgeroof "
                         "model --help')"));
  EXPECT_TRUE(fails_with(model({"bert_base", "--seq", "-5"}), 2,
                         "edgeroof model: --seq takes a whole number from 1 to 1048576, not '-5' (see 'edgeroof model "
                         "--help')"));
  // 2^20 sequences of 2^20 steps: the LSTM layers still fit (7.4e18 FLOP), the decoder's 2^40 rows of
  // 650 x 10000 weights plus bias do not.
  char line[200];
  std::snprintf(line, sizeof(line),
                "edgeroof model: error: decoder: FLOP = %.6g does not fit in a 64-bit count (batch or sequence too "
                "large)",
                std::ldexp(1.0, 40) * (2.0 * 650 * 10000 + 10000));
  EXPECT_TRUE(fails_with(model({"lstm", "--batch", "1048576", "--seq", "1048576", "-o", out}), 1, line));
  EXPECT_FALSE(fs::exists(out));
  // -o is checked before the model is built.
  EXPECT_TRUE(fails_with(model({"resnet50", "-o", (dir.path() / "none" / "w.json").string()}), 1,
                         "edgeroof model: error: --out " + (dir.path() / "none" / "w.json").string() + ": directory " +
                             (dir.path() / "none").string() + " does not exist"));
}

}  // namespace
}  // namespace edgeroof::dnn
