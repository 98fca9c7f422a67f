// edgeroof sweep: settling, the bench command line and context, and whole sweeps of the `edgeroof`
// executable over a fake Orin AGX tree with a fake bench: interrupted with SIGINT and resumed, and
// with a mode whose write the kernel refuses.
#include "../data/modes/fake_orin.hpp"
#include "edgeroof/power/controller_process.hpp"
#include "edgeroof/reports/sweep.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace edgeroof;
using edgeroof::testing::FakeOrin;

namespace {

const std::string edgeroof_exe = std::string(EDGEROOF_BINARY_DIR) + "/reports/edgeroof";
const std::string fake_bench = std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/fake-bench.sh";

// A scripted sequence of readings; the last one repeats.
template <typename T>
std::function<T()> script(std::vector<T> values) {
  auto i = std::make_shared<std::size_t>(0);
  return [values, i] { return values[std::min((*i)++, values.size() - 1)]; };
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.insert(it->path().filename().string());
  return names;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `edgeroof ARGS` with stdout and stderr in `log`, in a process group of its own when
// `own_group` (as a shell job: the terminal's Ctrl-C reaches it and its children).
pid_t spawn_edgeroof(const std::vector<std::string>& args, const fs::path& log, bool own_group = false) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (own_group) ::setpgid(0, 0);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(edgeroof_exe.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (own_group) ::setpgid(pid, pid);
  return pid;
}

// Runs `edgeroof ARGS` to completion; returns the exit status.
int run_edgeroof(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = spawn_edgeroof(args, log);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class Sweep : public ::testing::Test {
protected:
  void SetUp() override {
    m_orin = std::make_unique<FakeOrin>(::testing::UnitTest::GetInstance()->current_test_info()->name());
    m_out = m_orin->dir() / "results";
    m_log = m_orin->dir() / "sweep.log";
  }
  [[nodiscard]] std::vector<std::string> args(const std::string& modes, const std::string& sleep_s) const {
    return {"sweep",
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
  }
  // The tree as found: all 12 CPUs online at 268.8-2201.6 MHz, GPU 114.75-1300.5 MHz, EMC cap 3199 MHz.
  void expect_restored() const {
    for (int cpu = 0; cpu < 12; ++cpu) {
      const std::string c = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
      EXPECT_EQ(m_orin->get(c + "/online"), "1") << cpu;
      EXPECT_EQ(m_orin->get(c + "/cpufreq/scaling_min_freq"), "268800") << cpu;
      EXPECT_EQ(m_orin->get(c + "/cpufreq/scaling_max_freq"), "2201600") << cpu;
    }
    EXPECT_EQ(m_orin->get(std::string(edgeroof::testing::fake_orin_gpu) + "/min_freq"), "114750000");
    EXPECT_EQ(m_orin->get(std::string(edgeroof::testing::fake_orin_gpu) + "/max_freq"), "1300500000");
    EXPECT_EQ(m_orin->get("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap"), "3199000000");
  }
  std::unique_ptr<FakeOrin> m_orin;
  fs::path m_out;
  fs::path m_log;
};

}  // namespace

TEST(Settle, WaitsForTemperatureAndSteadyPower) {
  reports::SettleOptions o;
  o.timeout_s = 60;
  o.poll_s = 2;
  o.max_temp_C = 50;
  o.power_samples = 3;
  o.power_tolerance = 0.05;
  double slept = 0;
  const auto sleep = [&](double s) { slept += s; };
  // Cool from the start; power 9.0, 8.0, 7.6, 7.5, 7.4: the first window of 3 within 5% of its mean
  // (and at least 0.1 W) is 7.6, 7.5, 7.4 (spread 0.2 <= 0.375), read after 4 polls of 2 s.
  const auto r = reports::settle(o, script<std::vector<double>>({{41.0, 39.5}}),
                                 script<std::optional<double>>({9.0, 8.0, 7.6, 7.5, 7.4}), sleep, nullptr);
  EXPECT_TRUE(r.settled);
  EXPECT_DOUBLE_EQ(r.waited_s, 8.0);
  EXPECT_DOUBLE_EQ(slept, 8.0);
  EXPECT_NEAR(*r.idle_power_W, 7.5, 1e-12);
  EXPECT_DOUBLE_EQ(*r.max_temp_C, 41.0);
  // Hot until the third reading; no sensor: temperatures alone decide.
  const auto hot = reports::settle(o, script<std::vector<double>>({{61.0}, {55.0}, {49.9}}), nullptr, sleep, nullptr);
  EXPECT_TRUE(hot.settled);
  EXPECT_DOUBLE_EQ(hot.waited_s, 4.0);
  EXPECT_FALSE(hot.idle_power_W.has_value());
  // Never cool: gives up at the timeout and says why.
  o.timeout_s = 6;
  const auto never = reports::settle(o, script<std::vector<double>>({{70.0}}),
                                     script<std::optional<double>>({std::nullopt}), sleep, nullptr);
  EXPECT_FALSE(never.settled);
  EXPECT_DOUBLE_EQ(never.waited_s, 6.0);
  EXPECT_EQ(never.reason, "hottest thermal zone at 70.0 °C, limit 50.0");
}

TEST(SweepContext, ContextAndBenchCommandLine) {
  power::PowerMode m;
  m.key = "nvp1-mode-15w";
  m.name = "MODE,15W=x";
  m.id = 1;
  m.cpu_online = 4;
  m.cpu_max_khz = 1036800;
  m.gpu_max_hz = 318750000;
  m.emc_max_hz = 2133000000;
  reports::SettleResult settled;
  settled.settled = true;
  settled.idle_power_W = 7.25;
  EXPECT_EQ(reports::mode_context(m, settled),
            "power_mode.key=nvp1-mode-15w,power_mode.name=MODE_15W_x,power_mode.id=1,power_mode.gpu_hz=318750000,"
            "power_mode.emc_hz=2133000000,power_mode.cpu_khz=1036800,power_mode.cpu_online=4,power_mode.settled=true,"
            "power_mode.idle_power_W=7.250");
  reports::SweepOptions o;
  o.bench = "/opt/edgeroof-bench";
  o.out_dir = "/results";
  o.root = "/";
  o.bench_args = {"--benchmark_filter=memory"};
  const auto argv = reports::bench_argv(m, o);
  ASSERT_EQ(argv.size(), 5u);
  EXPECT_EQ(argv[0], "/opt/edgeroof-bench");
  EXPECT_EQ(argv[1], "--benchmark_out=/results/nvp1-mode-15w.json");
  EXPECT_EQ(argv[2], "--benchmark_out_format=json");
  EXPECT_EQ(argv[4], "--benchmark_filter=memory");
  o.root = "/tmp/tree";
  EXPECT_EQ(reports::bench_argv(m, o)[4], "--root=/tmp/tree");
  const auto j = reports::mode_to_json(m);
  EXPECT_EQ(
      j.dump(),
      R"({"cpu_max_khz":1036800,"cpu_online":4,"emc_max_hz":2133000000,"gpu_max_hz":318750000,"id":1,"key":"nvp1-mode-15w","name":"MODE,15W=x"})");
}

TEST_F(Sweep, SelectsModesFromTheSpec) {
  const power::Root root(m_orin->dir());
  const auto conf = reports::find_nvpmodel_conf(root, std::nullopt);
  ASSERT_TRUE(conf.has_value());
  const auto tables = power::read_frequency_tables(root);
  EXPECT_EQ(reports::select_modes("nvpmodel:all", tables, conf).size(), 4u);
  const auto two = reports::select_modes("nvpmodel:3,0", tables, conf);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].key, "nvp3-mode-50w");
  EXPECT_EQ(two[1].key, "nvp0-maxn");
  EXPECT_EQ(reports::select_modes("grid:cores=2;cpu=268800", tables, conf).size(), 13u * 4u);
  EXPECT_TRUE(reports::select_modes("current", tables, conf).empty());
  EXPECT_THROW((void)reports::select_modes("nvpmodel:7", tables, conf), power::ModeError);
  EXPECT_THROW((void)reports::select_modes("nvpmodel:1x", tables, conf), power::ModeError);
  EXPECT_THROW((void)reports::select_modes("maxn", tables, conf), power::ModeError);
  EXPECT_THROW((void)reports::select_modes("nvpmodel:all", tables, std::nullopt), power::ModeError);
}

TEST_F(Sweep, InterruptedSweepRestoresTheModeAndItsRerunCompletesOnlyTheMissingModes) {
  const std::string modes = "grid:cores=2,4;cpu=268800,2201600;gpu=318750000;emc=2133000000";
  const std::vector<std::string> keys{
      "c2-cpu268800-gpu318750000-emc2133000000", "c2-cpu2201600-gpu318750000-emc2133000000",
      "c4-cpu268800-gpu318750000-emc2133000000", "c4-cpu2201600-gpu318750000-emc2133000000"};
  // Each fake bench takes 0.5 s; SIGINT goes to edgeroof once two results are there.
  const pid_t pid = spawn_edgeroof(args(modes, "0.5"), m_log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (files_in(m_out).count(keys[1] + ".json") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string log = slurp(m_log);
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 130) << log;
  // Exactly the two finished modes, no partial file, and the board as it was found.
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{keys[0] + ".json", keys[1] + ".json"})) << log;
  expect_restored();
  const auto first = nlohmann::json::parse(slurp(m_out / (keys[0] + ".json")));
  // While the bench ran, the mode was in effect: GPU pinned at 318.75 MHz, 2 CPUs online.
  EXPECT_EQ(first["context"]["fake.gpu_cur_freq"], "318750000");
  EXPECT_EQ(first["context"]["fake.cpus_online"], "2");
  EXPECT_EQ(first["context"]["fake.context_arg"],
            "power_mode.key=" + keys[0] + ",power_mode.name=" + keys[0] +
                ",power_mode.gpu_hz=318750000,power_mode.emc_hz=2133000000,power_mode.cpu_khz=268800,"
                "power_mode.cpu_online=2,power_mode.tpc_pg_mask=0,power_mode.settled=true");
  const std::string kept = slurp(m_out / (keys[1] + ".json"));

  // The rerun runs the two missing modes only and leaves the finished ones untouched.
  EXPECT_EQ(run_edgeroof(args(modes, "0"), m_log), 0) << slurp(m_log);
  const std::string rerun_log = slurp(m_log);
  EXPECT_NE(rerun_log.find("sweep: 2 done, 2 already there, 0 failed"), std::string::npos) << rerun_log;
  EXPECT_EQ(files_in(m_out).size(), 4u);
  EXPECT_EQ(slurp(m_out / (keys[1] + ".json")), kept);
  EXPECT_EQ(nlohmann::json::parse(slurp(m_out / (keys[3] + ".json")))["context"]["fake.cpus_online"], "4");
  expect_restored();
}

TEST_F(Sweep, ModeWithARefusedWriteIsRecordedAndSkipped) {
  // cpu3's online node turns into a directory: taking cpu3 offline (mode c2) is refused with
  // EISDIR; mode c4 keeps cpu3 online and needs no write there.
  const fs::path node = m_orin->dir() / "sys/devices/system/cpu/cpu3/online";
  fs::remove(node);
  fs::create_directory(node);
  const std::string modes = "grid:cores=2,4;cpu=1497600;gpu=1300500000;emc=3199000000";
  EXPECT_EQ(run_edgeroof(args(modes, "0"), m_log), 1) << slurp(m_log);
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{"failed.json", "c4-cpu1497600-gpu1300500000-emc3199000000.json"}))
      << slurp(m_log);
  const auto failed = nlohmann::json::parse(slurp(m_out / "failed.json"));
  ASSERT_EQ(failed["failed"].size(), 1u);
  EXPECT_EQ(failed["failed"][0]["key"], "c2-cpu1497600-gpu1300500000-emc3199000000");
  EXPECT_EQ(failed["failed"][0]["stage"], "apply");
  const std::string reason = failed["failed"][0]["reason"];
  EXPECT_NE(reason.find("cpu3/online: Is a directory"), std::string::npos) << reason;
  EXPECT_NE(slurp(m_log).find("FAILED to apply"), std::string::npos);
  // The failed mode's partial apply is undone too (cpu0-2 pinned before the refusal).
  EXPECT_EQ(m_orin->get("/sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq"), "268800");
  EXPECT_EQ(m_orin->get("/sys/devices/system/cpu/cpu11/online"), "1");
}

TEST_F(Sweep, FailingBenchIsRecordedAndARerunRetriesIt) {
  const std::string modes = "grid:cores=12;cpu=2201600;gpu=1300500000;emc=3199000000";
  auto a = args(modes, "0");
  a.push_back("--fake-fail");
  EXPECT_EQ(run_edgeroof(a, m_log), 1);
  const auto failed = nlohmann::json::parse(slurp(m_out / "failed.json"));
  EXPECT_EQ(failed["failed"][0]["reason"], "edgeroof-bench exited with status 3");
  EXPECT_EQ(failed["failed"][0]["stage"], "bench");
  EXPECT_EQ(run_edgeroof(args(modes, "0"), m_log), 0) << slurp(m_log);
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{"c12-cpu2201600-gpu1300500000-emc3199000000.json"}));
}

TEST_F(Sweep, DryRunPrintsAndChangesNothing) {
  auto a = args("nvpmodel:1", "0");
  a.insert(a.begin() + 1, "--dry-run");
  EXPECT_EQ(run_edgeroof(a, m_log), 0) << slurp(m_log);
  const std::string log = slurp(m_log);
  EXPECT_NE(log.find("run nvpmodel -m 1\n"), std::string::npos) << log;
  EXPECT_NE(log.find("--benchmark_context=power_mode.key=nvp1-mode-15w,power_mode.name=MODE_15W,power_mode.id=1,"
                     "power_mode.gpu_hz=318750000"),
            std::string::npos)
      << log;
  EXPECT_FALSE(fs::exists(m_out));
  expect_restored();
}

TEST_F(Sweep, PredefinedModesNeedTheRealRoot) {
  // With a fake tree, nvpmodel (which would change the real board) is never run.
  EXPECT_EQ(run_edgeroof(args("nvpmodel:0", "0"), m_log), 1);
  const auto failed = nlohmann::json::parse(slurp(m_out / "failed.json"));
  EXPECT_EQ(failed["failed"][0]["reason"],
            "nvpmodel runs only with --root / (it would change this machine, not the tree)");
  EXPECT_EQ(run_edgeroof({"sweep", "--modes", "nvpmodel:0", "--root", m_orin->dir().string(), "--out", m_out.string(),
                          "--bench", fake_bench, "--", "--benchmark_out=x.json"},
                         m_log),
            2);
  EXPECT_NE(slurp(m_log).find("set by sweep"), std::string::npos);
}

TEST_F(Sweep, ModesCommandListsResolvedModesAsJson) {
  ASSERT_EQ(run_edgeroof({"modes", "--root", m_orin->dir().string(), "--format", "json"}, m_log), 0) << slurp(m_log);
  const auto doc = nlohmann::json::parse(slurp(m_log));
  ASSERT_EQ(doc["modes"].size(), 4u);
  EXPECT_EQ(
      doc["modes"][0].dump(),
      R"({"cpu_max_khz":2201600,"cpu_online":12,"emc_max_hz":3199000000,"gpu_max_hz":1300500000,"id":0,"key":"nvp0-maxn","name":"MAXN"})");
  EXPECT_EQ(
      doc["modes"][1].dump(),
      R"({"cpu_max_khz":1036800,"cpu_online":4,"emc_max_hz":2133000000,"gpu_max_hz":318750000,"id":1,"key":"nvp1-mode-15w","name":"MODE_15W"})");
  ASSERT_EQ(run_edgeroof({"modes", "--root", m_orin->dir().string(), "--grid", "cores=all;cpu=all;gpu=all;emc=all",
                          "--format", "json"},
                         m_log),
            0);
  const auto grid = nlohmann::json::parse(slurp(m_log));
  ASSERT_EQ(grid["modes"].size(), 4368u);
  EXPECT_EQ(
      grid["modes"][4367].dump(),
      R"({"cpu_max_khz":2201600,"cpu_online":12,"emc_max_hz":3199000000,"gpu_max_hz":1300500000,"key":"c12-cpu2201600-gpu1300500000-emc3199000000","name":"c12-cpu2201600-gpu1300500000-emc3199000000"})");
  // A malformed conf: one line naming the file and the line, exit status 1.
  m_orin->put("/etc/nvpmodel.conf", "< POWER_MODEL ID=1 NAME=A >\nGPU MAX_FREQ\n");
  EXPECT_EQ(run_edgeroof({"modes", "--root", m_orin->dir().string()}, m_log), 1);
  EXPECT_EQ(slurp(m_log), "edgeroof modes: error: " + (m_orin->dir() / "etc/nvpmodel.conf").string() +
                              ": nvpmodel.conf line 2: expected 'PARAM ARG VALUE' in POWER_MODEL A\n");
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
  reports::SweepOptions o;
  o.out_dir = m_out;
  o.bench = fake_bench;
  o.root = m_orin->dir().string();
  o.settle.timeout_s = 0;
  RecordingController c;
  c.explode_on = "b";
  std::ostringstream log;
  EXPECT_THROW((void)reports::run_sweep(&c, {a, b}, o, log), std::runtime_error);
  EXPECT_EQ(c.calls, (std::vector<std::string>{"save", "apply a", "apply b", "restore"}));
  EXPECT_EQ(files_in(m_out), (std::set<std::string>{"a.json"}));
  // All done already: nothing to apply, so the machine is not touched at all.
  c.calls.clear();
  c.explode_on.clear();
  const auto again = reports::run_sweep(&c, {a}, o, log);
  EXPECT_EQ(again.skipped, 1);
  EXPECT_TRUE(c.calls.empty());
}

TEST_F(Sweep, CtrlCAtTheTerminalStopsBenchAndSweepWithoutRecordingAFailure) {
  // The terminal sends SIGINT to the whole process group: edgeroof and its bench.
  const pid_t pid = spawn_edgeroof(args("grid:cores=2;cpu=268800;gpu=114750000;emc=204000000", "30"), m_log, true);
  const fs::path partial = m_out / "c2-cpu268800-gpu114750000-emc204000000.json.partial";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(partial) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(partial));
  ::kill(-pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << slurp(m_log);
  EXPECT_EQ(WEXITSTATUS(status), 130) << slurp(m_log);
  EXPECT_TRUE(files_in(m_out).empty()) << slurp(m_log);  // no partial file, no failed.json
  expect_restored();
}
