// The predict, tune and plot commands as a user runs them: exit status, JSON on stdout, one error
// line on stderr naming the file and field, files written atomically or not at all.
#include "edgeroof/power/nvpmodel.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <regex>
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

const std::string data_dir = std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/";
const std::string toy_workload = data_dir + "toy_workload.json";
const std::string toy_rooflines = data_dir + "toy_rooflines.json";
const std::string board_conf = std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/nvpmodel_p3701_0000.conf";

// A fixture with one value replaced (JSON pointer), written to the scratch folder.
std::string mutated(const ScratchDir& dir, const std::string& fixture, const std::string& pointer, const json& value,
                    const std::string& name) {
  json doc = json::parse(read_file(fixture));
  doc[json::json_pointer(pointer)] = value;
  return dir.write(name, doc.dump(1)).string();
}

}  // namespace

TEST(ReportCli, PredictJsonWithMeasuredLayers) {
  const auto r = run_edgeroof({"predict", "--workload", toy_workload, "--rooflines", toy_rooflines, "--results",
                               data_dir + "toy_layers.json", "--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["model"], "toy");
  EXPECT_EQ(j["modes"].size(), 3u);
  EXPECT_NEAR(j["modes"][0]["energy_J"].get<double>(), 0.17902, 1e-12);  // test_predict.cpp derives it
  EXPECT_NEAR(j["modes"][0]["layers"][0]["error"].get<double>(), -0.2, 1e-12);
  EXPECT_TRUE(j["modes"][2]["energy_J"].is_null());
}

TEST(ReportCli, TuneWritesTheBoardConfWithTheNewMode) {
  const ScratchDir dir("tune_conf");
  const auto conf_out = (dir.path() / "edgeroof.conf").string();
  const auto r = run_edgeroof({"tune", "--workload", toy_workload, "--rooflines", toy_rooflines, "--nvpmodel-conf",
                               board_conf, "--conf-out", conf_out, "--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto j = json::parse(r.out);
  // Of the two modes with energy, MAXN (9 ms, 0.179 J) is fastest and no other is within 5%.
  EXPECT_EQ(j["chosen"]["key"], "nvp0-maxn");
  EXPECT_EQ(j["saving_vs_maxn_pct"].get<double>(), 0.0);
  EXPECT_EQ(j["nvpmodel"]["id"], 4);  // the board's modes are 0..3
  EXPECT_EQ(j["nvpmodel"]["command"], "sudo nvpmodel -f " + conf_out + " -m 4");
  EXPECT_EQ(j["nvpmodel"]["cpu_count"], 12);  // CORE_0..CORE_11 under the conf's CPU_ONLINE
  EXPECT_EQ(j["nvpmodel"]["cpu_count_source"], "the CPU_ONLINE cores of " + board_conf);
  const auto conf = edgeroof::power::parse_nvpmodel_conf(read_file(conf_out));
  ASSERT_NE(conf.find_mode(4), nullptr);
  EXPECT_NE(conf.find_mode(1), nullptr);  // the board's own modes are kept
  EXPECT_EQ(conf.find_mode(4)->value("GPU", "MAX_FREQ"), 1300500000);
  EXPECT_FALSE(conf.params.empty());
}

TEST(ReportCli, TuneConstraintsAreExclusive) {
  const auto r = run_edgeroof({"tune", "--workload", toy_workload, "--rooflines", toy_rooflines, "--max-slowdown", "5%",
                               "--max-power-W", "30"});
  EXPECT_TRUE(fails_with(
      r, 2, "edgeroof tune: give one of --max-slowdown, --max-latency-ms, --max-power-W (see 'edgeroof tune --help')"));
}

// The hang of the first contact: 2e9 cores made a stanza of 2e9 lines.
TEST(ReportCli, TuneIntegersAreRangeChecked) {
  const std::vector<std::string> base = {"tune", "--workload", toy_workload, "--rooflines", toy_rooflines};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    edgeroof::test::ProgramOptions o;
    o.timeout_s = 20;
    return run_edgeroof(args, o);
  };
  EXPECT_TRUE(fails_with(with({"--cpu-count", "2000000000"}), 2,
                         "edgeroof tune: --cpu-count takes a whole number from 1 to 1024, not '2000000000' (see "
                         "'edgeroof tune --help')"));
  EXPECT_TRUE(fails_with(with({"--cpu-count", "0"}), 2,
                         "edgeroof tune: --cpu-count takes a whole number from 1 to 1024, not '0' (see 'edgeroof "
                         "tune --help')"));
  // 4294967296 used to wrap to id 0, MAXN's.
  EXPECT_TRUE(fails_with(with({"--nvpmodel-id", "4294967296"}), 2,
                         "edgeroof tune: --nvpmodel-id takes a whole number from 0 to 2147483647, not '4294967296' "
                         "(see 'edgeroof tune --help')"));
  EXPECT_TRUE(fails_with(with({"--nvpmodel-id", "2", "--nvpmodel-conf", board_conf}), 2,
                         "edgeroof tune: --nvpmodel-id 2 is taken in " + board_conf + " (see 'edgeroof tune --help')"));
  EXPECT_TRUE(fails_with(with({"--cpu-count", "16", "--nvpmodel-conf", board_conf}), 2,
                         "edgeroof tune: --cpu-count 16 disagrees with the 12 CPU_ONLINE cores of " + board_conf +
                             " (see 'edgeroof tune --help')"));
  // Without a conf the count comes from the rooflines (MAXN had 12 online) and says so.
  const auto r = with({"--format", "json"});
  ASSERT_TRUE(succeeded(r));
  const auto j = json::parse(r.out)["nvpmodel"];
  EXPECT_EQ(j["cpu_count"], 12);
  EXPECT_EQ(j["cpu_count_source"], "the most any fitted mode had online; --cpu-count or --nvpmodel-conf sets it");
}

TEST(ReportCli, TruncatedRooflinesAreOneErrorLine) {
  const ScratchDir dir("cut");
  const std::string text = read_file(toy_rooflines);
  const auto cut = dir.write("cut.json", text.substr(0, text.size() / 2)).string();
  for (const char* cmd : {"predict", "tune"}) {
    const auto r = run_edgeroof({cmd, "--workload", toy_workload, "--rooflines", cut});
    EXPECT_TRUE(fails_with_line_containing(r, 1, "error: " + cut + ": not valid JSON (")) << cmd;
  }
  const auto r = run_edgeroof({"plot", cut, "-o", (dir.path() / "report").string()});
  EXPECT_TRUE(fails_with_line_containing(r, 1, cut));
  EXPECT_FALSE(fs::exists(dir.path() / "report"));
  // A number JSON cannot hold as a double is a JSON error of the file, not a crash.
  const auto huge = dir.write("huge.json", R"({"modes": [{"key": "m", "gpu_hz": 1e999}]})").string();
  EXPECT_TRUE(fails_with_line_containing(run_edgeroof({"predict", "--workload", toy_workload, "--rooflines", huge}), 1,
                                         "error: " + huge + ": not valid JSON ("));
}

// Every impossible figure of rooflines.json is one line naming the file, the mode and the JSON
// path, and nothing is written.
TEST(ReportCli, ImpossibleRooflinesFiguresAreRefused) {
  const ScratchDir dir("bad_rooflines");
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"/modes/0/energy/cuda/eps_flop_J/fp16", -1e-12,
       "modes[0] (nvp0-maxn): energy.cuda.eps_flop_J.fp16 = -1e-12 is negative"},
      {"/modes/0/energy/cuda/eps_byte_J/dram", -1e-10,
       "modes[0] (nvp0-maxn): energy.cuda.eps_byte_J.dram = -1e-10 is negative"},
      {"/modes/1/energy/cuda/static_W", -10.0, "modes[1] (no-tensor): energy.cuda.static_W = -10.0 is negative"},
      {"/modes/0/energy/cuda/r2", 1.5, "modes[0] (nvp0-maxn): energy.cuda.r2 = 1.5 is above 1"},
      {"/modes/0/energy/cuda/idle_power_W", -2.0, "modes[0] (nvp0-maxn): energy.cuda.idle_power_W = -2.0 is negative"},
      {"/modes/0/compute_flops_per_s/cuda~1fp16", 0,
       "modes[0] (nvp0-maxn): compute_flops_per_s.cuda/fp16 = 0 is not positive"},
      {"/modes/2/bandwidth_bytes_per_s/cuda~1dram", "fast",
       "modes[2] (no-sensor): bandwidth_bytes_per_s.cuda/dram is a string \"fast\", not a number"},
      {"/modes/0/gpu_hz", 1300500000.5, "modes[0] (nvp0-maxn): gpu_hz = 1300500000.5 is not a whole number"},
      {"/modes/0/emc_hz", -3199000000, "modes[0] (nvp0-maxn): emc_hz = -3199000000 is not positive"},
      {"/modes/0/cpu_khz", 18446744073709551615ull,
       "modes[0] (nvp0-maxn): cpu_khz = 18446744073709551615 does not fit in 64 bits"},
      {"/modes/0/id", 4294967296, "modes[0] (nvp0-maxn): id = 4294967296 is out of range (0 to 2147483647)"},
      {"/modes/0/cpu_online", "12", "modes[0] (nvp0-maxn): cpu_online is a string \"12\", not a whole number"},
      {"/modes/0/energy/cuda/static_W", nullptr, "modes[0] (nvp0-maxn): energy.cuda.static_W is null"},
      {"/modes/2/key", "nvp0-maxn", "modes[2] (nvp0-maxn): key is also that of modes[0]"},
  };
  int n = 0;
  for (const auto& [pointer, value, line] : cases) {
    const auto file = mutated(dir, toy_rooflines, pointer, value, "r" + std::to_string(n++) + ".json");
    const auto out = (dir.path() / "out.txt").string();
    for (const char* cmd : {"predict", "tune"}) {
      const auto r = run_edgeroof({cmd, "--workload", toy_workload, "--rooflines", file, "-o", out});
      EXPECT_TRUE(fails_with(r, 1, std::string("edgeroof ") + cmd + ": error: " + file + ": " + line)) << pointer;
      EXPECT_FALSE(fs::exists(out));
    }
  }
  // Unknown is absent: an idle power written as null by an older fit reads as none.
  const auto null_idle = mutated(dir, toy_rooflines, "/modes/0/energy/cuda/idle_power_W", nullptr, "null.json");
  EXPECT_TRUE(succeeded(run_edgeroof({"predict", "--workload", toy_workload, "--rooflines", null_idle})));
}

// A ceiling of 1e-300 FLOP/s passes as positive but cannot be real: its latency would print as inf.
TEST(ReportCli, CeilingsTooSmallToBeRealAreRefusedNotPrintedAsInf) {
  const ScratchDir dir("tiny");
  json doc = json::parse(read_file(toy_rooflines));
  doc["modes"][0]["compute_flops_per_s"]["cuda/fp16"] = 1e-300;
  doc["modes"][0]["compute_flops_per_s"]["cuda/fp16-tensor"] = 1e-300;
  const auto file = dir.write("tiny.json", doc.dump()).string();
  const auto r = run_edgeroof({"predict", "--workload", toy_workload, "--rooflines", file});
  EXPECT_TRUE(fails_with(r, 1,
                         "edgeroof predict: error: mode nvp0-maxn: the predicted latency is not a finite number: its "
                         "ceilings (cuda/fp16-tensor = 1e-300 FLOP/s, cuda/fp16 = 1e-300 FLOP/s, cuda/dram = 1e+11 "
                         "B/s) cannot be real"));
  // tune leaves the mode out, says why, and picks among the others.
  const auto t = run_edgeroof({"tune", "--workload", toy_workload, "--rooflines", file});
  ASSERT_TRUE(succeeded(t));
  EXPECT_NE(t.out.find("1 mode(s) left out that lack a ceiling (first: mode nvp0-maxn: the predicted latency is not "
                       "a finite number"),
            std::string::npos)
      << t.out;
  EXPECT_NE(t.out.find("chosen   no-tensor"), std::string::npos) << t.out;
  EXPECT_FALSE(std::regex_search(t.out, std::regex(R"(\b(inf|nan)\b)", std::regex::icase))) << t.out;
}

TEST(ReportCli, BadWorkloadTablesNameTheFileAndField) {
  const ScratchDir dir("bad_workload");
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"/layers/1/flops", -1, "layers[1] (relu1): flops = -1 is negative"},
      {"/layers/0/bytes", 1.5, "layers[0] (conv1): bytes = 1.5 is not a whole number"},
      {"/layers/2/flops", 1e19, "layers[2] (fc): flops = 1e+19 does not fit in 64 bits"},
      {"/layers/2/flops", "1e9", "layers[2] (fc): flops is a string \"1e9\", not a whole number"},
      {"/layers/0/inputs/0/1", -3, "layers[0] (conv1): inputs[0][1] = -3 is negative"},
      {"/layers/1/tensor_op", 1, "layers[1] (relu1): tensor_op is a number, not true or false"},
      {"/layers/0/name", 5, "layers[0]: name is a number, not a string"},
      {"/layers", json::object(), "layers is an object, not an array"},
      {"/layers", json::array(), "layers is empty: nothing to predict"},
      {"/batch", 0, "batch = 0 is not positive"},
      {"/totals/flops", 1, "totals.flops = 1 is not the sum of the layers (9010000000)"},
  };
  int n = 0;
  for (const auto& [pointer, value, line] : cases) {
    const auto file = mutated(dir, toy_workload, pointer, value, "w" + std::to_string(n++) + ".json");
    const auto r = run_edgeroof({"predict", "--workload", file, "--rooflines", toy_rooflines});
    EXPECT_TRUE(fails_with(r, 1, "edgeroof predict: error: " + file + ": " + line)) << pointer;
  }
}

TEST(ReportCli, OutputsAreCheckedBeforeAnyWork) {
  const ScratchDir dir("outputs");
  const std::string missing_dir = (dir.path() / "no-such-dir").string();
  // The rooflines do not exist either: the output is checked first.
  const std::vector<std::string> predict = {"predict", "--workload", toy_workload, "--rooflines", "/no/rooflines.json"};
  auto args = predict;
  args.insert(args.end(), {"-o", missing_dir + "/p.txt"});
  EXPECT_TRUE(fails_with(
      run_edgeroof(args), 1,
      "edgeroof predict: error: --out " + missing_dir + "/p.txt: directory " + missing_dir + " does not exist"));
  args = predict;
  args.insert(args.end(), {"-o", dir.path().string()});
  EXPECT_TRUE(fails_with(run_edgeroof(args), 1,
                         "edgeroof predict: error: --out " + dir.path().string() + ": is a directory, not a file"));
  const auto t = run_edgeroof({"tune", "--workload", toy_workload, "--rooflines", toy_rooflines, "--nvpmodel-conf",
                               board_conf, "--conf-out", missing_dir + "/n.conf"});
  EXPECT_TRUE(fails_with(
      t, 1,
      "edgeroof tune: error: --conf-out " + missing_dir + "/n.conf: directory " + missing_dir + " does not exist"));
  const auto same = (dir.path() / "same.txt").string();
  EXPECT_TRUE(fails_with(run_edgeroof({"tune", "--workload", toy_workload, "--rooflines", toy_rooflines,
                                       "--nvpmodel-conf", board_conf, "--conf-out", same, "-o", same}),
                         2, "edgeroof tune: --out and --conf-out name the same file (see 'edgeroof tune --help')"));
  EXPECT_FALSE(fs::exists(missing_dir));
  EXPECT_FALSE(fs::exists(same));
}

TEST(ReportCli, LongOrMultiLineArgumentsAreCutInErrors) {
  const std::string long_batch(100000, '9');
  const auto r = run_edgeroof({"predict", "--model", "resnet50", "--batch", long_batch, "--rooflines", toy_rooflines});
  EXPECT_TRUE(fails_with(r, 2,
                         "edgeroof predict: --batch takes a whole number from 1 to 1048576, not '" +
                             std::string(80, '9') + "…' (see 'edgeroof predict --help')"));
  const auto f =
      run_edgeroof({"predict", "--workload", toy_workload, "--rooflines", toy_rooflines, "--format", "a\nb"});
  EXPECT_TRUE(fails_with(f, 2,
                         "edgeroof predict: --format takes table, csv or json, not 'a\\nb' (see 'edgeroof predict "
                         "--help')"));
  const auto c = run_edgeroof({std::string(5000, 'x')});
  EXPECT_TRUE(fails_with(c, 2, "edgeroof: unknown command '" + std::string(80, 'x') + "…' (see 'edgeroof --help')"));
}

TEST(ReportCli, PlotWithoutGnuplotOnPathIsOneClearError) {
  const ScratchDir dir("plot_path");
  fs::create_directories(dir.path() / "empty-bin");
  edgeroof::test::ProgramOptions o;
  o.env["PATH"] = (dir.path() / "empty-bin").string();
  const auto r = run_edgeroof({"plot", toy_rooflines, "-o", (dir.path() / "report").string()}, o);
  EXPECT_TRUE(fails_with(r, 1,
                         "edgeroof plot: error: gnuplot not found on PATH (install gnuplot-nox, e.g. 'sudo apt-get "
                         "install gnuplot-nox', or pass --gnuplot PATH)"));
  EXPECT_FALSE(fs::exists(dir.path() / "report"));
}
