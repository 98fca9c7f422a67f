// One workload-options parser for model, predict, tune and plot: the same flags, the same counts and
// the same errors in all four (model_args.hpp).
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using edgeroof::test::fails_with;
using edgeroof::test::run_edgeroof;
using edgeroof::test::ScratchDir;
using edgeroof::test::succeeded;
using nlohmann::json;

namespace {

const std::string data_dir = std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/";
const std::string toy_rooflines = data_dir + "toy_rooflines.json";

struct Totals {
  double flops = -1.0, bytes = -1.0;
};

// The FLOPs and bytes of every layer predict charged in its one mode.
Totals predicted(const std::vector<std::string>& extra) {
  std::vector<std::string> args{"predict",     "--model", "gpt2_decode", "--dtype",  "fp16", "--rooflines",
                                toy_rooflines, "--mode",  "nvp0-maxn",   "--format", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_edgeroof(args);
  EXPECT_TRUE(succeeded(r));
  if (!succeeded(r)) return {};
  Totals t{0.0, 0.0};
  const auto doc = json::parse(r.out);
  for (const auto& l : doc["modes"][0]["layers"]) {
    t.flops += l["flops"].get<double>();
    t.bytes += l["bytes"].get<double>();
  }
  return t;
}

double model_flops(const std::vector<std::string>& extra) {
  std::vector<std::string> args{"model", "gpt2_decode", "--dtype", "fp16", "--format", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_edgeroof(args);
  EXPECT_TRUE(succeeded(r));
  return succeeded(r) ? json::parse(r.out)["totals"]["flops"].get<double>() : -2.0;
}

}  // namespace

TEST(WorkloadOptionsCli, PredictTakesSeqAndItChangesTheFlops) {
  const double by_default = predicted({}).flops;
  const Totals long_cache = predicted({"--seq", "1000"});
  ASSERT_GT(by_default, 0.0);
  EXPECT_GT(long_cache.flops, by_default);  // attention over a 1000-token KV cache
  // The same parser counts the same model in `model` and `predict`.
  EXPECT_DOUBLE_EQ(long_cache.flops, model_flops({"--seq", "1000"}));
  EXPECT_DOUBLE_EQ(by_default, model_flops({}));
  // Unfused attention writes the score matrix to DRAM: the same FLOPs, more bytes.
  const Totals unfused = predicted({"--seq", "1000", "--unfused-attention"});
  EXPECT_DOUBLE_EQ(unfused.flops, long_cache.flops);
  EXPECT_GT(unfused.bytes, long_cache.bytes);
}

TEST(WorkloadOptionsCli, TuneAndPlotTakeTheModelOptions) {
  EXPECT_TRUE(succeeded(run_edgeroof({"tune", "--model", "gpt2_decode", "--dtype", "fp16", "--seq", "1000",
                                      "--l2-bytes", "4194304", "--rooflines", toy_rooflines, "--format", "json"})));
  const ScratchDir dir("workload_options_plot");
  EXPECT_TRUE(succeeded(run_edgeroof({"plot", toy_rooflines, "--model", "gpt2_decode", "--dtype", "fp16", "--seq",
                                      "1000", "--no-render", "-o", (dir.path() / "report").string()})));
}

TEST(WorkloadOptionsCli, TheSameErrorsInEveryCommand) {
  for (const std::string cmd : {"model", "predict", "tune", "plot"}) {
    std::vector<std::string> args{cmd};
    if (cmd == "model") {
      args.push_back("gpt2_decode");
    } else {
      args.insert(args.end(), {"--model", "gpt2_decode"});
      args.insert(args.end(),
                  {cmd == "plot" ? toy_rooflines : "--rooflines", cmd == "plot" ? "--no-render" : toy_rooflines});
    }
    auto with = [&](std::vector<std::string> extra) {
      auto all = args;
      all.insert(all.end(), extra.begin(), extra.end());
      return run_edgeroof(all);
    };
    const std::string hint = " (see 'edgeroof " + cmd + " --help')";
    EXPECT_TRUE(fails_with(with({"--seq", "0"}), 2,
                           "edgeroof " + cmd + ": --seq takes a whole number from 1 to 1048576, not '0'" + hint));
    EXPECT_TRUE(
        fails_with(with({"--batch", "2000000"}), 2,
                   "edgeroof " + cmd + ": --batch takes a whole number from 1 to 1048576, not '2000000'" + hint));
    EXPECT_TRUE(fails_with(with({"--l2-bytes", "-1"}), 2, "edgeroof " + cmd + ": --l2-bytes must be 0 or more" + hint));
    EXPECT_TRUE(
        fails_with(with({"--train", ""}), 2, "edgeroof " + cmd + ": --train needs sgd, sgd_momentum or adam" + hint));
  }
}

TEST(WorkloadOptionsCli, AWorkloadTableTakesNoModelOptions) {
  const std::string table = data_dir + "toy_workload.json";
  EXPECT_TRUE(fails_with(run_edgeroof({"predict", "--workload", table, "--rooflines", toy_rooflines, "--seq", "1000"}),
                         2,
                         "edgeroof predict: --seq describes --model; a --workload table is counted already (see "
                         "'edgeroof predict --help')"));
  EXPECT_TRUE(fails_with(run_edgeroof({"tune", "--workload", table, "--rooflines", toy_rooflines, "--batch", "2"}), 2,
                         "edgeroof tune: --batch, --dtype and --train describe --model; a --workload table has them "
                         "already (see 'edgeroof tune --help')"));
}
