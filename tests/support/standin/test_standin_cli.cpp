// edgeroof-standin on the command line: modes.json, results files written whole or not at all, and
// a stand-in edgeroof-bench that `edgeroof sweep` drives over a fake Orin tree.
#include "standin.hpp"

#include "edgeroof/reports/fit.hpp"
#include "fake_orin.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

using namespace edgeroof;
namespace fs = std::filesystem;

test::ProgramRun standin_run(const std::vector<std::string>& args) {
  return test::run_program(EDGEROOF_STANDIN_EXE, args);
}

std::size_t files_in(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(StandinCli, ModesPrintsTheGrid) {
  const auto run = standin_run({"modes", "--board", "orin-agx"});
  ASSERT_TRUE(test::succeeded(run));
  const auto doc = nlohmann::json::parse(run.out);
  EXPECT_EQ(doc.at("modes").size(), 4368u);
  EXPECT_EQ(doc["modes"][0].at("key"), "c2-cpu268800-gpu114750000-emc204000000");
}

TEST(StandinCli, ResultsFitBackAndBadInputWritesNothing) {
  test::ScratchDir dir("standin-cli");
  const auto modes = dir.write(
      "modes.json",
      standin::modes_json(standin::grid_modes(standin::orin_agx(), power::parse_grid_spec("cores=4,12;cpu=2201600;"
                                                                                          "gpu=1300500000;emc=all"))));
  const fs::path out = dir.path() / "results";
  ASSERT_TRUE(test::succeeded(standin_run(
      {"results", "--board", "orin-agx", "--modes", modes.string(), "--all", "--seed", "5", "--out", out.string()})));
  ASSERT_EQ(files_in(out), 8u);
  const auto fitted = reports::fit_rooflines(
      results::load_results(std::vector<fs::path>{out / "c12-cpu2201600-gpu1300500000-emc3199000000.json"}));
  EXPECT_EQ(fitted.modes.at(0).cpu_online, 12);
  EXPECT_EQ(fitted.modes.at(0).gpu_hz, 1300500000);

  // The keys of a plan (`edgeroof plan`'s JSON) name the modes to make.
  const auto plan =
      dir.write("plan.json", R"({"measure": ["c4-cpu2201600-gpu1300500000-emc665600000"], "budget": 44})");
  const fs::path planned = dir.path() / "planned";
  ASSERT_TRUE(test::succeeded(standin_run({"results", "--board", "orin-agx", "--modes", modes.string(), "--plan",
                                           plan.string(), "--out", planned.string()})));
  EXPECT_TRUE(fs::exists(planned / "c4-cpu2201600-gpu1300500000-emc665600000.json"));
  EXPECT_EQ(files_in(planned), 1u);

  const fs::path none = dir.path() / "none";
  EXPECT_TRUE(test::fails_with(standin_run({"results", "--board", "orin-agx", "--modes", modes.string(), "--keys",
                                            "c4-cpu2201600-gpu1300500000-emc204000000,nope", "--out", none.string()}),
                               1, "edgeroof-standin: --keys: mode 'nope' is not in the mode list"));
  const auto bad = dir.write("bad.json", R"({"modes": [{"key": "m", "cpu_online": 4, "cpu_max_khz": 2201600,
      "gpu_max_hz": -5, "emc_max_hz": 3199000000}]})");
  EXPECT_TRUE(test::fails_with(
      standin_run({"results", "--board", "orin-agx", "--modes", bad.string(), "--all", "--out", none.string()}), 1,
      "edgeroof-standin: " + bad.string() +
          ": modes[0].gpu_max_hz = -5 is not a whole number from 1 to 1099511627776"));
  const auto off_table = dir.write("off.json", R"({"modes": [{"key": "ok", "cpu_online": 4, "cpu_max_khz": 2201600,
      "gpu_max_hz": 1300500000, "emc_max_hz": 3199000000}, {"key": "fast", "cpu_online": 4, "cpu_max_khz": 2201600,
      "gpu_max_hz": 2000000000, "emc_max_hz": 3199000000}]})");
  EXPECT_TRUE(test::fails_with(
      standin_run({"results", "--board", "orin-agx", "--modes", off_table.string(), "--all", "--out", none.string()}),
      1, "edgeroof-standin: mode fast: gpu_hz = 2000000000 is outside 114750000..1300500000 (board orin-agx)"));
  const auto bad_plan = dir.write("bad-plan.json", R"({"measure": [3]})");
  EXPECT_TRUE(test::fails_with(standin_run({"results", "--board", "orin-agx", "--modes", modes.string(), "--plan",
                                            bad_plan.string(), "--out", none.string()}),
                               1, "edgeroof-standin: " + bad_plan.string() + ": measure[0] is not a string"));
  EXPECT_EQ(files_in(none), 0u);
  EXPECT_TRUE(test::fails_with(standin_run({"results", "--board", "xavier"}), 2,
                               "edgeroof-standin: unknown stand-in board 'xavier' (orin-agx or orin-nx) (see --help)"));
}

// `edgeroof sweep --bench edgeroof-standin` over a fake Orin: every mode's file, with the mode the
// sweep set, fits back to the stand-in's physics of that mode.
TEST(StandinCli, StandsInForTheBenchOfASweep) {
  edgeroof::testing::FakeOrin orin("standin-sweep");
  const fs::path out = orin.dir() / "results";
  const auto run = test::run_edgeroof({"sweep", "--modes", "grid:cores=4,12;cpu=1190400;gpu=624750000;emc=3199000000",
                                       "--root", orin.dir().string(), "--out", out.string(), "--bench",
                                       EDGEROOF_STANDIN_EXE, "--settle-timeout-s", "0", "--", "--standin-seed=3"});
  ASSERT_TRUE(test::succeeded(run)) << run.err;
  const auto key = "c4-cpu1190400-gpu624750000-emc3199000000";
  const auto fitted =
      reports::fit_rooflines(results::load_results(std::vector<fs::path>{out / (std::string(key) + ".json")}));
  const auto& m = fitted.modes.at(0);
  EXPECT_EQ(m.key, key);
  EXPECT_EQ(m.cpu_online, 4);
  const auto b = standin::orin_agx();
  power::PowerMode pm;
  pm.key = key;
  pm.cpu_online = 4;
  pm.cpu_max_khz = 1190400;
  pm.gpu_max_hz = 624750000;
  pm.emc_max_hz = 3199000000;
  const auto f = standin::figures_of(b, standin::knobs_of(b, pm));
  EXPECT_NEAR(m.compute_flops_per_s.at("cuda/fp32").value / f.fp32_flops_per_s, 1.0, 0.03);
  EXPECT_NEAR(m.compute_flops_per_s.at("cpu/fp32").value / f.cpu_flops_per_s, 1.0, 0.03);
  EXPECT_EQ(files_in(out), 2u);
}

}  // namespace
