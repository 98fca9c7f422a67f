// edgeroof fit as a user runs it: nothing to fit is one line, warnings go to standard error, and
// what it writes predict reads.
#include "fit_results.hpp"
#include "mode_space_fixtures.hpp"
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

// fit --predict-modes: every mode of the list, in its order, the measured ones as fitted.
TEST(FitCli, PredictModesWritesEveryModeOfTheListWithItsSource) {
  const edgeroof::test::ScratchDir dir("fit_predict");
  const auto modes = edgeroof::test::grid_modes();
  const auto file = dir.write("modes.json", modes.dump()).string();
  const auto results = edgeroof::test::write_measured(dir);
  const auto out = (dir.path() / "rooflines.json").string();
  const auto r = edgeroof::test::run_edgeroof({"fit", results, "--predict-modes", file, "-o", out});
  ASSERT_TRUE(edgeroof::test::succeeded(r)) << r.err;
  const auto doc = json::parse(edgeroof::test::read_file(out));
  ASSERT_EQ(doc["modes"].size(), modes["modes"].size());
  std::size_t measured = 0;
  for (std::size_t i = 0; i < doc["modes"].size(); ++i) {
    const auto& m = doc["modes"][i];
    const auto key = modes["modes"][i]["key"].get<std::string>();
    EXPECT_EQ(m["key"], key);
    bool was_measured = false;
    for (const auto& [gpu, emc] : edgeroof::test::kMeasuredModes)
      was_measured = was_measured || key == edgeroof::test::grid_mode_key(gpu, emc);
    EXPECT_EQ(m.value("source", ""), was_measured ? "measured" : "modeled") << key;
    measured += was_measured ? 1 : 0;
    EXPECT_EQ(m["gpu_hz"], modes["modes"][i]["gpu_max_hz"]) << key;
    EXPECT_EQ(m["emc_hz"], modes["modes"][i]["emc_max_hz"]) << key;
    EXPECT_GT(m["compute_flops_per_s"]["cuda/fp32"].get<double>(), 0.0) << key;
  }
  EXPECT_EQ(measured, 6u);
  // The table: the measured modes as without --predict-modes, then one line of counts.
  const auto last_line = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  EXPECT_EQ(last_line, "rooflines written to " + out + "\n");
  EXPECT_NE(r.out.find("52 modes of " + file + ": 6 measured, 46 modeled"), std::string::npos) << r.out;
  // What fit wrote, predict reads: every mode predicted.
  const auto p =
      edgeroof::test::run_edgeroof({"predict", "--model", "resnet50", "--rooflines", out, "--format", "json"});
  ASSERT_TRUE(edgeroof::test::succeeded(p)) << p.err;
  EXPECT_EQ(json::parse(p.out)["modes"].size(), 52u);
}

TEST(FitCli, PredictModesRefusesAKnobTheResultsNeverVaried) {
  const edgeroof::test::ScratchDir dir("fit_knob");
  std::filesystem::create_directories(dir.path() / "results");
  // Every measured mode at the top GPU clock; the list varies it.
  (void)dir.write("results/a.json", edgeroof::test::grid_results(1300500000, 2133000000, 3));
  (void)dir.write("results/b.json", edgeroof::test::grid_results(1300500000, 3199000000, 4));
  (void)dir.write("results/c.json", edgeroof::test::grid_results(1300500000, 665600000, 5));
  const auto file = dir.write("modes.json", edgeroof::test::grid_modes().dump()).string();
  const auto out = (dir.path() / "rooflines.json").string();
  const auto r =
      edgeroof::test::run_edgeroof({"fit", (dir.path() / "results").string(), "--predict-modes", file, "-o", out});
  EXPECT_TRUE(edgeroof::test::fails_with_line_containing(r, 1, "edgeroof fit: error: gpu_hz cannot be predicted"));
  EXPECT_NE(r.err.find("1300500000"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(FitCli, PredictModesReadsTheListBeforeTheResults) {
  const edgeroof::test::ScratchDir dir("fit_badlist");
  const auto out = (dir.path() / "rooflines.json").string();
  const auto text = dir.write("modes.json", "not a modes list").string();
  const auto results = edgeroof::test::write_measured(dir);
  EXPECT_TRUE(edgeroof::test::fails_with_line_containing(
      edgeroof::test::run_edgeroof({"fit", "/no/results.json", "--predict-modes", text, "-o", out}), 1,
      "edgeroof fit: error: " + text));
  auto doc = edgeroof::test::grid_modes();
  doc["modes"][3]["emc_max_hz"] = -1;
  const auto negative = dir.write("negative.json", doc.dump()).string();
  const auto r = edgeroof::test::run_edgeroof({"fit", results, "--predict-modes", negative, "-o", out});
  EXPECT_TRUE(edgeroof::test::fails_with_line_containing(r, 1, "edgeroof fit: error: " + negative));
  EXPECT_NE(r.err.find("modes[3]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("emc_max_hz"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}
