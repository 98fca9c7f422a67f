// A short real run of edgeroof-bench's CPU layer families (oneDNN) on ResNet-50 at batch 2: the
// stable names, counters equal to the analytic LayerCost of each pass, checked outputs, and the
// context that says what was left out.
#include "edgeroof/config.hpp"
#include "edgeroof/dnn/workload.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string bench = std::string(EDGEROOF_BINARY_DIR) + "/bench/edgeroof-bench";

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("edgeroof-layer-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

int run(const std::string& args) {
  const int rc = std::system((bench + " --sensor=none --idle-s=0 " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

#if EDGEROOF_HAVE_ONEDNN

TEST(LayerBench, ResnetLayersCarryAnalyticCountersAndCheckedOutputs) {
  const auto out = temp_dir() / "layers.json";
  const std::string filter = "^layer/cpu/resnet50/(layer1.0.conv2|fc|maxpool|layer1.0.bn1)/";
  ASSERT_EQ(run("--layers=resnet50 --layer-batch=2 --benchmark_filter='" + filter +
                "' --benchmark_min_time=0.01 --benchmark_out=" + out.string()),
            0);
  std::ifstream in(out);
  const json doc = json::parse(in);

  // The counters must be the workload table's own figures for each layer and phase.
  edgeroof::dnn::WorkloadOptions options;
  options.batch = 2;
  options.train = "sgd";
  // Keys: "train|<name>|<phase>" from the training table, "infer|<name>|<phase>" from the inference
  // table (forward benchmarks; batchnorm there uses running statistics, fwd_train the batch's).
  std::map<std::string, edgeroof::dnn::LayerCost> analytic;
  for (const auto& l : edgeroof::dnn::build_workload("resnet50", options).layers)
    analytic["train|" + l.name + "|" + l.phase] = l;
  options.train.clear();
  for (const auto& l : edgeroof::dnn::build_workload("resnet50", options).layers)
    analytic["infer|" + l.name + "|" + l.phase] = l;

  const std::map<std::string, std::pair<std::string, int>> expected{
      {"layer/cpu/resnet50/layer1.0.conv2/fwd/bs:2", {"infer|layer1.0.conv2|forward", 3}},
      {"layer/cpu/resnet50/layer1.0.conv2/bwd_data/bs:2", {"train|layer1.0.conv2/bwd_data|backward_data", 3}},
      {"layer/cpu/resnet50/layer1.0.conv2/bwd_filter/bs:2", {"train|layer1.0.conv2/bwd_filter|backward_weights", 3}},
      {"layer/cpu/resnet50/fc/fwd/bs:2", {"infer|fc|forward", 1}},
      {"layer/cpu/resnet50/fc/bwd_data/bs:2", {"train|fc/bwd_data|backward_data", 1}},
      {"layer/cpu/resnet50/fc/bwd_weights/bs:2", {"train|fc/bwd_weights|backward_weights", 1}},
      {"layer/cpu/resnet50/maxpool/fwd/bs:2", {"infer|maxpool|forward", 1}},
      {"layer/cpu/resnet50/maxpool/bwd_data/bs:2", {"train|maxpool/bwd_data|backward_data", 1}},
      {"layer/cpu/resnet50/layer1.0.bn1/fwd/bs:2", {"infer|layer1.0.bn1|forward", 6}},
      {"layer/cpu/resnet50/layer1.0.bn1/fwd_train/bs:2", {"train|layer1.0.bn1|forward", 6}},
      {"layer/cpu/resnet50/layer1.0.bn1/bwd_data/bs:2", {"train|layer1.0.bn1/bwd_data|backward_data", 6}},
  };
  std::map<std::string, int> seen;
  for (const auto& b : doc.at("benchmarks")) {
    const std::string name = b.at("name");
    ++seen[name];
    ASSERT_TRUE(expected.count(name)) << "unexpected benchmark " << name;
    EXPECT_FALSE(b.value("error_occurred", false)) << name << ": " << b.value("error_message", "");
    const auto& [key, instances] = expected.at(name);
    ASSERT_TRUE(analytic.count(key)) << key;
    EXPECT_EQ(b.at("flops").get<double>(), analytic.at(key).flops) << name;
    EXPECT_EQ(b.at("bytes").get<double>(), analytic.at(key).bytes) << name;
    EXPECT_EQ(b.at("instances").get<double>(), instances) << name;
    EXPECT_EQ(b.at("label").get<std::string>().rfind("onednn:", 0), 0u) << name;
  }
  EXPECT_EQ(seen.size(), expected.size());
  // 3x3 convolution, 64 -> 64 channels on 56x56, batch 2: 2 * 2*56*56*64*64*9 FLOP.
  for (const auto& b : doc.at("benchmarks")) {
    if (b.at("name") == "layer/cpu/resnet50/layer1.0.conv2/fwd/bs:2") {
      EXPECT_EQ(b.at("flops").get<double>(), 462422016.0);
    }
  }

  const auto& ctx = doc.at("context");
  EXPECT_EQ(ctx.at("layers.models"), "resnet50");
  EXPECT_EQ(ctx.at("layers.batch"), "2");
  EXPECT_TRUE(ctx.contains("onednn.version"));
  // The residual adds' backward has no library kernel: named, with its count, not dropped.
  ASSERT_TRUE(ctx.contains("layers.cpu.unsupported"));
  EXPECT_NE(ctx.at("layers.cpu.unsupported").get<std::string>().find("add/bwd_data x16"), std::string::npos);
  fs::remove_all(out.parent_path());
}

#endif

TEST(LayerBench, BadLayerFlagsFailWithoutWritingAFile) {
  const auto out = temp_dir() / "bad.json";
  EXPECT_NE(run("--layers=no_such_model --benchmark_filter=layer/ --benchmark_out=" + out.string()), 0);
  EXPECT_NE(run("--layers=resnet50 --layer-batch=0 --benchmark_out=" + out.string()), 0);
  EXPECT_NE(run("--layers=resnet50 --layer-dtype=int4 --benchmark_out=" + out.string()), 0);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
  fs::remove_all(out.parent_path());
}
