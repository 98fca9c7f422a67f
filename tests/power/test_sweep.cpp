// edgeroof sweep: the bench command line and context, the modes of --modes SPEC, and whole sweeps of the `edgeroof`
// executable over a fake Orin AGX tree with a fake bench: interrupted with SIGINT and resumed, on
// clocks that follow at once and on stand-in kernels whose clocks follow 50 and 400 ms late, with a
// verify timeout shorter than the kernel, with a mode whose write the kernel refuses, and bad input
// to `sweep` and `modes` (exact exit codes and one-line messages, nothing written).
#include "../data/modes/fake_orin.hpp"
#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/power/mode_select.hpp"
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/power/sweep.hpp"
#include "fake_kernel.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace edgeroof;
using edgeroof::test::fails_with;
using edgeroof::test::run_edgeroof;
using edgeroof::test::succeeded;
using edgeroof::testing::FakeClockKernel;
using edgeroof::testing::FakeOrin;

namespace {

const std::string fake_bench = std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/fake-bench.sh";
const std::string gpu_cur = std::string(edgeroof::testing::fake_orin_gpu) + "/cur_freq";

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.insert(it->path().filename().string());
  return names;
}

std::string slurp(const fs::path& p) { return edgeroof::test::read_file(p); }

// power_mode.clock_settle_s of the context the sweep passed to the bench; -1 when absent.
double clock_settle_s(const nlohmann::json& results) {
  const std::string ctx = results["context"]["fake.context_arg"];
  const std::string key = "power_mode.clock_settle_s=";
  const auto at = ctx.find(key);
  return at == std::string::npos ? -1.0 : std::stod(ctx.substr(at + key.size()));
}

class Sweep : public ::testing::Test {
protected:
  void SetUp() override {
    // A test run inside a sharded CI job must not shard the sweeps of these tests.
    ::unsetenv("EDGEROOF_SHARD_INDEX");
    ::unsetenv("EDGEROOF_SHARD_COUNT");
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '-' : c;
    m_orin = std::make_unique<FakeOrin>(name);
    m_out = m_orin->dir() / "results";
  }
  [[nodiscard]] std::vector<std::string> args(const std::string& modes, const std::string& sleep_s,
                                              const std::vector<std::string>& bench_flags = {}) const {
    std::vector<std::string> a{"sweep",
                               "--modes",
                               modes,
                               "--root",
                               m_orin->dir().string(),
                               "--out",
                               m_out.string(),
                               "--bench",
                               fake_bench,
                               "--settle-timeout-s",
                               "0",
                               "--",
                               "--fake-sleep=" + sleep_s};
    a.insert(a.end(), bench_flags.begin(), bench_flags.end());
    return a;
  }
  // The tree as found: all 12 CPUs online at 268.8-2201.6 MHz (or pinned at 2201.6 MHz, as
  // jetson_clocks leaves it), GPU 114.75-1300.5 MHz (or pinned at the top), EMC cap 3199 MHz.
  void expect_restored(bool pinned = false) const {
    for (int cpu = 0; cpu < 12; ++cpu) {
      const std::string c = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
      EXPECT_EQ(m_orin->get(c + "/online"), "1") << cpu;
      EXPECT_EQ(m_orin->get(c + "/cpufreq/scaling_min_freq"), pinned ? "2201600" : "268800") << cpu;
      EXPECT_EQ(m_orin->get(c + "/cpufreq/scaling_max_freq"), "2201600") << cpu;
    }
    EXPECT_EQ(m_orin->get(std::string(edgeroof::testing::fake_orin_gpu) + "/min_freq"),
              pinned ? "1300500000" : "114750000");
    EXPECT_EQ(m_orin->get(std::string(edgeroof::testing::fake_orin_gpu) + "/max_freq"), "1300500000");
    EXPECT_EQ(m_orin->get("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap"), "3199000000");
  }
  // failed.json holds exactly one mode, failed at `stage` for `reason`.
  void expect_one_failure(const std::string& key, const std::string& stage, const std::string& reason) const {
    const auto failed = nlohmann::json::parse(slurp(m_out / "failed.json"));
    ASSERT_EQ(failed["failed"].size(), 1u);
    EXPECT_EQ(failed["failed"][0]["key"], key);
    EXPECT_EQ(failed["failed"][0]["stage"], stage);
    EXPECT_EQ(failed["failed"][0]["reason"], reason);
  }
  // The clocks themselves, read the moment edgeroof has exited: a restore that returned before they
  // were back would leave them at the last mode's for the kernel's delay.
  void expect_clocks_at_max() const {
    for (int cpu = 0; cpu < 12; ++cpu)
      EXPECT_EQ(m_orin->get("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_cur_freq"),
                "2201600")
          << cpu;
    EXPECT_EQ(m_orin->get(gpu_cur), "1300500000");
    EXPECT_EQ(m_orin->get("/sys/kernel/debug/bpmp/debug/clk/emc/rate"), "3199000000");
  }
  std::unique_ptr<FakeOrin> m_orin;
  std::unique_ptr<FakeClockKernel> m_kernel;  // after m_orin: it stops before the tree goes
  fs::path m_out;
};

}  // namespace

TEST(SweepContext, ContextAndBenchCommandLine) {
  power::PowerMode m;
  m.key = "nvp1-mode-15w";
  m.name = "MODE,15W=x";
  m.id = 1;
  m.cpu_online = 4;
  m.cpu_max_khz = 1036800;
  m.gpu_max_hz = 318750000;
  m.emc_max_hz = 2133000000;
  power::SettleResult settled;
  settled.settled = true;
  settled.idle_power_W = 7.25;
  EXPECT_EQ(power::mode_context(m, settled, 0.0523),
            "power_mode.key=nvp1-mode-15w,power_mode.name=MODE_15W_x,power_mode.id=1,power_mode.gpu_hz=318750000,"
            "power_mode.emc_hz=2133000000,power_mode.cpu_khz=1036800,power_mode.cpu_online=4,"
            "power_mode.clock_settle_s=0.052300,power_mode.settled=true,power_mode.idle_power_W=7.250");
  // Nothing applied (--modes current): no settle time, rather than a made-up 0.
  EXPECT_EQ(power::mode_context(m, std::nullopt).find("clock_settle_s"), std::string::npos);
  power::SweepOptions o;
  o.bench = "/opt/edgeroof-bench";
  o.out_dir = "/results";
  o.root = "/";
  o.bench_args = {"--benchmark_filter=memory"};
  const auto argv = power::bench_argv(m, o);
  ASSERT_EQ(argv.size(), 5u);
  EXPECT_EQ(argv[0], "/opt/edgeroof-bench");
  EXPECT_EQ(argv[1], "--benchmark_out=/results/nvp1-mode-15w.json");
  EXPECT_EQ(argv[2], "--benchmark_out_format=json");
  EXPECT_EQ(argv[4], "--benchmark_filter=memory");
  o.root = "/tmp/tree";
  EXPECT_EQ(power::bench_argv(m, o)[4], "--root=/tmp/tree");
  const auto j = power::mode_to_json(m);
  EXPECT_EQ(
      j.dump(),
      R"({"cpu_max_khz":1036800,"cpu_online":4,"emc_max_hz":2133000000,"gpu_max_hz":318750000,"id":1,"key":"nvp1-mode-15w","name":"MODE,15W=x"})");
}

namespace {

std::string select_error(const std::string& spec, const power::FrequencyTables& tables,
                         const std::optional<power::NvpmodelConf>& conf) {
  try {
    (void)power::select_modes(spec, tables, conf);
  } catch (const power::ModeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_F(Sweep, SelectsModesFromTheSpec) {
  const power::Root root(m_orin->dir());
  const auto conf = power::find_nvpmodel_conf(root, std::nullopt);
  ASSERT_TRUE(conf.has_value());
  const auto tables = power::read_frequency_tables(root);
  EXPECT_EQ(power::select_modes("nvpmodel:all", tables, conf).size(), 4u);
  const auto two = power::select_modes("nvpmodel:3,0", tables, conf);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].key, "nvp3-mode-50w");
  EXPECT_EQ(two[1].key, "nvp0-maxn");
  EXPECT_EQ(power::select_modes("grid:cores=2;cpu=268800", tables, conf).size(), 13u * 4u);
  EXPECT_TRUE(power::select_modes("current", tables, conf).empty());
  const std::string conf_path = (m_orin->dir() / "etc/nvpmodel.conf").string();
  EXPECT_EQ(select_error("nvpmodel:7", tables, conf), "--modes nvpmodel:7: " + conf_path + " has no POWER_MODEL ID=7");
  EXPECT_EQ(select_error("nvpmodel:1x", tables, conf), "--modes nvpmodel:1x: '1x' is not a mode id");
  EXPECT_EQ(select_error("nvpmodel:-1", tables, conf), "--modes nvpmodel:-1: '-1' is not a mode id");
  // An id that does not fit an int is refused, not wrapped around to another mode's (2^32 is 0).
  EXPECT_EQ(select_error("nvpmodel:4294967296", tables, conf),
            "--modes nvpmodel:4294967296: id 4294967296 is out of range (0 to 2147483647)");
  EXPECT_EQ(select_error("nvpmodel:99999999999999999999", tables, conf),
            "--modes nvpmodel:99999999999999999999: id 99999999999999999999 is out of range (0 to 2147483647)");
  EXPECT_EQ(select_error("nvpmodel:1,1", tables, conf), "--modes nvpmodel:1,1: id 1 given twice");
  EXPECT_THROW((void)power::select_modes("maxn", tables, conf), power::ModeError);
  EXPECT_THROW((void)power::select_modes("nvpmodel:all", tables, std::nullopt), power::ModeError);
}

namespace {

// A sweep interrupted with SIGINT and its rerun, on clocks that follow at once (0) and on stand-in
// kernels whose clocks follow 50 and 400 ms late. The board starts as jetson_clocks leaves it, so
// the restore has to wait for the clocks to come back up.
class LateSweep : public Sweep, public ::testing::WithParamInterface<double> {};

}  // namespace

TEST_P(LateSweep, InterruptedSweepRestoresTheModeAndItsRerunCompletesOnlyTheMissingModes) {
  const double delay_s = GetParam();
  m_orin->pin_at_max();
  if (delay_s > 0) m_kernel = std::make_unique<FakeClockKernel>(m_orin->dir(), delay_s);
  const std::string modes = "grid:cores=2,4;cpu=268800,2201600;gpu=318750000;emc=2133000000";
  const std::vector<std::string> keys{
      "c2-cpu268800-gpu318750000-emc2133000000", "c2-cpu2201600-gpu318750000-emc2133000000",
      "c4-cpu268800-gpu318750000-emc2133000000", "c4-cpu2201600-gpu318750000-emc2133000000"};
  // The third bench sends SIGINT to edgeroof, once two results are there.
  const auto run = run_edgeroof(args(modes, "0.3", {"--fake-sigint-at=2"}));
  ASSERT_TRUE(run.exited()) << run.status() << run.err;
  EXPECT_EQ(run.exit_code, 130) << run.err;
  // Exactly the two finished modes, no partial file, and the board as it was found.
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{keys[0] + ".json", keys[1] + ".json"})) << run.err;
  expect_restored(true);
  expect_clocks_at_max();
  const auto first = nlohmann::json::parse(slurp(m_out / (keys[0] + ".json")));
  // While the bench ran, the mode was in effect, clocks included: 2 CPUs online at 268.8 MHz, the
  // GPU at 318.75 MHz and the EMC at 2133 MHz.
  EXPECT_EQ(first["context"]["fake.gpu_cur_freq"], "318750000");
  EXPECT_EQ(first["context"]["fake.cpu0_cur_freq"], "268800");
  EXPECT_EQ(first["context"]["fake.emc_rate"], "2133000000");
  EXPECT_EQ(first["context"]["fake.cpus_online"], "2");
  const double settle_s = clock_settle_s(first);
  EXPECT_GE(settle_s, delay_s);
  EXPECT_LT(settle_s, 2.0);
  char settle_text[32];
  std::snprintf(settle_text, sizeof(settle_text), "%.6f", settle_s);
  EXPECT_EQ(first["context"]["fake.context_arg"],
            "power_mode.key=" + keys[0] + ",power_mode.name=" + keys[0] +
                ",power_mode.gpu_hz=318750000,power_mode.emc_hz=2133000000,power_mode.cpu_khz=268800,"
                "power_mode.cpu_online=2,power_mode.tpc_pg_mask=0,power_mode.clock_settle_s=" +
                settle_text + ",power_mode.settled=true");
  const std::string kept = slurp(m_out / (keys[1] + ".json"));
  EXPECT_GE(clock_settle_s(nlohmann::json::parse(kept)), delay_s);

  // The rerun runs the two missing modes only and leaves the finished ones untouched.
  const auto rerun = run_edgeroof(args(modes, "0"));
  EXPECT_TRUE(succeeded(rerun));
  EXPECT_NE(rerun.err.find("sweep: 2 done, 2 already there, 0 failed"), std::string::npos) << rerun.err;
  EXPECT_NE(rerun.err.find(keys[2] + ": applied, clocks in effect after "), std::string::npos) << rerun.err;
  EXPECT_EQ(files_in(m_out).size(), 4u);
  EXPECT_EQ(slurp(m_out / (keys[1] + ".json")), kept);
  const auto last = nlohmann::json::parse(slurp(m_out / (keys[3] + ".json")));
  EXPECT_EQ(last["context"]["fake.cpus_online"], "4");
  EXPECT_EQ(last["context"]["fake.cpu0_cur_freq"], "2201600");
  EXPECT_EQ(last["context"]["fake.gpu_cur_freq"], "318750000");
  EXPECT_GE(clock_settle_s(last), delay_s);
  expect_restored(true);
  expect_clocks_at_max();
  // The measured figure, for whoever reads the log: what each mode's clocks took on this kernel.
  std::string measured;
  for (const auto& k : keys) {
    char v[32];
    std::snprintf(v, sizeof(v), "%.6f", clock_settle_s(nlohmann::json::parse(slurp(m_out / (k + ".json")))));
    measured += " " + k + "=" + v;
  }
  std::printf("clocks follow %g s late; power_mode.clock_settle_s:%s\n", delay_s, measured.c_str());
}

INSTANTIATE_TEST_SUITE_P(ClockDelays, LateSweep, ::testing::Values(0.0, 0.05, 0.4),
                         [](const ::testing::TestParamInfo<double>& p) {
                           return "ms" + std::to_string(static_cast<int>(p.param * 1000));
                         });

TEST_F(Sweep, AVerifyTimeoutShorterThanTheKernelFailsTheModeWithWhatDidNotFollow) {
  m_kernel = std::make_unique<FakeClockKernel>(m_orin->dir(), 0.4);
  // 624.75 MHz would come 400 ms after the write; the sweep waits 100 ms. The next mode puts the
  // GPU back at 1300.5 MHz before it moved, so its clocks are in effect at once.
  auto a = args("grid:cores=12;cpu=2201600;gpu=624750000,1300500000;emc=3199000000", "0");
  a.insert(a.begin() + 1, {"--verify-timeout-s", "0.1"});
  const auto run = run_edgeroof(a);
  ASSERT_TRUE(run.exited()) << run.status();
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{"failed.json", "c12-cpu2201600-gpu1300500000-emc3199000000.json"}))
      << run.err;
  expect_one_failure("c12-cpu2201600-gpu624750000-emc3199000000", "verify",
                     "clocks not in effect after 0.100 s: GPU runs at 1300500000 Hz, the mode wants 624750000");
  EXPECT_NE(run.err.find("FAILED to verify: clocks not in effect after 0.100 s"), std::string::npos) << run.err;
  expect_restored();
}

TEST_F(Sweep, BadVerifyTimeoutsAreUsageErrorsAndTouchNothing) {
  for (const char* t : {"0", "-1", "600.5", "1e9"}) {
    auto a = args("grid:cores=2;cpu=268800;gpu=114750000;emc=204000000", "0");
    a.insert(a.begin() + 1, {"--verify-timeout-s", t});
    EXPECT_TRUE(fails_with(run_edgeroof(a), 2,
                           "edgeroof sweep: --verify-timeout-s must be above 0 and at most 600 (see 'edgeroof sweep "
                           "--help')"))
        << t;
  }
  auto a = args("grid:cores=2;cpu=268800;gpu=114750000;emc=204000000", "0");
  a.insert(a.begin() + 1, {"--verify-timeout-s", "nan"});
  EXPECT_TRUE(fails_with(run_edgeroof(a), 2,
                         "edgeroof sweep: --verify-timeout-s takes a number, not 'nan' (see 'edgeroof sweep --help')"));
  EXPECT_FALSE(fs::exists(m_out));
  expect_restored();
}

TEST_F(Sweep, BadModeSpecsAreOneLineErrorsNamingTheFileAndNothingIsWritten) {
  const std::string conf = (m_orin->dir() / "etc/nvpmodel.conf").string();
  EXPECT_TRUE(fails_with(run_edgeroof(args("nvpmodel:4294967296", "0")), 1,
                         "edgeroof sweep: error: --modes nvpmodel:4294967296: id 4294967296 is out of range (0 to "
                         "2147483647)"));
  // The grid is counted before it is built.
  EXPECT_TRUE(succeeded(run_edgeroof({"modes", "--root", m_orin->dir().string(), "--grid", "cpu=all"})));
  std::string many;
  for (int i = 1; i <= 1000; ++i) many += std::to_string(i * 1000) + " ";
  m_orin->put(std::string(edgeroof::testing::fake_orin_gpu) + "/available_frequencies", many + "\n");
  m_orin->put("/sys/devices/system/cpu/cpu0/cpufreq/scaling_available_frequencies", many + "\n");
  EXPECT_TRUE(fails_with(run_edgeroof(args("grid:cores=all", "0")), 1,
                         "edgeroof sweep: error: grid would make 24000000 modes (6 core counts x 1000 CPU x 1000 GPU "
                         "x 4 EMC frequencies); edgeroof makes 1000000 at most: list fewer values"));
  // A conf without modes: nvpmodel:all would otherwise benchmark nothing, or the current mode.
  m_orin->put("/etc/nvpmodel.conf", "< PARAM TYPE=CLOCK NAME=GPU >\nMAX_FREQ /sys/x\n< PM_CONFIG DEFAULT=0 >\n");
  EXPECT_TRUE(fails_with(run_edgeroof(args("nvpmodel:all", "0")), 1,
                         "edgeroof sweep: error: --modes nvpmodel:all: " + conf + " has no POWER_MODEL section"));
  EXPECT_FALSE(fs::exists(m_out));
  expect_restored();
}

TEST_F(Sweep, ModesCommandRefusesHugeFilesAndBadNumbersWithOneLine) {
  // `edgeroof modes --root TREE EXTRA...` fails with exit 1 and the one line "FILE: WHY".
  const auto fails_naming = [&](const std::vector<std::string>& extra, const fs::path& file, const std::string& why) {
    std::vector<std::string> a{"modes", "--root", m_orin->dir().string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return fails_with(run_edgeroof(a), 1, "edgeroof modes: error: " + file.string() + ": " + why);
  };
  const fs::path present = m_orin->dir() / "sys/devices/system/cpu/present";
  m_orin->put("/sys/devices/system/cpu/present", "0-2000000000\n");
  EXPECT_TRUE(
      fails_naming({}, present, "CPU list '0-2000000000' names CPU '2000000000'; edgeroof handles 8192 CPUs at most"));
  m_orin->put("/sys/devices/system/cpu/present", "0-11\n");
  const fs::path table = m_orin->dir() / "sys/class/devfreq/17000000.ga10b/available_frequencies";
  fs::resize_file(table, 100u << 20);  // a 100 MB frequency list, sparse
  EXPECT_TRUE(fails_naming({"--grid", "gpu=all"}, table, "longer than 65536 bytes, not a frequency table"));
  m_orin->put(std::string(edgeroof::testing::fake_orin_gpu) + "/available_frequencies", "114750000 1300500000\n");
  const fs::path conf = m_orin->dir() / "etc/nvpmodel.conf";
  m_orin->put("/etc/nvpmodel.conf", "< POWER_MODEL ID=1 NAME=A >\nGPU MAX_FREQ 18446744073709551616\n");
  EXPECT_TRUE(
      fails_naming({}, conf, "nvpmodel.conf line 2: GPU MAX_FREQ 18446744073709551616: does not fit in 64 bits"));
  m_orin->put("/etc/nvpmodel.conf", "< POWER_MODEL ID=4294967296 NAME=A >\n");
  EXPECT_TRUE(
      fails_naming({}, conf, "nvpmodel.conf line 1: POWER_MODEL ID=4294967296 is out of range (0 to 2147483647)"));
}

TEST_F(Sweep, ModeWithARefusedWriteIsRecordedAndSkipped) {
  // cpu3's online node turns into a directory: taking cpu3 offline (mode c2) is refused with
  // EISDIR; mode c4 keeps cpu3 online and needs no write there.
  const fs::path node = m_orin->dir() / "sys/devices/system/cpu/cpu3/online";
  fs::remove(node);
  fs::create_directory(node);
  const auto run = run_edgeroof(args("grid:cores=2,4;cpu=1497600;gpu=1300500000;emc=3199000000", "0"));
  EXPECT_EQ(run.exit_code, 1) << run.status() << run.err;
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{"failed.json", "c4-cpu1497600-gpu1300500000-emc3199000000.json"}))
      << run.err;
  expect_one_failure("c2-cpu1497600-gpu1300500000-emc3199000000", "apply",
                     "cannot write " + node.string() + ": Is a directory");
  EXPECT_NE(run.err.find("FAILED to apply"), std::string::npos);
  // The failed mode's partial apply is undone too (cpu0-2 pinned before the refusal).
  EXPECT_EQ(m_orin->get("/sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq"), "268800");
  EXPECT_EQ(m_orin->get("/sys/devices/system/cpu/cpu11/online"), "1");
}

TEST_F(Sweep, FailingBenchIsRecordedAndARerunRetriesIt) {
  const std::string modes = "grid:cores=12;cpu=2201600;gpu=1300500000;emc=3199000000";
  const auto run = run_edgeroof(args(modes, "0", {"--fake-fail"}));
  EXPECT_EQ(run.exit_code, 1) << run.status() << run.err;
  expect_one_failure("c12-cpu2201600-gpu1300500000-emc3199000000", "bench", "edgeroof-bench exited with status 3");
  EXPECT_TRUE(succeeded(run_edgeroof(args(modes, "0"))));
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{"c12-cpu2201600-gpu1300500000-emc3199000000.json"}));
}

TEST_F(Sweep, DryRunPrintsAndChangesNothing) {
  auto a = args("nvpmodel:1", "0");
  a.insert(a.begin() + 1, "--dry-run");
  const auto run = run_edgeroof(a);
  EXPECT_TRUE(succeeded(run));
  EXPECT_NE(run.out.find("run nvpmodel -m 1\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--benchmark_context=power_mode.key=nvp1-mode-15w,power_mode.name=MODE_15W,power_mode.id=1,"
                         "power_mode.gpu_hz=318750000"),
            std::string::npos)
      << run.out;
  EXPECT_FALSE(fs::exists(m_out));
  expect_restored();
}

TEST_F(Sweep, PredefinedModesNeedTheRealRoot) {
  // With a fake tree, nvpmodel (which would change the real board) is never run.
  EXPECT_EQ(run_edgeroof(args("nvpmodel:0", "0")).exit_code, 1);
  expect_one_failure("nvp0-maxn", "apply",
                     "nvpmodel runs only with --root / (it would change this machine, not the tree)");
  EXPECT_TRUE(fails_with(run_edgeroof({"sweep", "--modes", "nvpmodel:0", "--root", m_orin->dir().string(), "--out",
                                       m_out.string(), "--bench", fake_bench, "--", "--benchmark_out=x.json"}),
                         2,
                         "edgeroof sweep: --benchmark_out=... is set by sweep for each mode; leave it out of the "
                         "bench flags (see 'edgeroof sweep --help')"));
}

TEST_F(Sweep, ModesCommandListsResolvedModesAsJson) {
  const auto run = run_edgeroof({"modes", "--root", m_orin->dir().string(), "--format", "json"});
  ASSERT_TRUE(succeeded(run));
  const auto doc = nlohmann::json::parse(run.out);
  ASSERT_EQ(doc["modes"].size(), 4u);
  EXPECT_EQ(
      doc["modes"][0].dump(),
      R"({"cpu_max_khz":2201600,"cpu_online":12,"emc_max_hz":3199000000,"gpu_max_hz":1300500000,"id":0,"key":"nvp0-maxn","name":"MAXN","tpc_pg_mask":0})");
  EXPECT_EQ(
      doc["modes"][1].dump(),
      R"({"cpu_max_khz":1036800,"cpu_online":4,"emc_max_hz":2133000000,"gpu_max_hz":318750000,"id":1,"key":"nvp1-mode-15w","name":"MODE_15W","tpc_pg_mask":248})");
  const auto grid_run = run_edgeroof(
      {"modes", "--root", m_orin->dir().string(), "--grid", "cores=all;cpu=all;gpu=all;emc=all", "--format", "json"});
  ASSERT_TRUE(succeeded(grid_run));
  const auto grid = nlohmann::json::parse(grid_run.out);
  ASSERT_EQ(grid["modes"].size(), 4368u);
  EXPECT_EQ(
      grid["modes"][4367].dump(),
      R"({"cpu_max_khz":2201600,"cpu_online":12,"emc_max_hz":3199000000,"gpu_max_hz":1300500000,"key":"c12-cpu2201600-gpu1300500000-emc3199000000","name":"c12-cpu2201600-gpu1300500000-emc3199000000","tpc_pg_mask":0})");
  // A malformed conf: one line naming the file and the line, exit status 1.
  m_orin->put("/etc/nvpmodel.conf", "< POWER_MODEL ID=1 NAME=A >\nGPU MAX_FREQ\n");
  EXPECT_TRUE(fails_with(run_edgeroof({"modes", "--root", m_orin->dir().string()}), 1,
                         "edgeroof modes: error: " + (m_orin->dir() / "etc/nvpmodel.conf").string() +
                             ": nvpmodel.conf line 2: expected 'PARAM ARG VALUE' in POWER_MODEL A"));
}

namespace {

// Records what the sweep asks of it; verify() of the mode named `explode_on` throws something
// unexpected, as a vanished sysfs tree or a bug would.
class RecordingController : public power::ModeController {
public:
  [[nodiscard]] std::string name() const override { return "recording"; }
  void save() override { calls.push_back("save"); }
  void apply(const power::PowerMode& m) override { calls.push_back("apply " + m.key); }
  [[nodiscard]] std::vector<std::string> verify(const power::PowerMode& m) const override {
    if (m.key == explode_on) throw std::runtime_error("sysfs vanished");
    return {};
  }
  void restore() override { calls.push_back("restore"); }
  [[nodiscard]] power::PowerMode current() const override { return {}; }
  std::vector<std::string> calls;
  std::string explode_on;
};

}  // namespace

TEST_F(Sweep, AnExceptionMidSweepStillRestores) {
  power::PowerMode a, b;
  a.key = "a";
  b.key = "b";
  power::SweepOptions o;
  o.out_dir = m_out;
  o.bench = fake_bench;
  o.root = m_orin->dir().string();
  o.settle.timeout_s = 0;
  RecordingController c;
  c.explode_on = "b";
  std::ostringstream log;
  EXPECT_THROW((void)power::run_sweep(&c, {a, b}, o, log), std::runtime_error);
  EXPECT_EQ(c.calls, (std::vector<std::string>{"save", "apply a", "apply b", "restore"}));
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{"a.json"}));
  // All done already: nothing to apply, so the machine is not touched at all.
  c.calls.clear();
  c.explode_on.clear();
  const auto again = power::run_sweep(&c, {a}, o, log);
  EXPECT_EQ(again.skipped, 1);
  EXPECT_TRUE(c.calls.empty());
}

TEST_F(Sweep, CtrlCAtTheTerminalStopsBenchAndSweepWithoutRecordingAFailure) {
  // The bench sends SIGINT to its whole process group, edgeroof's: what the terminal's Ctrl-C does.
  m_kernel = std::make_unique<FakeClockKernel>(m_orin->dir(), 0.05);
  const auto run = run_edgeroof(args("grid:cores=2;cpu=268800;gpu=114750000;emc=204000000", "30", {"--fake-ctrl-c"}));
  ASSERT_TRUE(run.exited()) << run.status() << run.err;
  EXPECT_EQ(run.exit_code, 130) << run.err;
  EXPECT_TRUE(files_in(m_out).empty()) << run.err;  // no partial file, no failed.json
  EXPECT_NE(run.err.find("sweep stopped; restoring the power mode found at the start"), std::string::npos) << run.err;
  expect_restored();
}

namespace {

const std::string roofline_bench = std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/roofline-bench.sh";
// The 52 candidates of the adaptive sweep tests: 12 cores at 2.2 GHz, every GPU and EMC clock.
const std::string all_clocks = "grid:cores=12;cpu=2201600";

// The results files of a sweep folder (what it writes beside them left out).
std::set<std::string> results_in(const fs::path& dir) {
  auto names = files_in(dir);
  names.erase("failed.json");
  names.erase("rooflines.json");
  return names;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class AdaptiveSweep : public Sweep {
protected:
  [[nodiscard]] std::vector<std::string> adaptive(const std::string& budget, const std::string& next,
                                                  const std::vector<std::string>& bench_flags = {}) const {
    std::vector<std::string> a{"sweep",
                               "--plan",
                               "adaptive",
                               "--modes",
                               all_clocks,
                               "--budget",
                               budget,
                               "--next",
                               next,
                               "--root",
                               m_orin->dir().string(),
                               "--out",
                               m_out.string(),
                               "--bench",
                               roofline_bench,
                               "--settle-timeout-s",
                               "0",
                               "--"};
    a.insert(a.end(), bench_flags.begin(), bench_flags.end());
    return a;
  }
  // Every results file was measured in its own mode: the clocks read while the bench ran are the key's.
  void expect_measured_in_their_modes() const {
    for (const auto& name : results_in(m_out)) {
      const auto doc = nlohmann::json::parse(slurp(m_out / name));
      const std::string key = name.substr(0, name.size() - 5);
      EXPECT_EQ(doc["context"]["power_mode.key"], key);
      const auto gpu = key.substr(key.find("-gpu") + 4, key.find("-emc") - key.find("-gpu") - 4);
      const auto emc = key.substr(key.find("-emc") + 4);
      EXPECT_EQ(doc["context"]["power_mode.gpu_hz"], gpu) << key;
      EXPECT_EQ(doc["context"]["power_mode.emc_hz"], emc) << key;
    }
  }
};

}  // namespace

TEST_F(AdaptiveSweep, MeasuresThePlannedModesInRoundsAndResumes) {
  const auto run = run_edgeroof(adaptive("8", "4"));
  ASSERT_TRUE(run.exited()) << run.status() << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const auto first = results_in(m_out);
  EXPECT_EQ(first.size(), 8u) << run.err;
  expect_measured_in_their_modes();
  expect_restored();
  // Two rounds of four: each measures, then the next fits and models before it plans.
  EXPECT_EQ(count_of(run.err, "; measuring 4: "), 2u) << run.err;
  EXPECT_NE(run.err.find("adaptive sweep: round 1: 0 of a budget of 8 measured; measuring 4: "), std::string::npos);
  EXPECT_NE(run.err.find("adaptive sweep: round 2: 4 of a budget of 8 measured; measuring 4: "), std::string::npos);
  EXPECT_NE(run.err.find("adaptive sweep: round 3: rooflines of 52 modes (8 measured) written to " +
                         (m_out / "rooflines.json").string()),
            std::string::npos)
      << run.err;
  EXPECT_TRUE(run.err.find("adaptive sweep: 8 of a budget of 8 measured; budget reached\n") != std::string::npos ||
              run.err.find("; stopping\n") != std::string::npos)
      << run.err;
  // The rooflines of every candidate, the measured ones as fitted.
  const auto doc = nlohmann::json::parse(slurp(m_out / "rooflines.json"));
  ASSERT_EQ(doc["modes"].size(), 52u);
  std::size_t measured = 0;
  for (const auto& m : doc["modes"]) {
    const bool has_results = first.count(m["key"].get<std::string>() + ".json") != 0;
    EXPECT_EQ(m.value("source", ""), has_results ? "measured" : "modeled") << m["key"];
    measured += has_results ? 1 : 0;
  }
  EXPECT_EQ(measured, 8u);
  std::map<std::string, std::string> nonces;
  for (const auto& name : first)
    nonces[name] = nlohmann::json::parse(slurp(m_out / name))["context"]["fake.nonce"].get<std::string>();

  // The same budget again: everything is there, nothing is measured.
  const auto again = run_edgeroof(adaptive("8", "4"));
  ASSERT_TRUE(succeeded(again)) << again.err;
  EXPECT_EQ(count_of(again.err, "; measuring "), 0u) << again.err;
  EXPECT_NE(again.err.find("adaptive sweep: 8 of a budget of 8 measured; budget reached\n"), std::string::npos)
      << again.err;
  // A larger budget goes on from there and leaves the results it has alone.
  const auto more = run_edgeroof(adaptive("10", "4"));
  ASSERT_TRUE(succeeded(more)) << more.err;
  EXPECT_NE(more.err.find("adaptive sweep: round 1: 8 of a budget of 10 measured; measuring 2: "), std::string::npos)
      << more.err;
  const auto after = results_in(m_out);
  EXPECT_EQ(after.size(), 10u);
  for (const auto& [name, nonce] : nonces)
    EXPECT_EQ(nlohmann::json::parse(slurp(m_out / name))["context"]["fake.nonce"], nonce) << name;
  expect_measured_in_their_modes();
  expect_restored();
}

TEST_F(AdaptiveSweep, SigintStopsTheRoundAndNoFurtherRoundStarts) {
  // The third bench sends SIGINT to edgeroof, once two results are there.
  const auto run = run_edgeroof(adaptive("8", "4", {"--fake-sigint-at=2"}));
  ASSERT_TRUE(run.exited()) << run.status() << run.err;
  EXPECT_EQ(run.exit_code, 130) << run.err;
  EXPECT_EQ(results_in(m_out).size(), 2u) << run.err;
  EXPECT_EQ(files_in(m_out).count("rooflines.json"), 0u);
  EXPECT_NE(run.err.find("adaptive sweep: interrupted; no further round\n"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("round 2"), std::string::npos) << run.err;
  expect_restored();
}

TEST_F(AdaptiveSweep, TakesItsCandidatesFromAModesFile) {
  const auto modes =
      run_edgeroof({"modes", "--root", m_orin->dir().string(), "--grid",
                    "cores=12;cpu=2201600;gpu=318750000,1300500000;emc=2133000000,3199000000", "--format", "json"});
  ASSERT_TRUE(succeeded(modes)) << modes.err;
  const auto listed = nlohmann::json::parse(modes.out);
  ASSERT_EQ(listed["modes"].size(), 4u);
  EXPECT_EQ(listed["modes"][0]["tpc_pg_mask"], 0);
  const auto file = m_orin->dir() / "modes.json";
  std::ofstream(file) << modes.out;
  auto args = adaptive("3", "3");
  args[3] = "--modes-file";
  args[4] = file.string();
  const auto run = run_edgeroof(args);
  ASSERT_TRUE(run.exited()) << run.status() << run.err;
  const auto done = results_in(m_out);
  EXPECT_EQ(done.size(), 3u) << run.err;
  std::set<std::string> keys;
  for (const auto& m : listed["modes"]) keys.insert(m["key"].get<std::string>() + ".json");
  for (const auto& name : done) EXPECT_EQ(keys.count(name), 1u) << name;
  expect_measured_in_their_modes();
  // A key this machine has no mode for: one line, nothing measured.
  auto foreign = listed;
  foreign["modes"][1]["key"] = "c12-cpu2201600-gpu999-emc2133000000";
  const auto foreign_file = m_orin->dir() / "foreign.json";
  std::ofstream(foreign_file) << foreign.dump();
  args[4] = foreign_file.string();
  args[12] = (m_orin->dir() / "other").string();
  EXPECT_TRUE(fails_with(run_edgeroof(args), 1,
                         "edgeroof sweep: error: " + foreign_file.string() +
                             ": mode c12-cpu2201600-gpu999-emc2133000000 is neither in nvpmodel.conf nor in the grid "
                             "of this machine"));
  EXPECT_FALSE(fs::exists(m_orin->dir() / "other"));
}

TEST_F(AdaptiveSweep, BadPlanOptionsAreUsageErrors) {
  const std::string hint = " (see 'edgeroof sweep --help')";
  auto with = [&](std::vector<std::string> a, std::size_t at, const std::string& value) {
    a[at] = value;
    return a;
  };
  const auto base = adaptive("8", "4");
  EXPECT_TRUE(fails_with(run_edgeroof(with(base, 2, "greedy")), 2,
                         "edgeroof sweep: --plan takes adaptive, not 'greedy'" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof(with(base, 6, "0")), 2,
                         "edgeroof sweep: --budget takes a whole number from 1 to 1000000, not '0'" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof(with(base, 8, "0")), 2,
                         "edgeroof sweep: --next takes a whole number from 1 to 1000000, not '0'" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof(with(base, 4, "current")), 2,
                         "edgeroof sweep: --plan adaptive needs modes to choose from, not current" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof(with(with(base, 1, "--budget"), 2, "8")), 2,
                         "edgeroof sweep: --budget given twice" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof({"sweep", "--modes", all_clocks, "--budget", "8", "--out", m_out.string()}), 2,
                         "edgeroof sweep: --budget goes with --plan adaptive" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof({"sweep", "--plan", "adaptive", "--budget", "8", "--out", m_out.string()}), 2,
                         "edgeroof sweep: --plan adaptive takes its candidates from --modes SPEC or --modes-file "
                         "FILE (one of them)" +
                             hint));
  EXPECT_FALSE(fs::exists(m_out));
}
