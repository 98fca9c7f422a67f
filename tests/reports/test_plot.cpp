// plot: the report folder from synthetic results (PNG and SVG rendered when gnuplot is present),
// a clear error without gnuplot or when it fails, and nothing written in either case.
#include "edgeroof/reports/plot.hpp"
#include "synthetic_results.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

using namespace edgeroof::reports;
using edgeroof::testing::synthetic_results;
using edgeroof::testing::SyntheticMode;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Plot : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("edgeroof_test_plot_" + std::to_string(::getpid()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    // Three modes; the fastest clocks are MAXN.
    SyntheticMode maxn;
    SyntheticMode mid;
    mid.key = "c8-gpu816";
    mid.name = "c8-gpu816";
    mid.id = 2;
    for (auto& [k, v] : mid.flops_per_s) v *= 816.0 / 1300.5;
    mid.static_W = 6.0;
    for (auto& [k, v] : mid.eps_flop_J) v *= 0.7;
    SyntheticMode slow = mid;
    slow.key = "c4-gpu408";
    slow.name = "c4-gpu408";
    for (auto& [k, v] : slow.flops_per_s) v *= 0.5;
    slow.bytes_per_s["dram"] *= 0.66;
    slow.static_W = 4.5;
    unsigned seed = 1;
    for (const auto* m : {&maxn, &mid, &slow})
      m_results.push_back(parse_results(synthetic_results(*m, seed++), m->key + ".json"));
    m_rooflines = fit_rooflines(m_results);
    m_workload.model = "two-layers";
    m_workload.batch = 8;
    m_workload.layers.push_back({"conv", "conv2d", "forward", {}, {}, 2e10, 4e8, "fp32", true, {}});
    m_workload.layers.push_back({"relu", "relu", "forward", {}, {}, 1e8, 8e8, "fp32", false, {}});
  }
  void TearDown() override { fs::remove_all(m_dir); }

  PlotOptions options(const std::string& sub) const {
    PlotOptions o;
    o.out_dir = m_dir / sub;
    o.results = m_results;
    o.workload = m_workload;
    return o;
  }

  fs::path m_dir;
  std::vector<ResultsFile> m_results;
  Rooflines m_rooflines;
  edgeroof::dnn::Workload m_workload;
};

}  // namespace

TEST_F(Plot, RendersPngAndSvgOfEveryChart) {
  auto o = options("report");
  try {
    (void)find_gnuplot(o);
  } catch (const PlotError& e) {
    GTEST_SKIP() << "gnuplot is not installed here: " << e.what();
  }
  const auto report = write_report(m_rooflines, o);
  const std::vector<std::string> expected = {"time_roofline", "energy_roofline", "power",
                                             "modes_time",    "modes_energy",    "latency_energy"};
  EXPECT_EQ(report.charts, expected);
  EXPECT_TRUE(report.notes.empty());
  for (const auto& c : expected) {
    const std::string png = slurp(o.out_dir / (c + ".png"));
    ASSERT_GT(png.size(), 1000u) << c;
    EXPECT_EQ(png.substr(0, 4), "\x89PNG") << c;
    const std::string svg = slurp(o.out_dir / (c + ".svg"));
    EXPECT_NE(svg.find("<svg"), std::string::npos) << c;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << c;
    EXPECT_NE(slurp(o.out_dir / (c + ".gp")).find("plot \\"), std::string::npos) << c;
    EXPECT_FALSE(fs::exists(o.out_dir / (c + ".png.tmp")));
  }
  const std::string index = slurp(o.out_dir / "index.html");
  EXPECT_NE(index.find("<img src=\"time_roofline.png\""), std::string::npos);
  EXPECT_NE(index.find("latency_energy.png"), std::string::npos);
  EXPECT_NE(index.find("saving vs MAXN"), std::string::npos);
  EXPECT_NE(index.find("idle 7.5 W measured"), std::string::npos);
}

TEST_F(Plot, DataFilesHoldTheRoofsRidgesAndPoints) {
  auto o = options("data");
  o.render = false;
  (void)write_report(m_rooflines, o);
  const std::string time = slurp(o.out_dir / "time_roofline.dat");
  EXPECT_NE(time.find("# roof cuda/fp32 over dram"), std::string::npos);
  EXPECT_NE(time.find("# bandwidth cuda/l2"), std::string::npos);
  EXPECT_NE(time.find("# ridge points"), std::string::npos);
  EXPECT_NE(time.find("\"compute/cuda/fp32/ai:256\""), std::string::npos);
  EXPECT_NE(time.find("# predicted DNN layers"), std::string::npos);
  // The primary mode is MAXN: its fp32 roof flattens at its fitted ceiling.
  const auto& maxn = m_rooflines.modes[0];
  char ceiling[32];
  std::snprintf(ceiling, sizeof(ceiling), " %.9g\n", maxn.compute_flops_per_s.at("cuda/fp32").value);
  EXPECT_NE(time.find(ceiling), std::string::npos);
  const std::string plane = slurp(o.out_dir / "latency_energy.dat");
  EXPECT_NE(plane.find("# MAXN\n"), std::string::npos);
  EXPECT_NE(plane.find("\"maxn\""), std::string::npos);
  EXPECT_NE(plane.find("# chosen\n"), std::string::npos);
  EXPECT_TRUE(fs::exists(o.out_dir / "index.html"));
  EXPECT_FALSE(fs::exists(o.out_dir / "time_roofline.png"));
}

TEST_F(Plot, MissingGnuplotIsOneClearErrorAndWritesNothing) {
  auto o = options("none");
  o.search_path = (m_dir / "empty-bin").string();
  fs::create_directories(*o.search_path);
  try {
    (void)write_report(m_rooflines, o);
    FAIL();
  } catch (const PlotError& e) {
    EXPECT_EQ(std::string(e.what()),
              "gnuplot not found on PATH (install gnuplot-nox, e.g. 'sudo apt-get install gnuplot-nox', or pass "
              "--gnuplot PATH)");
  }
  EXPECT_FALSE(fs::exists(o.out_dir));
  o.gnuplot = (m_dir / "no" / "gnuplot").string();
  EXPECT_THROW((void)write_report(m_rooflines, o), PlotError);
}

TEST_F(Plot, FailingGnuplotNamesTheScriptAndItsMessage) {
  const fs::path fake = m_dir / "fake-gnuplot";
  std::ofstream(fake) << "#!/bin/sh\necho 'line 3: unknown or ambiguous terminal type' >&2\nexit 1\n";
  fs::permissions(fake, fs::perms::owner_all);
  auto o = options("failing");
  o.gnuplot = fake.string();
  try {
    (void)write_report(m_rooflines, o);
    FAIL();
  } catch (const PlotError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("gnuplot failed on"), std::string::npos) << what;
    EXPECT_NE(what.find("time_roofline.gp (line 3: unknown or ambiguous terminal type)"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(o.out_dir / "time_roofline.png"));
}

TEST_F(Plot, ModesWithoutEnergyLeaveTheEnergyChartsOutAndSaySo) {
  SyntheticMode m;
  m.with_energy = false;
  const auto r = fit_rooflines({parse_results(synthetic_results(m, 5), "noenergy.json")});
  PlotOptions o;
  o.out_dir = m_dir / "noenergy";
  o.render = false;
  // A second run that names no power mode (another file stem) still belongs to the only mode.
  auto other_run = parse_results(synthetic_results(m, 6), "other-run.json");
  other_run.context.erase("power_mode.key");
  o.results = {other_run};
  const auto report = write_report(r, o);
  EXPECT_EQ(report.charts, std::vector<std::string>{"time_roofline"});
  ASSERT_EQ(report.notes.size(), 2u);
  EXPECT_NE(report.notes[0].find("no --model"), std::string::npos);
  EXPECT_NE(report.notes[1].find("no energy fit"), std::string::npos);
  EXPECT_NE(slurp(o.out_dir / "time_roofline.dat").find("\"compute/cuda/fp32/ai:1\""), std::string::npos);
}
