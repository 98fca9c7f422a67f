// edgeroof fit as a user runs it: nothing to fit is one line, warnings go to standard error, and
// what it writes predict reads.
#include "fit_results.hpp"
#include "program.hpp"
#include "synthetic_results.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

using edgeroof::testing::edited;
using nlohmann::json;

TEST(FitCli, NothingToFitIsOneLineAndNothingIsWritten) {
  const edgeroof::test::ScratchDir dir("fit_empty");
  const auto empty = dir.write("empty.json", R"({"context": {}, "benchmarks": []})").string();
  const auto out = (dir.path() / "rooflines.json").string();
  EXPECT_TRUE(edgeroof::test::fails_with(edgeroof::test::run_edgeroof({"fit", empty, "-o", out}), 1,
                                         "edgeroof fit: error: " + empty + ": nothing to fit (no benchmarks)"));
  EXPECT_FALSE(std::filesystem::exists(out));
  std::filesystem::create_directories(dir.path() / "none");
  EXPECT_TRUE(edgeroof::test::fails_with(
      edgeroof::test::run_edgeroof({"fit", (dir.path() / "none").string(), "-o", out}), 1,
      "edgeroof fit: error: " + (dir.path() / "none").string() + ": no .json results files in it"));
  // The output is checked before any results are read.
  const auto nowhere = (dir.path() / "no-dir" / "r.json").string();
  EXPECT_TRUE(edgeroof::test::fails_with(
      edgeroof::test::run_edgeroof({"fit", "/no/results.json", "-o", nowhere}), 1,
      "edgeroof fit: error: --out " + nowhere + ": directory " + (dir.path() / "no-dir").string() + " does not exist"));
}

TEST(FitCli, WarningsOnStandardErrorAndTheExclusionsInTheFile) {
  const edgeroof::test::ScratchDir dir("fit_warn");
  const auto hot = dir.write("hot.json", edited(9e11, [](json& d) { d["benchmarks"][0]["throttled"] = 1; })).string();
  const auto empty = dir.write("empty.json", R"({"benchmarks": []})").string();
  const auto out = (dir.path() / "rooflines.json").string();
  const auto r = edgeroof::test::run_edgeroof({"fit", hot, empty, "-o", out});
  ASSERT_TRUE(edgeroof::test::succeeded(r));
  EXPECT_EQ(r.err,
            "edgeroof fit: warning: " + empty +
                ": nothing to fit (no benchmarks); left out\n"
                "edgeroof fit: warning: mode maxn: 1 throttled benchmark(s) left out: compute/cpu/fp32/ai:256\n");
  const auto doc = json::parse(edgeroof::test::read_file(out));
  ASSERT_EQ(doc["modes"].size(), 1u);
  EXPECT_EQ(doc["modes"][0]["excluded"]["throttled"], json::array({"compute/cpu/fp32/ai:256"}));
  EXPECT_DOUBLE_EQ(doc["modes"][0]["compute_flops_per_s"]["cpu/fp32"].get<double>(), 7.0e10);
}

// The fit of the first contact wrote a NaN idle power as null, which predict then refused.
TEST(FitCli, AnUnknownIdlePowerIsLeftOutAndPredictReadsTheFile) {
  const edgeroof::test::ScratchDir dir("fit_nan");
  edgeroof::testing::SyntheticMode m;
  json doc = json::parse(edgeroof::testing::synthetic_results(m, 7));
  doc["context"]["idle_power_W"] = "nan";
  const auto results = dir.write("nan.json", doc.dump()).string();
  const auto out = (dir.path() / "rooflines.json").string();
  ASSERT_TRUE(edgeroof::test::succeeded(edgeroof::test::run_edgeroof({"fit", results, "-o", out})));
  EXPECT_EQ(edgeroof::test::read_file(out).find("null"), std::string::npos);
  const auto p =
      edgeroof::test::run_edgeroof({"predict", "--model", "resnet50", "--rooflines", out, "--format", "json"});
  ASSERT_TRUE(edgeroof::test::succeeded(p));
  EXPECT_GT(json::parse(p.out)["modes"][0]["energy_J"].get<double>(), 0.0);
}
