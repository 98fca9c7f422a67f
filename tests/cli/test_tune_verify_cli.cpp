// tune --verify as a user runs it on a board: here a fake Orin AGX tree (tests/data/modes) with the
// stand-in board as edgeroof-bench (tests/support/standin: its model benchmark runs in the clocks
// it reads from the tree). The rooflines come from the stand-in's results of six grid modes, fitted
// by `edgeroof fit`, so measured differs from predicted by what the rooflines miss (the stand-in's
// smooth maximum of compute and memory time, its noise). Asserted: the modes applied in order and
// the mode found restored, the printed figures against the files the stand-in wrote, the dry run,
// a failing bench and a mode without a way to be applied.
#include "../data/modes/fake_orin.hpp"
#include "edgeroof/results/names.hpp"
#include "edgeroof/results/reader.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using edgeroof::test::read_file;
using edgeroof::test::run_edgeroof;
using edgeroof::test::run_program;
using edgeroof::test::succeeded;
using edgeroof::testing::FakeOrin;
using nlohmann::json;

namespace {

const std::string kGrid = "cores=12;cpu=2201600;gpu=624750000,930750000,1300500000;emc=2133000000,3199000000";
const std::string kBenchmark = "model/cuda/resnet50/inference/bs:1";

// Every node of the tree a mode writes, as text: equal before and after means restored.
std::map<std::string, std::string> mode_nodes(const FakeOrin& orin) {
  std::map<std::string, std::string> nodes;
  for (int cpu = 0; cpu < 12; ++cpu) {
    const std::string c = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
    for (const char* n : {"/online", "/cpufreq/scaling_min_freq", "/cpufreq/scaling_max_freq"})
      nodes[c + n] = orin.get(c + n);
  }
  const std::string g = edgeroof::testing::fake_orin_gpu;
  for (const char* n : {"/min_freq", "/max_freq"}) nodes[g + n] = orin.get(g + n);
  nodes["emc"] = orin.get("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap");
  nodes["tpc"] = orin.get("/sys/devices/gpu.0/tpc_pg_mask");
  return nodes;
}

// Median time and energy of the model benchmark in a results file the stand-in wrote, read here.
std::pair<double, double> measured_in(const fs::path& file) {
  const auto r = edgeroof::results::load_results(file);
  std::vector<double> t, e;
  for (const auto& b : r.benchmarks) {
    if (b.name != kBenchmark || b.is_aggregate()) continue;
    t.push_back(b.real_time_s);
    e.push_back(b.counters.at("energy_J"));
  }
  EXPECT_EQ(t.size(), 3u) << file;
  return {edgeroof::results::median(t), edgeroof::results::median(e)};
}

class TuneVerify : public ::testing::Test {
protected:
  void SetUp() override {
    m_orin = std::make_unique<FakeOrin>(::testing::UnitTest::GetInstance()->current_test_info()->name());
    m_results = m_orin->dir() / "standin-results";
    const auto made = run_program(EDGEROOF_STANDIN_EXE, {"results", "--board", "orin-agx", "--grid", kGrid, "--all",
                                                         "--seed", "5", "--out", m_results.string()});
    ASSERT_TRUE(succeeded(made)) << made.err;
    m_rooflines = (m_orin->dir() / "rooflines.json").string();
    const auto fit = run_edgeroof({"fit", m_results.string(), "-o", m_rooflines});
    ASSERT_TRUE(succeeded(fit)) << fit.err;
    m_out = m_orin->dir() / "verified";
    m_found = mode_nodes(*m_orin);
  }
  [[nodiscard]] std::vector<std::string> tune(const std::vector<std::string>& more) const {
    std::vector<std::string> a{"tune",        "--model",   "resnet50",       "--batch", "1",
                               "--rooflines", m_rooflines, "--max-slowdown", "25%"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  [[nodiscard]] std::vector<std::string> verify(const std::vector<std::string>& more,
                                                const std::string& bench = EDGEROOF_STANDIN_EXE) const {
    auto a = tune({"--verify", "--root", m_orin->dir().string(), "--bench", bench, "--settle-timeout-s", "0"});
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  // A third mode besides tune's chosen and fastest ones, for --baseline.
  [[nodiscard]] std::string third_mode(const json& decision) const {
    for (const std::string gpu : {"624750000", "930750000", "1300500000"}) {
      for (const std::string emc : {"2133000000", "3199000000"}) {
        const std::string key = "c12-cpu2201600-gpu" + gpu + "-emc" + emc;
        if (key != decision["chosen"]["key"] && key != decision["fastest"]["key"]) return key;
      }
    }
    return "";
  }
  std::unique_ptr<FakeOrin> m_orin;
  fs::path m_results, m_out;
  std::string m_rooflines;
  std::map<std::string, std::string> m_found;
};

}  // namespace

TEST_F(TuneVerify, AppliesTheThreeModesInOrderMeasuresThemAndRestores) {
  const auto plain = run_edgeroof(tune({"--format", "json"}));
  ASSERT_TRUE(succeeded(plain)) << plain.err;
  const auto decision = json::parse(plain.out);
  ASSERT_NE(decision["chosen"]["key"], decision["fastest"]["key"]) << "the test needs two modes apart";
  const std::string baseline = third_mode(decision);
  const auto run = run_edgeroof(verify({"--baseline", baseline, "--verify-out", m_out.string(), "--format", "json"}));
  ASSERT_TRUE(succeeded(run)) << run.err;
  EXPECT_EQ(mode_nodes(*m_orin), m_found);  // the mode found, back
  const auto doc = json::parse(run.out);
  const auto& v = doc["verify"];
  EXPECT_EQ(v["benchmark"], kBenchmark);
  ASSERT_EQ(v["modes"].size(), 3u);
  const std::vector<std::string> order = {decision["chosen"]["key"], decision["fastest"]["key"], baseline};
  std::vector<fs::file_time_type> written;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& m = v["modes"][i];
    EXPECT_EQ(m["key"], order[i]);
    const fs::path file = m_out / (order[i] + ".json");
    written.push_back(fs::last_write_time(file));
    // The stand-in ran in the clocks it read from the tree: the mode's own.
    const auto context = edgeroof::results::load_results(file).context;
    EXPECT_EQ("c12-cpu2201600-gpu" + context.at("power_mode.gpu_hz") + "-emc" + context.at("power_mode.emc_hz"),
              order[i]);
    const auto [t, e] = measured_in(file);
    EXPECT_DOUBLE_EQ(m["measured"]["latency_s"].get<double>(), t);
    EXPECT_DOUBLE_EQ(m["measured"]["energy_J"].get<double>(), e);
    const double predicted_t = m["predicted"]["latency_s"].get<double>();
    EXPECT_NEAR(m["latency_error_pct"].get<double>(), 100.0 * (predicted_t - t) / t, 1e-9);
    EXPECT_NE(predicted_t, t);                      // a prediction, not the measurement
    EXPECT_LT(std::abs(predicted_t / t - 1), 0.3);  // but one of the same mode
  }
  EXPECT_EQ(v["modes"][0]["roles"], json::array({"chosen"}));
  EXPECT_EQ(v["modes"][2]["roles"], json::array({"baseline"}));
  EXPECT_LT(written[0], written[1]);
  EXPECT_LT(written[1], written[2]);
  EXPECT_EQ(v["modes"][0]["predicted"]["latency_s"], doc["chosen"]["latency_s"]);
  const auto chosen = measured_in(m_out / (order[0] + ".json"));
  const auto fastest = measured_in(m_out / (order[1] + ".json"));
  const auto base = measured_in(m_out / (order[2] + ".json"));
  EXPECT_NEAR(v["saving"]["measured_pct"].get<double>(), 100.0 * (base.second - chosen.second) / base.second, 1e-9);
  EXPECT_EQ(v["saving"]["predicted_pct"], doc["saving_vs_baseline_pct"]);
  EXPECT_NEAR(v["bound"]["limit"].get<double>(), 1.25 * fastest.first, 1e-15);
  EXPECT_EQ(v["bound"]["held"], chosen.first <= 1.25 * fastest.first);

  // The table: the same figures for people, from a second run into a fresh folder.
  const auto table = run_edgeroof(verify({"--baseline", baseline}));
  ASSERT_TRUE(succeeded(table)) << table.err;
  EXPECT_NE(table.out.find("\nverified on the board: " + kBenchmark + " measured by edgeroof-bench in 3 mode(s)\n"),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("saving vs baseline " + baseline + ": predicted "), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(chosen.first <= 1.25 * fastest.first ? "bound held when measured"
                                                                : "bound NOT held when measured"),
            std::string::npos)
      << table.out;
  EXPECT_EQ(mode_nodes(*m_orin), m_found);
}

TEST_F(TuneVerify, DryRunPrintsTheModesAndCommandsAndAppliesNothing) {
  const auto plain = json::parse(run_edgeroof(tune({"--format", "json"})).out);
  const std::string chosen = plain["chosen"]["key"], fastest = plain["fastest"]["key"];
  const auto run = run_edgeroof(verify({"--dry-run", "--verify-out", m_out.string()}));
  ASSERT_TRUE(succeeded(run)) << run.err;
  EXPECT_EQ(mode_nodes(*m_orin), m_found);
  EXPECT_FALSE(fs::exists(m_out));
  // The grid equivalent of MAXN is the fastest mode here too: two modes, each once.
  const std::string gpu = chosen.substr(chosen.find("-gpu") + 4, chosen.find("-emc") - chosen.find("-gpu") - 4);
  const std::string emc = chosen.substr(chosen.find("-emc") + 4);
  EXPECT_NE(run.out.find("\n--verify --dry-run: 2 mode(s) to apply, in order:\n  1. " + chosen + " (chosen): grid " +
                         chosen + "\n  2. " + fastest + " (fastest, baseline): grid " + fastest + "\n"),
            std::string::npos)
      << run.out;
  const std::string command =
      std::string("run ") + EDGEROOF_STANDIN_EXE + " --benchmark_out=" + (m_out / (chosen + ".json")).string() +
      " --benchmark_out_format=json --benchmark_context=power_mode.key=" + chosen + ",power_mode.name=" + chosen +
      ",power_mode.gpu_hz=" + gpu + ",power_mode.emc_hz=" + emc +
      ",power_mode.cpu_khz=2201600,power_mode.cpu_online=12,power_mode.tpc_pg_mask=0 --root=" + m_orin->dir().string() +
      " --models=resnet50 --model-batch=1 --model-phase=inference --benchmark_filter=^model/\n";
  EXPECT_NE(run.out.find(command), std::string::npos) << run.out;
  EXPECT_LT(run.out.find("[1/2] " + chosen), run.out.find("[2/2] " + fastest));
}

TEST_F(TuneVerify, AFailingBenchLeavesTheModeFoundRestoredWithOneErrorLine) {
  const auto run = run_edgeroof(verify({}, "/bin/false"));
  EXPECT_EQ(run.exit_code, 1) << run.status() << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(mode_nodes(*m_orin), m_found);
  std::istringstream lines(run.err);
  std::vector<std::string> errors;
  std::string last;
  for (std::string line; std::getline(lines, line); last = line) {
    if (line.rfind("edgeroof tune: error:", 0) == 0) errors.push_back(line);
  }
  const auto plain = json::parse(run_edgeroof(tune({"--format", "json"})).out);
  ASSERT_EQ(errors.size(), 1u) << run.err;
  EXPECT_EQ(errors[0], "edgeroof tune: error: --verify: mode " + plain["chosen"]["key"].get<std::string>() +
                           " failed to bench: edgeroof-bench exited with status 1 (and 1 more mode(s)); the power mode "
                           "found was restored");
  EXPECT_EQ(last, errors[0]);
}

TEST_F(TuneVerify, AModeWithNoWayToBeAppliedIsRefusedBeforeAnythingIsApplied) {
  json doc = json::parse(read_file(m_rooflines));
  for (auto& m : doc["modes"]) {
    for (const char* k : {"id", "cpu_online", "cpu_khz", "gpu_hz", "emc_hz", "tpc_pg_mask"}) m.erase(k);
  }
  std::ofstream(m_rooflines) << doc.dump();
  const auto plain = json::parse(run_edgeroof(tune({"--format", "json"})).out);
  const std::string chosen = plain["chosen"]["key"];
  EXPECT_TRUE(edgeroof::test::fails_with(
      run_edgeroof(verify({})), 1,
      "edgeroof tune: error: --verify: mode " + chosen +
          " has no nvpmodel id and no knobs (power_mode.* in its results): it cannot be applied"));
  EXPECT_EQ(mode_nodes(*m_orin), m_found);
}

TEST_F(TuneVerify, VerifyOptionsWithoutVerifyAndUnrunnableWorkloadsAreUsageErrors) {
  EXPECT_TRUE(edgeroof::test::fails_with(run_edgeroof(tune({"--dry-run"})), 2,
                                         "edgeroof tune: --dry-run goes with --verify (see 'edgeroof tune --help')"));
  EXPECT_TRUE(edgeroof::test::fails_with(
      run_edgeroof(verify({"--train", "sgd_momentum"})), 2,
      "edgeroof tune: --verify: edgeroof-bench runs inference, --train sgd and --train adam, not training:sgd_momentum "
      "(see 'edgeroof tune --help')"));
  EXPECT_EQ(mode_nodes(*m_orin), m_found);
}

// The bench sends SIGINT to its whole process group, as a terminal's Ctrl-C does (the sweep tests'
// fake bench): tune stops, restores the mode found and exits 128 + SIGINT, keeping no results.
TEST_F(TuneVerify, CtrlCStopsTheVerificationAndRestores) {
  const std::string fake_bench = std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/fake-bench.sh";
  const auto run =
      run_edgeroof(verify({"--verify-out", m_out.string(), "--", "--fake-sleep=30", "--fake-ctrl-c"}, fake_bench));
  ASSERT_TRUE(run.exited()) << run.status() << run.err;
  EXPECT_EQ(run.exit_code, 130) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("edgeroof tune: --verify stopped by a signal; the power mode found was restored\n"),
            std::string::npos)
      << run.err;
  EXPECT_EQ(mode_nodes(*m_orin), m_found);
  std::size_t results = 0;
  for (const auto& e : fs::directory_iterator(m_out)) results += e.path().extension() == ".json" ? 1 : 0;
  EXPECT_EQ(results, 0u);
  EXPECT_TRUE(edgeroof::test::fails_with(
      run_edgeroof(tune({"--", "--fake-sleep=1"})), 2,
      "edgeroof tune: the bench flags after -- go with --verify (see 'edgeroof tune --help')"));
  EXPECT_TRUE(edgeroof::test::fails_with(
      run_edgeroof(verify({"--", "--models=bert"})), 2,
      "edgeroof tune: --models=... is set by --verify for each mode; leave it out of the bench flags (see 'edgeroof "
      "tune --help')"));
}

// Under --max-power-W the chosen mode's measured power (energy over time, from its file) is what
// the cap is judged by.
TEST_F(TuneVerify, APowerCapIsJudgedByTheMeasuredPower) {
  std::vector<std::string> a = verify({"--verify-out", m_out.string(), "--format", "json"});
  a.erase(std::find(a.begin(), a.end(), "--max-slowdown"), std::find(a.begin(), a.end(), "--max-slowdown") + 2);
  a.insert(a.end(), {"--max-power-W", "30"});
  const auto run = run_edgeroof(a);
  ASSERT_TRUE(succeeded(run)) << run.err;
  const auto v = json::parse(run.out)["verify"];
  const std::string chosen = v["modes"][0]["key"];
  const auto [t, e] = measured_in(m_out / (chosen + ".json"));
  EXPECT_EQ(v["bound"]["what"], "power_W");
  EXPECT_EQ(v["bound"]["limit"], 30.0);
  EXPECT_NEAR(v["bound"]["measured"].get<double>(), e / t, 1e-9 * e / t);
  EXPECT_EQ(v["bound"]["held"], e / t <= 30.0);
  EXPECT_EQ(mode_nodes(*m_orin), m_found);
}
