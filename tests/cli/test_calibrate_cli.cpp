// predict, tune and plot --calibrate as a user runs them, on the three-layer workload and two modes of
// tests/data/reports/calib (test_calibrate.cpp derives the figures: 89 ms in mode fast, the mode
// calibrated in, and 269 ms in slow, against bounds of 60 and 200 ms).
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <tuple>

namespace fs = std::filesystem;
using edgeroof::test::fails_with;
using edgeroof::test::fails_with_line_containing;
using edgeroof::test::read_file;
using edgeroof::test::run_edgeroof;
using edgeroof::test::ScratchDir;
using edgeroof::test::succeeded;
using nlohmann::json;

namespace {

const std::string calib_dir = std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/calib/";
const std::string workload = calib_dir + "tri_workload.json";
const std::string rooflines = calib_dir + "tri_rooflines.json";
const std::string layers = calib_dir + "tri_layers.json";

std::string mutated(const ScratchDir& dir, const std::string& pointer, const json& value, const std::string& name) {
  json doc = json::parse(read_file(layers));
  doc[json::json_pointer(pointer)] = value;
  return dir.write(name, doc.dump(1)).string();
}

}  // namespace

// What the lead runs: rooflines of two modes, the calibration measured in one of them.
TEST(CalibrateCli, PredictJsonGivesEveryModeCalibrated) {
  const auto r = run_edgeroof(
      {"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate", layers, "--format", "json"});
  ASSERT_TRUE(succeeded(r)) << r.err;
  const auto j = json::parse(r.out);
  ASSERT_EQ(j["modes"].size(), 2u);
  EXPECT_NEAR(j["modes"][0]["latency_s"].get<double>(), 89e-3, 1e-15);
  EXPECT_NEAR(j["modes"][0]["bound_latency_s"].get<double>(), 60e-3, 1e-15);
  EXPECT_NEAR(j["modes"][1]["latency_s"].get<double>(), 269e-3, 1e-15);
  EXPECT_NEAR(j["modes"][1]["bound_latency_s"].get<double>(), 200e-3, 1e-15);
  EXPECT_EQ(j["modes"][1]["calibrated"], true);
  EXPECT_EQ(j["modes"][1]["layers"][2]["calibration"], "none");
  EXPECT_NEAR(j["modes"][1]["layers"][1]["bound_s"].get<double>(), 40e-3, 1e-15);
  EXPECT_EQ(j["calibration"]["mode"], "fast");
  EXPECT_EQ(j["calibration"]["model_benchmark"]["used"], true);
  // A folder of calibration files reads the same.
  const ScratchDir dir("calib_folder");
  (void)dir.write("cores2.json", read_file(layers));
  const auto folder = run_edgeroof({"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate",
                                    dir.path().string(), "--format", "json"});
  ASSERT_TRUE(succeeded(folder)) << folder.err;
  EXPECT_NEAR(json::parse(folder.out)["modes"][1]["latency_s"].get<double>(), 269e-3, 1e-15);
  // Without --calibrate nothing changes: the pure bound.
  const auto bound = run_edgeroof({"predict", "--workload", workload, "--rooflines", rooflines, "--format", "json"});
  ASSERT_TRUE(succeeded(bound));
  const auto b = json::parse(bound.out);
  EXPECT_NEAR(b["modes"][1]["latency_s"].get<double>(), 200e-3, 1e-15);
  EXPECT_EQ(b["modes"][1]["calibrated"], false);
  EXPECT_FALSE(b.contains("calibration"));
}

TEST(CalibrateCli, PredictTableHasTheBoundAndTheCalibrationBesideTheTime) {
  const auto r = run_edgeroof(
      {"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate", layers, "--mode", "slow"});
  ASSERT_TRUE(succeeded(r)) << r.err;
  EXPECT_NE(r.out.find("bound time"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("calib"), std::string::npos);
  EXPECT_NE(r.out.find("bound latency"), std::string::npos);
  EXPECT_NE(r.out.find("calibrated: t = o + max(W/F, Q/B)/eta"), std::string::npos);
  EXPECT_NE(r.out.find("overhead o = "), std::string::npos);
  const auto csv = run_edgeroof({"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate", layers,
                                 "--mode", "slow", "--format", "csv"});
  ASSERT_TRUE(succeeded(csv));
  EXPECT_EQ(csv.out.substr(0, csv.out.find('\n')),
            "layer,op,phase,FLOP,bytes,ceiling,bound,time,time 95%,bound time,calib,efficiency,energy,measured,error");
  EXPECT_NE(csv.out.find("\nmode,source,latency,bound latency,latency 95%,energy,energy 95%,power,compute-bound "
                         "layers,note\n"),
            std::string::npos)
      << csv.out;
}

// slow: 269 ms at 1.42901 J (test_calibrate.cpp); fast: 89 ms at 0.08401 + 5 · 0.089 = 0.52901 J.
// Fastest is fast; slow is three times slower and out of a 5% bound.
TEST(CalibrateCli, TuneCostsEveryModeCalibrated) {
  const auto r = run_edgeroof(
      {"tune", "--workload", workload, "--rooflines", rooflines, "--calibrate", layers, "--format", "json"});
  ASSERT_TRUE(succeeded(r)) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["chosen"]["key"], "fast");
  EXPECT_EQ(j["chosen"]["calibrated"], true);
  EXPECT_NEAR(j["chosen"]["latency_s"].get<double>(), 89e-3, 1e-12);
  EXPECT_NEAR(j["chosen"]["bound_latency_s"].get<double>(), 60e-3, 1e-12);
  EXPECT_NEAR(j["chosen"]["energy_J"].get<double>(), 0.52901, 1e-9);
  EXPECT_EQ(j["calibration"]["mode"], "fast");
  const auto table = run_edgeroof({"tune", "--workload", workload, "--rooflines", rooflines, "--calibrate", layers});
  ASSERT_TRUE(succeeded(table));
  EXPECT_NE(table.out.find("(predicted from the fitted rooflines, calibrated)"), std::string::npos) << table.out;
}

// index.html says what the calibration did and sets each mode's calibrated latency beside the
// model benchmark measured in it: fast (89 ms, the calibration's own) and slow (a results file: 250
// ms against 269 predicted, +7.6%).
TEST(CalibrateCli, PlotShowsTheCalibratedPredictionBesideTheMeasuredModel) {
  const ScratchDir dir("calib_plot");
  json slow = json::parse(read_file(layers));
  slow["context"]["power_mode.key"] = "slow";
  slow["benchmarks"] = json::array({slow["benchmarks"][7]});
  slow["benchmarks"][0]["real_time"] = 250.0;
  const auto results = dir.write("slow.json", slow.dump()).string();
  const auto out = (dir.path() / "report").string();
  const auto r = run_edgeroof(
      {"plot", rooflines, results, "--workload", workload, "--calibrate", layers, "--no-render", "-o", out});
  ASSERT_TRUE(succeeded(r)) << r.err;
  const std::string html = read_file(out + "/index.html");
  EXPECT_NE(html.find("predictions calibrated in mode fast"), std::string::npos) << html;
  EXPECT_NE(html.find("calibrated prediction vs measured model, mode fast: 0.089 s (bound 0.06 s) vs 0.089 s "
                      "measured (+0.0%), the calibration mode: equal by construction"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("calibrated prediction vs measured model, mode slow: 0.269 s (bound 0.2 s) vs 0.25 s measured "
                      "(+7.6%)"),
            std::string::npos);
  EXPECT_TRUE(fails_with(run_edgeroof({"plot", rooflines, "--calibrate", layers, "--no-render", "-o", out}), 2,
                         "edgeroof plot: --calibrate needs --model or --workload (see 'edgeroof plot --help')"));
}

// Each hostile figure: one line naming the file, the benchmark and the field, exit 1, no output file.
TEST(CalibrateCli, HostileCalibrationFilesAreOneErrorLine) {
  const ScratchDir dir("calib_bad");
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"/benchmarks/4/real_time", 0, "benchmark layer/cpu/tri/conv2/fwd/bs:1: real_time = 0 s is not positive"},
      {"/benchmarks/0/flops", nullptr, "benchmark layer/cpu/tri/conv1/fwd/bs:1: no flops counter"},
      {"/benchmarks/4/flops", 0, "benchmark layer/cpu/tri/conv2/fwd/bs:1: flops = 0 is not positive"},
      {"/benchmarks/4/bytes", 0, "benchmark layer/cpu/tri/conv2/fwd/bs:1: bytes = 0 is not positive"},
      {"/benchmarks/7/coverage", 1.5, "benchmarks[7] (model/cpu/tri/inference/bs:1): coverage = 1.5 is above 1"},
      {"/benchmarks/7/coverage", -0.5, "benchmarks[7] (model/cpu/tri/inference/bs:1): coverage = -0.5 is negative"},
      {"/benchmarks/7/real_time", 0, "benchmark model/cpu/tri/inference/bs:1: real_time = 0 s is not positive"},
      {"/context/power_mode.key", "maxn", "power_mode.key = maxn is not a mode of the rooflines"},
  };
  int n = 0;
  for (const auto& [pointer, value, line] : cases) {
    const auto file = mutated(dir, pointer, value, "c" + std::to_string(n++) + ".json");
    const auto out = (dir.path() / "out.txt").string();
    for (const char* cmd : {"predict", "tune"}) {
      const auto r =
          run_edgeroof({cmd, "--workload", workload, "--rooflines", rooflines, "--calibrate", file, "-o", out});
      EXPECT_TRUE(fails_with(r, 1, std::string("edgeroof ") + cmd + ": error: " + file + ": " + line)) << pointer;
      EXPECT_FALSE(fs::exists(out));
    }
  }
  // The same benchmark with two shapes in two files.
  const auto other = mutated(dir, "/benchmarks/4/flops", 2e9, "other.json");
  EXPECT_TRUE(fails_with(
      run_edgeroof(
          {"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate", layers, "--calibrate", other}),
      1,
      "edgeroof predict: error: " + other +
          ": benchmark layer/cpu/tri/conv2/fwd/bs:1: flops = 2000000000, bytes = 100000000 (repetition 0), but flops "
          "= 1000000000, bytes = 100000000 in " +
          layers + ": one benchmark with two shapes"));
  // Files of two modes.
  const auto slow = mutated(dir, "/context/power_mode.key", "slow", "slow.json");
  EXPECT_TRUE(fails_with(run_edgeroof({"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate",
                                       layers, "--calibrate", slow}),
                         1,
                         "edgeroof predict: error: " + slow + ": power_mode.key = slow, but " + layers +
                             " is of mode fast: calibration files must come from one mode"));
  // A file a results reader refuses is its line too.
  const auto cut = dir.write("cut.json", read_file(layers).substr(0, 300)).string();
  EXPECT_TRUE(fails_with_line_containing(
      run_edgeroof({"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate", cut}), 1, cut));
}

// --results with a model benchmark of another mode: the calibrated latency beside what the whole
// model measured there (slow: 269 ms predicted, 250 ms measured: +7.6%).
TEST(CalibrateCli, PredictSetsTheMeasuredModelBesideEachModesLatency) {
  const ScratchDir dir("calib_results");
  json slow = json::parse(read_file(layers));
  slow["context"]["power_mode.key"] = "slow";
  slow["benchmarks"] = json::array({slow["benchmarks"][7]});
  slow["benchmarks"][0]["real_time"] = 250.0;
  const auto results = dir.write("slow.json", slow.dump()).string();
  const auto r = run_edgeroof({"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate", layers,
                               "--results", results, "--format", "json"});
  ASSERT_TRUE(succeeded(r)) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_FALSE(j["modes"][0].contains("measured_s"));  // fast's model benchmark is in --calibrate, not --results
  EXPECT_NEAR(j["modes"][1]["measured_s"].get<double>(), 0.25, 1e-15);
  EXPECT_NEAR(j["modes"][1]["error"].get<double>(), (0.269 - 0.25) / 0.25, 1e-12);
  const auto t = run_edgeroof({"predict", "--workload", workload, "--rooflines", rooflines, "--calibrate", layers,
                               "--results", results, "--results", layers, "--format", "csv"});
  ASSERT_TRUE(succeeded(t)) << t.err;
  EXPECT_NE(t.out.find("mode,source,latency,bound latency,measured,error,"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("\nslow,measured,0.269 s,0.2 s,0.25 s,+7.6%,"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("\nfast,measured,0.089 s,0.06 s,0.089 s,+0.0%,"), std::string::npos) << t.out;
}
