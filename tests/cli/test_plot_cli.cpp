// edgeroof plot as a user runs it: names crafted to run commands stay data; figures that are not
// finite never print as inf or nan; the report is written whole or not at all (gnuplot failing,
// SIGINT/SIGTERM, a refused -o).
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

// rooflines.json, results.json and workload.json in a scratch folder; `payload` is in every name
// a file can give: mode keys and names, a benchmark's, the model's and its layers'.
struct CliFiles {
  ScratchDir dir{"test_plot_cli"};
  fs::path rooflines, results, workload;
};

void write_files(CliFiles& f, const Inputs& in, const std::string& payload) {
  f.rooflines = f.dir.write("rooflines.json", to_json(in.rooflines).dump());
  auto doc = nlohmann::json::parse(synthetic_results(SyntheticMode{}, 1));
  if (!payload.empty()) {
    doc["context"]["power_mode.key"] = in.rooflines.modes[0].key;
    doc["context"]["power_mode.name"] = in.rooflines.modes[0].name;
    auto layer = doc["benchmarks"][0];
    layer["name"] = layer["run_name"] = "layer/cuda/" + payload + "/forward/bs:8";
    doc["benchmarks"].push_back(layer);
  }
  f.results = f.dir.write("results.json", doc.dump());
  auto w = in.workload;
  if (!payload.empty()) {
    w.model = payload;
    for (auto& l : w.layers) l.name = payload + l.name;
  }
  f.workload = f.dir.write("workload.json", edgeroof::dnn::to_json(w).dump());
}

std::vector<std::string> plot_args(const CliFiles& f, const fs::path& out) {
  return {"plot", f.rooflines.string(), f.results.string(), "--workload", f.workload.string(), "-o", out.string()};
}

struct Crafted {
  const char* test_name;
  std::string payload;
  std::string in_html;  // the MAXN mode's name as index.html shows it
};

std::vector<Crafted> crafted_names() {
  return {{"NewlineAndBang", "\"\n!touch PWNED1\n", "&quot;?!touch PWNED1?"},
          {"Backquotes", "`touch PWNED2`", "`touch PWNED2`"},
          {"SystemCall", "'; system(\"touch PWNED3\"); '", "&#39;; system(&quot;touch PWNED3&quot;); &#39;"},
          {"OutputAndMacro", "\"; set output 'PWNED4'; m='!touch PWNED4'; @m; #",
           "&quot;; set output &#39;PWNED4&#39;; m=&#39;!touch PWNED4&#39;; @m; #"},
          {"TenKilobytes", std::string(10240, 'x'), std::string(10240, 'x')},
          {"Utf8",
           "Gr\xc3\xb6\xc3\x9f"
           "e \xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93",
           "Gr\xc3\xb6\xc3\x9f"
           "e \xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93"},
          {"ControlsAndMarkup", "\x01\x1b[31m\xc2\x85\xe2\x80\xae\xef\xbf\xbf<script>alert(1)</script>]]>",
           "??[31m???&lt;script&gt;alert(1)&lt;/script&gt;]]&gt;"}};
}

class PlotCrafted : public ::testing::TestWithParam<Crafted> {};

}  // namespace

// The names are data: nothing runs, they are shown (escaped), and no script holds them.
TEST_P(PlotCrafted, NamesFromFilesNeverRunAndAreStillShown) {
  const auto& c = GetParam();
  CliFiles f;
  const Inputs in = make_inputs({{"maxn", c.payload}, {c.payload + "-mid", c.payload + " mid"}});
  write_files(f, in, c.payload);
  const fs::path out = f.dir.path() / "report";
  auto args = plot_args(f, out);
  if (!have_gnuplot()) args.push_back("--no-render");
  edgeroof::test::ProgramOptions in_dir;
  in_dir.cwd = f.dir.path();
  const auto run = run_edgeroof(args, in_dir);
  ASSERT_TRUE(succeeded(run));
  EXPECT_EQ(run.err, "");
  EXPECT_TRUE(named(f.dir.path(), "PWNED").empty());
  EXPECT_TRUE(named(fs::current_path(), "PWNED").empty());
  const std::string index = read_file(out / "index.html");
  EXPECT_NE(index.find("<b>" + c.in_html + " (maxn)</b>"), std::string::npos);
  EXPECT_NE(index.find("workload is <b>"), std::string::npos);
  std::size_t scripts = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    if (e.path().extension() != ".gp") continue;
    ++scripts;
    const std::string gp = read_file(e.path());
    EXPECT_EQ(gp.find("PWNED"), std::string::npos) << e.path();
    EXPECT_EQ(gp.find_first_of("`@"), std::string::npos) << e.path();
    EXPECT_EQ(gp.find("xxxxxxxx"), std::string::npos) << e.path();
    EXPECT_EQ(gp.find("alert("), std::string::npos) << e.path();
    // Generated text only: printable ASCII lines.
    EXPECT_TRUE(std::all_of(gp.begin(), gp.end(), [](char ch) { return ch == '\n' || (ch >= 0x20 && ch < 0x7F); }))
        << e.path();
  }
  EXPECT_EQ(scripts, 6u);
}

INSTANTIATE_TEST_SUITE_P(Names, PlotCrafted, ::testing::ValuesIn(crafted_names()),
                         [](const auto& info) { return std::string(info.param.test_name); });

TEST(PlotCli, TinyAndHugeCeilingsNeverPrintInfOrNan) {
  CliFiles f;
  Inputs in = make_inputs();
  in.rooflines.modes[0].compute_flops_per_s["cuda/fp32"].value = 1e-300;
  in.rooflines.modes[0].compute_flops_per_s["cuda/fp64"].value = 1e-310;  // I / F overflows from I = 1/16
  in.rooflines.modes[1].compute_flops_per_s["cuda/fp32"].value = 1e300;
  in.rooflines.modes[2].bandwidth_bytes_per_s["cuda/dram"].value = 1e-300;
  // The fitted intervals no longer hold the edited figures (rooflines.json would be refused).
  for (auto& m : in.rooflines.modes) {
    for (auto* table : {&m.compute_flops_per_s, &m.bandwidth_bytes_per_s}) {
      for (auto& [key, c] : *table) c.ci95.reset();
    }
  }
  write_files(f, in, "");
  const fs::path out = f.dir.path() / "report";
  auto args = plot_args(f, out);
  if (!have_gnuplot()) args.push_back("--no-render");
  const auto run = run_edgeroof(args);
  ASSERT_TRUE(succeeded(run));
  // F / B = 5e12 / 1e-300 overflows, and so does the energy per byte I·ε + ε_b + π0·I/F at 1e-310 FLOP/s.
  EXPECT_NE(run.err.find("edgeroof plot: warning: mode c4-gpu408: the ridge point cuda/fp32@dram (compute ceiling / "
                         "bandwidth) is not finite; left out\n"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("edgeroof plot: warning: mode maxn: energy roof cuda/fp64: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(" points of energy_roofline are not finite (or not positive on a log axis); left out\n"),
            std::string::npos);
  const std::regex non_finite(R"((^|[^A-Za-z])(inf|nan)([^A-Za-z]|$))", std::regex::icase);
  for (const auto& e : fs::directory_iterator(out)) {
    const auto ext = e.path().extension();
    if (ext != ".gp" && ext != ".dat" && ext != ".html") continue;
    EXPECT_FALSE(std::regex_search(read_file(e.path()), non_finite)) << e.path();
  }
}

TEST(PlotCli, GnuplotFailingIsOneLineAndLeavesTheEarlierReport) {
  CliFiles f;
  write_files(f, make_inputs(), "");
  const fs::path out = f.dir.path() / "report";
  ASSERT_TRUE(succeeded(run_edgeroof([&] {
    auto a = plot_args(f, out);
    a.push_back("--no-render");
    return a;
  }())));
  const std::string earlier = read_file(out / "index.html");
  const fs::path fake =
      f.dir.write("fake-gnuplot",
                  "#!/bin/sh\ncase \"$*\" in *.gp) echo 'line 3: unknown or ambiguous terminal type' >&2;"
                  " exit 1;; esac\nexit 0\n");
  fs::permissions(fake, fs::perms::owner_all);
  auto args = plot_args(f, out);
  args.insert(args.end(), {"--gnuplot", fake.string()});
  EXPECT_TRUE(fails_with(run_edgeroof(args), 1,
                         "edgeroof plot: error: gnuplot failed on time_roofline.gp (line 3: unknown or ambiguous "
                         "terminal type); no report written"));
  EXPECT_EQ(read_file(out / "index.html"), earlier);
  EXPECT_FALSE(fs::exists(out / "time_roofline.png"));
  EXPECT_TRUE(named(f.dir.path(), ".edgeroof-plot-").empty());
  args.back() = (f.dir.path() / "fake-gnuplot");  // a new folder is not created either
  args[args.size() - 3] = (f.dir.path() / "new").string();
  EXPECT_TRUE(fails_with_line_containing(run_edgeroof(args), 1, "gnuplot failed on time_roofline.gp"));
  EXPECT_FALSE(fs::exists(f.dir.path() / "new"));
}

namespace {

bool gone(pid_t pid) {  // exited; a zombie no one has reaped yet counts as gone
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z';
}

pid_t pid_in(const fs::path& file) { return static_cast<pid_t>(std::stol(read_file(file))); }

class PlotSignal : public ::testing::TestWithParam<int> {};

}  // namespace

// A slow gnuplot (with a helper process of its own) is ended with its group, nothing is written.
TEST_P(PlotSignal, StopsGnuplotAndWritesNothing) {
  const int sig = GetParam();
  CliFiles f;
  write_files(f, make_inputs(), "");
  const fs::path d = f.dir.path();
  const fs::path fake = f.dir.write(
      "slow-gnuplot", "#!/bin/sh\ncase \"$*\" in *.gp)\n  echo $PPID > " + (d / "edgeroof.pid").string() +
                          "\n  sleep 60 &\n  echo $! > " + (d / "helper.pid").string() + ".tmp\n  echo $$ > " +
                          (d / "gnuplot.pid").string() + "\n  mv " + (d / "helper.pid").string() + ".tmp " +
                          (d / "helper.pid").string() + "\n  wait;;\nesac\nexit 0\n");
  fs::permissions(fake, fs::perms::owner_all);
  auto args = plot_args(f, d / "report");
  args.insert(args.end(), {"--gnuplot", fake.string()});
  edgeroof::test::ProgramRun run;
  edgeroof::test::ProgramOptions in_dir;
  in_dir.cwd = d;
  in_dir.timeout_s = 60.0;
  std::thread runner([&] { run = run_edgeroof(args, in_dir); });
  for (int i = 0; i < 2000 && !fs::exists(d / "helper.pid"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(d / "helper.pid")) << "the fake gnuplot never started";
  const pid_t gnuplot = pid_in(d / "gnuplot.pid"), helper = pid_in(d / "helper.pid");
  ::kill(pid_in(d / "edgeroof.pid"), sig);
  runner.join();
  EXPECT_TRUE(
      fails_with(run, 128 + sig, "edgeroof plot: interrupted; no report written (signal " + std::to_string(sig) + ")"));
  EXPECT_FALSE(fs::exists(d / "report"));
  EXPECT_TRUE(named(d, ".edgeroof-plot-").empty());
  EXPECT_TRUE(gone(gnuplot));
  for (int i = 0; i < 100 && !gone(helper); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(gone(helper));
}

INSTANTIATE_TEST_SUITE_P(Signals, PlotSignal, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& info) { return std::string(info.param == SIGINT ? "SIGINT" : "SIGTERM"); });

TEST(PlotCli, TheReportFolderIsCheckedBeforeAnyWork) {
  ScratchDir d("test_plot_out");
  const std::string missing = (d.path() / "no-such.json").string();  // never read: -o is checked first
  const fs::path file = d.write("file.txt", "mine\n");
  const fs::path user = d.path() / "photos";
  d.write("photos/holiday.jpg", "jpeg");
  auto plot = [&](const fs::path& out) { return run_edgeroof({"plot", missing, "-o", out.string()}); };
  const std::string p = d.path().string();
  EXPECT_TRUE(
      fails_with(plot(d.path() / "a" / "report"), 1,
                 "edgeroof plot: error: cannot write the report " + p + "/a/report: " + p + "/a does not exist"));
  EXPECT_TRUE(fails_with(
      plot(file / "report"), 1,
      "edgeroof plot: error: cannot write the report " + p + "/file.txt/report: " + p + "/file.txt is not a folder"));
  EXPECT_TRUE(
      fails_with(plot(file), 1,
                 "edgeroof plot: error: cannot write the report " + p + "/file.txt: it exists and is not a folder"));
  EXPECT_TRUE(fails_with(plot(user), 1,
                         "edgeroof plot: error: " + p +
                             "/photos holds files that are not an edgeroof report (it has no .edgeroof-report): remove "
                             "them or choose another -o"));
  EXPECT_EQ(read_file(user / "holiday.jpg"), "jpeg");
  EXPECT_TRUE(fails_with(plot("."), 1, "edgeroof plot: error: -o . must name the report folder itself"));
  EXPECT_TRUE(fails_with(run_edgeroof({"plot", missing, "-o"}), 2,
                         "edgeroof plot: --out needs a value (DIR) (see 'edgeroof plot --help')"));
  fs::create_directories(d.path() / "empty");  // an empty folder and then a report are fine: the file is read
  EXPECT_TRUE(fails_with_line_containing(plot(d.path() / "empty"), 1, "no-such.json"));
  if (::geteuid() != 0) {  // root may write anywhere
    fs::create_directories(d.path() / "locked");
    fs::permissions(d.path() / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_TRUE(fails_with_line_containing(plot(d.path() / "locked" / "report"), 1, "/locked is not writable"));
  }
}

TEST(PlotCli, AnEarlierReportIsReplacedWhole) {
  CliFiles f;
  write_files(f, make_inputs(), "");
  const fs::path out = f.dir.path() / "report";
  auto args = plot_args(f, out);
  args.push_back("--no-render");
  // A report of an earlier version (no marker, only a report's files) is replaced too.
  f.dir.write("report/index.html", "old");
  f.dir.write("report/modes_time.png", "old");
  ASSERT_TRUE(succeeded(run_edgeroof(args)));
  EXPECT_FALSE(fs::exists(out / "modes_time.png"));
  EXPECT_TRUE(fs::exists(out / ".edgeroof-report"));
  f.dir.write("report/notes.txt", "a file of mine, in a marked report");
  ASSERT_TRUE(succeeded(run_edgeroof(args)));
  EXPECT_FALSE(fs::exists(out / "notes.txt"));
  EXPECT_NE(read_file(out / "index.html").find("edgeroof report"), std::string::npos);
  EXPECT_TRUE(named(f.dir.path(), ".edgeroof-plot-").empty());
}

TEST(PlotCli, WithoutGnuplotOnPathIsOneClearErrorAndWritesNothing) {
  CliFiles f;
  write_files(f, make_inputs(), "");
  fs::create_directories(f.dir.path() / "empty-bin");
  edgeroof::test::ProgramOptions o;
  o.env["PATH"] = (f.dir.path() / "empty-bin").string();
  EXPECT_TRUE(fails_with(run_edgeroof(plot_args(f, f.dir.path() / "report"), o), 1,
                         "edgeroof plot: error: gnuplot not found on PATH (install gnuplot-nox, e.g. 'sudo apt-get "
                         "install gnuplot-nox', or pass --gnuplot PATH)"));
  EXPECT_FALSE(fs::exists(f.dir.path() / "report"));
  auto args = plot_args(f, f.dir.path() / "report");
  args.insert(args.end(), {"--gnuplot", (f.dir.path() / "no" / "gnuplot").string()});
  EXPECT_TRUE(fails_with(run_edgeroof(args), 1,
                         "edgeroof plot: error: gnuplot not found at " + (f.dir.path() / "no" / "gnuplot").string() +
                             " (install gnuplot-nox, or pass --gnuplot PATH)"));
}

// index.html's Findings section: the findings tune prints for the same files, a hostile mode name
// escaped in it, and the correlation of the primary mode's measured kernels from its results.
TEST(PlotCli, TheFindingsSectionShowsTuneFindingsEscaped) {
  CliFiles f;
  const std::string hostile = "<script>alert(1)</script>";
  const Inputs in = make_inputs({{"maxn", "MAXN"}, {"c8-gpu816", hostile}});
  write_files(f, in, "");
  const fs::path out = f.dir.path() / "report";
  auto args = plot_args(f, out);
  args.push_back("--no-render");  // the section needs no gnuplot
  ASSERT_TRUE(succeeded(run_edgeroof(args)));
  const std::string index = read_file(out / "index.html");
  const auto at = index.find("<h2>Findings</h2>");
  ASSERT_NE(at, std::string::npos) << index;
  EXPECT_EQ(index.find("<script>"), std::string::npos);
  const std::string section = index.substr(at, index.find("</ul>", at) - at);
  const auto tuned = run_edgeroof({"tune", "--workload", f.workload.string(), "--rooflines", f.rooflines.string(),
                                   "--results", f.results.string(), "--format", "json"});
  ASSERT_TRUE(succeeded(tuned)) << tuned.err;
  const auto findings = nlohmann::json::parse(tuned.out)["findings"];
  const std::string best = findings["most_efficient"]["key"];
  EXPECT_NE(section.find(findings["baseline_is_most_efficient"] == true ? "is the most energy-efficient mode"
                                                                        : "is not the most energy-efficient mode"),
            std::string::npos)
      << section;
  EXPECT_NE(section.find(best == "c8-gpu816" ? "&lt;script&gt;alert(1)&lt;/script&gt; (c8-gpu816)" : best),
            std::string::npos)
      << section;
  EXPECT_NE(section.find("mode &lt;script&gt;alert(1)&lt;/script&gt; (c8-gpu816)"), std::string::npos) << section;
  const auto& maxn = findings["modes"][0];
  ASSERT_EQ(maxn["key"], "maxn");
  ASSERT_FALSE(maxn["time_vs_energy"]["spearman_rho"].is_null()) << maxn;
  char rho[96];
  std::snprintf(rho, sizeof(rho), "Spearman rho of FLOP/s and FLOP/J %.3f over n = %d measured benchmarks",
                maxn["time_vs_energy"]["spearman_rho"].get<double>(), maxn["time_vs_energy"]["n"].get<int>());
  EXPECT_NE(section.find(rho), std::string::npos) << section;
}
