// plot, the library: the report folder from synthetic results (rendered by the real gnuplot where
// installed); figures that are not finite never reach a chart; a gnuplot that hangs is ended.
#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/reports/plot.hpp"
#include "plot_inputs.hpp"
#include "program.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace edgeroof::reports;
using edgeroof::test::fails_with;
using edgeroof::test::read_file;
using edgeroof::test::run_edgeroof;
using edgeroof::test::ScratchDir;
using edgeroof::test::succeeded;
using edgeroof::testing::have_gnuplot;
using edgeroof::testing::Inputs;
using edgeroof::testing::make_inputs;
using edgeroof::testing::named;
using edgeroof::testing::synthetic_results;
using edgeroof::testing::SyntheticMode;
namespace fs = std::filesystem;

namespace {

class Plot : public ::testing::Test {
protected:
  PlotOptions options(const std::string& sub) const {
    PlotOptions o;
    o.out_dir = m_dir.path() / sub;
    o.results = m_in.results;
    o.workload = m_in.workload;
    return o;
  }
  ScratchDir m_dir{"test_plot"};
  Inputs m_in = make_inputs();
};

}  // namespace

TEST_F(Plot, RendersPngAndSvgOfEveryChart) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed here";
  const auto o = options("report");
  const auto report = write_report(m_in.rooflines, o);
  const std::vector<std::string> expected = {"time_roofline", "energy_roofline", "power",
                                             "modes_time",    "modes_energy",    "latency_energy"};
  EXPECT_EQ(report.charts, expected);
  EXPECT_TRUE(report.notes.empty());
  EXPECT_TRUE(report.warnings.empty());
  // The marker, .dat, .gp, .png and .svg of six charts, and the page.
  EXPECT_EQ(report.files.size(), 1u + 4u * expected.size() + 1u);
  for (const auto& f : report.files) EXPECT_TRUE(fs::is_regular_file(f)) << f;
  EXPECT_EQ(std::distance(fs::directory_iterator(o.out_dir), fs::directory_iterator()), 26);
  for (const auto& c : expected) {
    const std::string png = read_file(o.out_dir / (c + ".png"));
    ASSERT_GT(png.size(), 1000u) << c;
    EXPECT_EQ(png.substr(0, 4), "\x89PNG") << c;
    const std::string svg = read_file(o.out_dir / (c + ".svg"));
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << c;
  }
  // Legend entries and titles are read from the data: they are in the rendered chart.
  const std::string svg = read_file(o.out_dir / "time_roofline.svg");
  EXPECT_NE(svg.find("Time roofline of mode MAXN (maxn): FLOP/s = min(F, I x B)"), std::string::npos);
  EXPECT_NE(svg.find("cuda/fp32 roof (5"), std::string::npos);
  EXPECT_NE(svg.find("cuda/fp32@dram"), std::string::npos);  // a ridge point's label
  const std::string index = read_file(o.out_dir / "index.html");
  EXPECT_NE(index.find("<img src=\"time_roofline.png\""), std::string::npos);
  EXPECT_NE(index.find("saving vs MAXN"), std::string::npos);
  EXPECT_NE(index.find("idle 7.5 W measured"), std::string::npos);
  EXPECT_TRUE(named(m_dir.path(), ".edgeroof-plot-").empty());
}

TEST_F(Plot, DataFilesHoldTheRoofsRidgesPointsAndEveryTitle) {
  auto o = options("data");
  o.render = false;
  (void)write_report(m_in.rooflines, o);
  const std::string time = read_file(o.out_dir / "time_roofline.dat");
  EXPECT_NE(time.find("\n0 \"MAXN (maxn)\"\n"), std::string::npos);  // the title's subject
  EXPECT_NE(time.find("# mode maxn: roof cuda/fp32 over dram\n\"-\" \"cuda/fp32 roof (5"), std::string::npos);
  EXPECT_NE(time.find("# mode maxn: bandwidth cuda/l2\n"), std::string::npos);
  EXPECT_NE(time.find(" \"compute/cuda/fp32/ai:256\"\n"), std::string::npos);
  EXPECT_NE(time.find("\"two-layers layers (predicted)\""), std::string::npos);
  // The primary mode is MAXN: its fp32 roof flattens at its fitted ceiling.
  char ceiling[32];
  std::snprintf(ceiling, sizeof(ceiling), " %.9g\n", m_in.rooflines.modes[0].compute_flops_per_s.at("cuda/fp32").value);
  EXPECT_NE(time.find(ceiling), std::string::npos);
  const std::string plane = read_file(o.out_dir / "latency_energy.dat");
  EXPECT_NE(plane.find("\"-\" \"MAXN: maxn\"\n"), std::string::npos);
  EXPECT_NE(plane.find(" \"maxn\"\n"), std::string::npos);
  const std::string script = read_file(o.out_dir / "time_roofline.gp");
  EXPECT_NE(script.find("stats 'time_roofline.dat' index 0 using (subject = strcol(2), 0) nooutput"),
            std::string::npos);
  EXPECT_EQ(script.find("maxn"), std::string::npos);
  EXPECT_EQ(script.find("cuda"), std::string::npos);  // ceiling keys come from the file too
  EXPECT_TRUE(fs::exists(o.out_dir / ".edgeroof-report"));
  EXPECT_FALSE(fs::exists(o.out_dir / "time_roofline.png"));
}

TEST_F(Plot, ModesWithoutEnergyLeaveTheEnergyChartsOutAndSaySo) {
  SyntheticMode m;
  m.with_energy = false;
  const auto r = fit_rooflines({parse_results(synthetic_results(m, 5), "noenergy.json")});
  PlotOptions o;
  o.out_dir = m_dir.path() / "noenergy";
  o.render = false;
  // A second run that names no power mode (another file stem) still belongs to the only mode.
  auto other_run = parse_results(synthetic_results(m, 6), "other-run.json");
  other_run.context.erase("power_mode.key");
  o.results = {other_run};
  const auto report = write_report(r, o);
  EXPECT_EQ(report.charts, std::vector<std::string>{"time_roofline"});
  ASSERT_EQ(report.notes.size(), 2u);
  EXPECT_EQ(report.notes[0], "latency_energy left out: no --model or --workload given");
  EXPECT_EQ(report.notes[1],
            "energy_roofline and power left out: mode maxn has no energy fit (measured without a sensor)");
  EXPECT_NE(read_file(o.out_dir / "time_roofline.dat").find(" \"compute/cuda/fp32/ai:1\""), std::string::npos);
}

// Raw bytes no JSON file can carry (invalid UTF-8) reach the report only through the library.
TEST_F(Plot, BytesThatAreNotTextAreShownAsQuestionMarks) {
  Inputs in = make_inputs();  // JSON cannot hold these bytes: set them after the fit
  // An overlong '/' (2 bytes) and a surrogate (3 bytes) are a '?' per byte; U+202E is one '?'.
  in.rooflines.modes[0].name = "MA\xffXN\n!touch PWNED\x1b[2J\xc0\xaf\xed\xa0\x80 \xe2\x80\xae";
  auto o = options("junk");
  o.render = have_gnuplot();
  const auto report = write_report(in.rooflines, o);
  EXPECT_TRUE(report.warnings.empty());
  EXPECT_NE(read_file(o.out_dir / "time_roofline.dat").find("\n0 \"MA?XN?!touch PWNED?[2J????? ? (maxn)\"\n"),
            std::string::npos);
  EXPECT_NE(read_file(o.out_dir / "index.html").find("<b>MA?XN?!touch PWNED?[2J????? ? (maxn)</b>"), std::string::npos);
  EXPECT_TRUE(named(m_dir.path(), "PWNED").empty());
}

TEST_F(Plot, FiguresThatCannotBeDrawnAreLeftOutWithOneWarningEach) {
  auto& maxn = m_in.rooflines.modes[0];
  maxn.compute_flops_per_s["cuda/fp64"].value = -3.0;
  maxn.bandwidth_bytes_per_s["cuda/l2"].value = std::numeric_limits<double>::infinity();
  maxn.energy["cuda"].eps_flop_J["fp16-tensor"] = std::nan("");
  m_in.rooflines.modes[1].energy["cuda"].static_W = -1.0;
  m_in.rooflines.modes[2].gpu_hz = 0;
  auto o = options("bad-figures");
  o.render = false;
  const auto report = write_report(m_in.rooflines, o);
  const std::vector<std::string> expected = {
      "mode maxn: compute_flops_per_s cuda/fp64 (-3) is not a positive finite number; left out",
      "mode maxn: bandwidth_bytes_per_s cuda/l2 (not finite) is not a positive finite number; left out",
      "mode maxn: energy.cuda.eps_flop_J fp16-tensor (not finite) is not a non-negative finite number; left out",
      "mode c8-gpu816: energy.cuda.static_W (-1) is not a non-negative finite number; the energy fit of cuda is left "
      "out",
      "mode c4-gpu408: gpu_hz (0) is not positive; left out"};
  EXPECT_EQ(report.warnings, expected);
  const std::string time = read_file(o.out_dir / "time_roofline.dat");
  EXPECT_EQ(time.find("\"cuda/fp64 roof"), std::string::npos);
  EXPECT_EQ(time.find("bandwidth cuda/l2"), std::string::npos);
  EXPECT_NE(time.find("\"cuda/fp32 roof"), std::string::npos);
  EXPECT_NE(read_file(o.out_dir / "index.html").find("warning: mode c4-gpu408: gpu_hz (0)"), std::string::npos);
}

TEST_F(Plot, AGnuplotThatHangsIsEndedAtTheTimeLimit) {
  const fs::path fake = m_dir.path() / "hanging-gnuplot";
  std::ofstream(fake) << "#!/bin/sh\ncase \"$*\" in *.gp) exec sleep 30;; esac\nexit 0\n";
  fs::permissions(fake, fs::perms::owner_all);
  auto o = options("hanging");
  o.gnuplot = fake.string();
  o.render_timeout_s = 0.25;
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)write_report(m_in.rooflines, o);
    ADD_FAILURE() << "no error";
  } catch (const PlotError& e) {
    EXPECT_STREQ(e.what(), "gnuplot did not finish within 0.25 s; no report written");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));  // not the 30 s of the sleep
  EXPECT_FALSE(fs::exists(o.out_dir));
  EXPECT_TRUE(named(m_dir.path(), ".edgeroof-plot-").empty());
}
