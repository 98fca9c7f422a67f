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

namespace {

// A 4 EMC x 3 GPU slice at 12 cores and 2.2016 GHz (MAXN's), two of its modes measured and the
// others modeled, and two modes off the slice (a slower CPU clock). F(fp32) = 5e12·g, B = 1.5e11·e,
// π0 = 4 + 5g + 2e W, ε_byte(dram) = 1e-10·(1 + e) (g, e: fractions of the top clocks).
Rooflines knob_grid() {
  Rooflines r;
  const std::int64_t gpus[] = {612000000, 930750000, 1300500000};
  const std::int64_t emcs[] = {204000000, 665600000, 2133000000, 3199000000};
  auto add = [&](std::int64_t cpu_khz, std::int64_t gpu, std::int64_t emc, bool measured) {
    RooflineMode m;
    m.key = "c12-cpu" + std::to_string(cpu_khz) + "-gpu" + std::to_string(gpu) + "-emc" + std::to_string(emc);
    m.name = gpu == 1300500000 && emc == 3199000000 && cpu_khz == 2201600 ? "MAXN" : m.key;
    m.source = measured ? "measured" : "modeled";
    m.cpu_online = 12;
    m.cpu_khz = cpu_khz;
    m.gpu_hz = gpu;
    m.emc_hz = emc;
    const double g = static_cast<double>(gpu) / 1300500000.0, e = static_cast<double>(emc) / 3199000000.0;
    m.compute_flops_per_s["cuda/fp32"] = {5e12 * g, "", std::nullopt};
    m.bandwidth_bytes_per_s["cuda/dram"] = {1.5e11 * e, "", std::nullopt};
    EnergyFit fit;
    fit.eps_flop_J["fp32"] = 8e-12;
    fit.eps_byte_J["dram"] = 1e-10 * (1.0 + e);
    fit.static_W = 4.0 + 5.0 * g + 2.0 * e;
    m.energy["cuda"] = fit;
    r.modes.push_back(m);
  };
  for (const auto gpu : gpus) {
    for (const auto emc : emcs) {
      const bool corner = (gpu == 612000000 && emc == 204000000) || (gpu == 1300500000 && emc == 3199000000);
      add(2201600, gpu, emc, corner);
    }
  }
  add(1000000, 612000000, 204000000, true);
  add(1000000, 612000000, 665600000, false);
  return r;
}

// The rows of the block of `data` whose comment line is `# where`, up to the blank line after it.
std::vector<std::string> block_rows(const std::string& data, const std::string& where) {
  std::vector<std::string> rows;
  auto at = data.find("# " + where + "\n");
  if (at == std::string::npos) return rows;
  at = data.find('\n', at) + 1;
  for (auto end = data.find('\n', at); end != std::string::npos && end > at; end = data.find('\n', at)) {
    rows.push_back(data.substr(at, end - at));
    at = end + 1;
  }
  return rows;
}

}  // namespace

TEST_F(Plot, KnobMapsDrawTheSliceWithMeasuredModesMarked) {
  auto o = options("maps");
  o.results.clear();
  o.render = have_gnuplot();  // gnuplot must accept the scripts where it is installed
  const auto report = write_report(knob_grid(), o);
  const std::vector<std::string> maps = {"map_compute",  "map_bandwidth", "map_static_W",
                                         "map_eps_byte", "map_latency",   "map_energy"};
  for (const auto& m : maps) {
    EXPECT_NE(std::find(report.charts.begin(), report.charts.end(), m), report.charts.end()) << m;
    if (o.render) {
      EXPECT_EQ(read_file(o.out_dir / (m + ".png")).substr(0, 4), "\x89PNG") << m;
    }
  }
  EXPECT_TRUE(report.warnings.empty());
  // EMC has the most values (4): x; GPU (3): y; the CPU clock and cores are fixed at MAXN's.
  const std::string data = read_file(o.out_dir / "map_compute.dat");
  const auto cells = block_rows(data, "knob map map_compute: cells");
  ASSERT_EQ(cells.size(), 12u);  // the slice, not the two modes at 1 GHz
  EXPECT_EQ(cells.front(), "0 0 2.35294118e+12");
  EXPECT_NE(std::find(cells.begin(), cells.end(), "3 2 5e+12"), cells.end());
  EXPECT_EQ(block_rows(data, "knob map map_compute: measured modes"),
            (std::vector<std::string>{"\"-\" \"measured modes\"", "0 0", "3 2"}));
  EXPECT_NE(data.find("\n0 \"cuda/fp32\"\n"), std::string::npos);  // the title's subject is data
  const std::string script = read_file(o.out_dir / "map_compute.gp");
  EXPECT_NE(script.find("set title 'Compute ceiling '.subject.' over EMC clock and GPU clock; slice CPU 2201.6 MHz, "
                        "cores 12; circles: measured modes'"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("set xtics ('204' 0, '665.6' 1, '2133' 2, '3199' 3)"), std::string::npos);
  EXPECT_NE(script.find("set ytics ('612' 0, '930.75' 1, '1300.5' 2)"), std::string::npos);
  EXPECT_NE(script.find("using 1:2:(0.5):(0.5):3 with boxxyerror"), std::string::npos);
  EXPECT_EQ(script.find("cuda"), std::string::npos);  // names from the file stay in the data
  // The workload's maps hold its predicted figures for the same 12 cells.
  EXPECT_EQ(block_rows(read_file(o.out_dir / "map_energy.dat"), "knob map map_energy: cells").size(), 12u);
  EXPECT_NE(read_file(o.out_dir / "index.html").find("map_ charts"), std::string::npos);
}

// One knob varying is no map; a note says so where modes are modeled.
TEST_F(Plot, KnobMapsNeedTwoKnobsThatVary) {
  Rooflines r = knob_grid();
  r.modes.resize(3);  // a 612 MHz GPU at three EMC clocks: the EMC clock alone varies
  auto o = options("one-knob");
  o.results.clear();
  o.workload.reset();
  o.render = false;
  const auto report = write_report(r, o);
  EXPECT_EQ(std::count_if(report.charts.begin(), report.charts.end(),
                          [](const std::string& c) { return c.rfind("map_", 0) == 0; }),
            0);
  EXPECT_NE(std::find(report.notes.begin(), report.notes.end(),
                      "knob maps left out: fewer than two knobs vary among the modes"),
            report.notes.end());
}
