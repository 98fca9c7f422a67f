// Power-mode controllers on a writable fake Orin AGX tree: apply, verify, restore, the order of
// min/max writes, refused writes, dry runs, nvpmodel through a fake runner, NVML through a fake API,
// clocks that follow late (a stand-in kernel) and the patience that waits for them, and the
// child-process and signal helpers the sweep relies on.
#include "../data/modes/fake_orin.hpp"
#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/controller_process.hpp"
#include "fake_kernel.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <sstream>
#include <thread>

using namespace edgeroof::power;
using edgeroof::testing::FakeClockKernel;
using edgeroof::testing::FakeOrin;
using edgeroof::testing::L4t;

namespace {

const char* const gpu_min = "/sys/devices/17000000.ga10b/devfreq/17000000.ga10b/min_freq";
const char* const gpu_max = "/sys/devices/17000000.ga10b/devfreq/17000000.ga10b/max_freq";
const char* const emc_cap = "/sys/kernel/nvpmodel_emc_cap/emc_iso_cap";

std::string cpu_node(int cpu, const std::string& leaf) {
  return "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + (leaf == "online" ? "/online" : "/cpufreq/" + leaf);
}

// Writes like a kernel driver: a min above the current max (or a max below the current min) is
// refused with EINVAL, so only the right order of writes gets through. Every write is logged.
struct StrictDriver {
  explicit StrictDriver(const Root& r) : root(r) {}
  Root root;
  std::vector<std::string> log;
  void operator()(const std::string& path, const std::string& value) {
    const auto ends_with = [&](const char* s) {
      const std::string tail(s);
      return path.size() >= tail.size() && path.compare(path.size() - tail.size(), tail.size(), tail) == 0;
    };
    const std::int64_t v = std::stoll(value);
    const auto sibling = [&](const char* from, const char* to) {
      return path.substr(0, path.size() - std::string(from).size()) + to;
    };
    if ((ends_with("scaling_min_freq") &&
         v > root.try_read_int(sibling("scaling_min_freq", "scaling_max_freq")).value_or(v)) ||
        (ends_with("/min_freq") && v > root.try_read_int(sibling("min_freq", "max_freq")).value_or(v)) ||
        (ends_with("scaling_max_freq") &&
         v < root.try_read_int(sibling("scaling_max_freq", "scaling_min_freq")).value_or(v)) ||
        (ends_with("/max_freq") && v < root.try_read_int(sibling("max_freq", "min_freq")).value_or(v))) {
      throw SysfsError("cannot write '" + value + "' to " + path + ": Invalid argument");
    }
    log.push_back(path + "=" + value);
    root.write(path, value);
  }
};

ModeIo strict_io(const FakeOrin& orin, StrictDriver& driver) {
  ModeIo io{Root(orin.dir())};
  io.write = [&driver](const std::string& p, const std::string& v) { driver(p, v); };
  return io;
}

std::size_t index_of(const std::vector<std::string>& log, const std::string& entry) {
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i] == entry) return i;
  }
  return log.size();
}

PowerMode grid_mode(const FakeOrin& orin, const std::string& spec) {
  auto modes = enumerate_grid(parse_grid_spec(spec), read_frequency_tables(Root(orin.dir())));
  EXPECT_EQ(modes.size(), 1u);
  return modes.at(0);
}

}  // namespace

// The same on the layouts of L4T 35 and L4T 36: the devfreq link and the EMC cap differ.
class JetsonControllerOnRelease : public ::testing::TestWithParam<L4t> {};

TEST_P(JetsonControllerOnRelease, AppliesVerifiesAndRestoresAGridMode) {
  const FakeOrin orin(std::string("apply-") + (GetParam() == L4t::r35 ? "35" : "36"), GetParam());
  const std::string link =
      GetParam() == L4t::r35 ? "/sys/class/devfreq/17000000.ga10b" : "/sys/class/devfreq/17000000.gpu";
  const std::string gpu_min_node = orin.gpu() + "/min_freq";
  const std::string gpu_max_node = orin.gpu() + "/max_freq";
  const std::string release_emc_cap = orin.emc_cap();
  StrictDriver driver(Root(orin.dir()));
  JetsonController c(strict_io(orin, driver), load_nvpmodel_conf((orin.dir() / "etc/nvpmodel.conf").string()));
  EXPECT_EQ(c.gpu_devfreq(), link);
  EXPECT_EQ(c.emc_cap_node(), release_emc_cap);
  EXPECT_EQ(c.tpc_mask_node(), "/sys/devices/gpu.0/tpc_pg_mask");
  c.save();
  EXPECT_EQ(c.saved_nvpmodel_id(), 2);
  const auto low = grid_mode(orin, "cores=4;cpu=1036800;gpu=318750000;emc=2133000000");
  c.apply(low);
  EXPECT_TRUE(c.verify(low).empty());
  for (int cpu = 0; cpu < 12; ++cpu) EXPECT_EQ(orin.get(cpu_node(cpu, "online")), cpu < 4 ? "1" : "0") << cpu;
  EXPECT_EQ(orin.get(cpu_node(0, "scaling_min_freq")), "1036800");
  EXPECT_EQ(orin.get(cpu_node(3, "scaling_max_freq")), "1036800");
  EXPECT_EQ(orin.get(cpu_node(3, "scaling_cur_freq")), "1036800");
  EXPECT_EQ(orin.get(gpu_max_node), "318750000");
  EXPECT_EQ(orin.get(gpu_min_node), "318750000");
  EXPECT_EQ(orin.get(release_emc_cap), "2133000000");
  // Going down: min first (from 114.75 MHz up to 318.75 MHz is within the old max), then max.
  const auto gpu_min_at = index_of(driver.log, link + "/min_freq=318750000");
  const auto gpu_max_at = index_of(driver.log, link + "/max_freq=318750000");
  ASSERT_LT(gpu_max_at, driver.log.size());
  EXPECT_LT(gpu_min_at, gpu_max_at);
  // CPUs are taken offline after their frequencies are set, the highest first.
  EXPECT_LT(index_of(driver.log, cpu_node(3, "scaling_max_freq") + "=1036800"),
            index_of(driver.log, cpu_node(11, "online") + "=0"));
  EXPECT_LT(index_of(driver.log, cpu_node(11, "online") + "=0"), index_of(driver.log, cpu_node(4, "online") + "=0"));

  // Going up from there: the strict driver accepts it only with max written before min.
  driver.log.clear();
  const auto high = grid_mode(orin, "cores=12;cpu=2201600;gpu=1300500000;emc=3199000000");
  c.apply(high);
  EXPECT_TRUE(c.verify(high).empty());
  EXPECT_LT(index_of(driver.log, link + "/max_freq=1300500000"), index_of(driver.log, link + "/min_freq=1300500000"));
  EXPECT_EQ(orin.get(cpu_node(11, "online")), "1");
  EXPECT_EQ(orin.get(cpu_node(11, "scaling_min_freq")), "2201600");

  c.restore();
  for (int cpu = 0; cpu < 12; ++cpu) {
    EXPECT_EQ(orin.get(cpu_node(cpu, "online")), "1");
    EXPECT_EQ(orin.get(cpu_node(cpu, "scaling_min_freq")), "268800");
    EXPECT_EQ(orin.get(cpu_node(cpu, "scaling_max_freq")), "2201600");
  }
  EXPECT_EQ(orin.get(gpu_min_node), "114750000");
  EXPECT_EQ(orin.get(gpu_max_node), "1300500000");
  EXPECT_EQ(orin.get(release_emc_cap), "3199000000");
}

INSTANTIATE_TEST_SUITE_P(Releases, JetsonControllerOnRelease, ::testing::Values(L4t::r35, L4t::r36),
                         [](const ::testing::TestParamInfo<L4t>& info) {
                           return std::string(info.param == L4t::r35 ? "L4T35" : "L4T36");
                         });

TEST(JetsonController, VerifyReportsClocksThatDidNotFollow) {
  const FakeOrin orin("verify");
  JetsonController c(ModeIo{Root(orin.dir())}, std::nullopt);
  c.save();
  const auto mode = grid_mode(orin, "cores=8;cpu=1497600;gpu=726750000;emc=665600000");
  c.apply(mode);
  ASSERT_TRUE(c.verify(mode).empty());
  // A throttled GPU, a CPU brought back online behind our back and a TPC mask someone changed.
  std::filesystem::remove(orin.dir() / "sys/devices/17000000.ga10b/devfreq/17000000.ga10b/cur_freq");
  orin.put("/sys/devices/17000000.ga10b/devfreq/17000000.ga10b/cur_freq", "624750000\n");
  orin.put(cpu_node(9, "online"), "1\n");
  orin.put("/sys/devices/gpu.0/tpc_pg_mask", "240\n");
  const auto diffs = c.verify(mode);
  ASSERT_EQ(diffs.size(), 4u);
  EXPECT_EQ(diffs[0], "cpu9 is online, the mode wants it offline");
  EXPECT_EQ(diffs[1], "cpu9 runs at 2201600 kHz, the mode wants 1497600");
  EXPECT_EQ(diffs[2], "GPU runs at 624750000 Hz, the mode wants 726750000");
  EXPECT_EQ(diffs[3], "TPC mask reads 240, the mode wants 0");
  c.restore();
  EXPECT_EQ(orin.get(cpu_node(9, "online")), "1");
  EXPECT_EQ(orin.get("/sys/devices/gpu.0/tpc_pg_mask"), "0");
}

TEST(JetsonController, RefusedWriteThrowsAndRestoreStillRestoresTheRest) {
  const FakeOrin orin("refused");
  JetsonController c(ModeIo{Root(orin.dir())}, std::nullopt);
  c.save();
  // The EMC cap node turns into a directory: the write is refused by the kernel (EISDIR).
  std::filesystem::remove(orin.dir() / "sys/kernel/debug/bpmp/debug/clk/emc/rate");
  std::filesystem::remove(orin.dir() / std::string(emc_cap).substr(1));
  std::filesystem::create_directory(orin.dir() / std::string(emc_cap).substr(1));
  const auto mode = grid_mode(orin, "cores=2;cpu=268800;gpu=114750000;emc=204000000");
  try {
    c.apply(mode);
    FAIL() << "the EMC write must fail";
  } catch (const SysfsError& e) {
    EXPECT_NE(std::string(e.what()).find("emc_iso_cap"), std::string::npos);
  }
  // The cap cannot be written back either; restore says so after restoring everything else.
  try {
    c.restore();
    FAIL() << "the EMC cap cannot be restored";
  } catch (const ModeError& e) {
    EXPECT_NE(std::string(e.what()).find("emc_iso_cap: Is a directory"), std::string::npos);
  }
  EXPECT_EQ(orin.get(cpu_node(5, "online")), "1");
  EXPECT_EQ(orin.get(cpu_node(0, "scaling_max_freq")), "2201600");
  EXPECT_EQ(orin.get(gpu_max), "1300500000");
}

TEST(JetsonController, PredefinedModesRunNvpmodelAndRestoreTheModeFound) {
  const FakeOrin orin("nvpmodel");
  const auto conf = load_nvpmodel_conf((orin.dir() / "etc/nvpmodel.conf").string());
  const auto tables = read_frequency_tables(Root(orin.dir()));
  std::vector<std::vector<std::string>> runs;
  ModeIo io{Root(orin.dir())};
  // A fake nvpmodel: what the real one does to the nodes this test looks at.
  io.run = [&](const std::vector<std::string>& argv) {
    runs.push_back(argv);
    const auto mode = to_power_mode(*conf.find_mode(std::stoi(argv.at(2))), tables);
    for (int cpu = 0; cpu < 12; ++cpu) {
      orin.put(cpu_node(cpu, "online"), cpu < *mode.cpu_online ? "1" : "0");
      orin.put(cpu_node(cpu, "scaling_max_freq"), std::to_string(*mode.cpu_max_khz));
    }
    orin.put(gpu_max, std::to_string(*mode.gpu_max_hz));
    orin.put(emc_cap, std::to_string(*conf.find_mode(std::stoi(argv.at(2)))->value("EMC", "MAX_FREQ")));
    orin.put("/sys/devices/gpu.0/tpc_pg_mask", std::to_string(*mode.tpc_pg_mask));
  };
  JetsonController c(io, conf);
  c.save();
  const auto m15 = to_power_mode(*conf.find_mode(1), tables);
  c.apply(m15);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0], (std::vector<std::string>{"nvpmodel", "-m", "1"}));
  EXPECT_TRUE(c.verify(m15).empty());
  EXPECT_EQ(orin.get(cpu_node(4, "online")), "0");
  c.restore();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1], (std::vector<std::string>{"nvpmodel", "-m", "2"}));  // pmode:0002 at save()
  // Then the exact values found are written back over what nvpmodel set.
  EXPECT_EQ(orin.get(cpu_node(4, "online")), "1");
  EXPECT_EQ(orin.get(gpu_max), "1300500000");
  EXPECT_EQ(orin.get("/sys/devices/gpu.0/tpc_pg_mask"), "0");
  PowerMode unknown;
  unknown.key = "nvp9-x";
  unknown.id = 9;
  EXPECT_THROW(c.apply(unknown), ModeError);
}

TEST(JetsonController, DryRunPrintsTheWritesAndChangesNothing) {
  const FakeOrin orin("dry");
  std::ostringstream out;
  ModeIo io{Root(orin.dir())};
  io.dry_run = &out;
  JetsonController c(io, std::nullopt);
  c.save();
  c.apply(grid_mode(orin, "cores=10;cpu=883200;gpu=930750000;emc=2133000000"));
  const std::string text = out.str();
  EXPECT_NE(text.find("write 883200 > /sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq\n"
                      "write 883200 > /sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq\n"),
            std::string::npos);
  EXPECT_NE(text.find("write 0 > /sys/devices/system/cpu/cpu11/online\n"), std::string::npos);
  EXPECT_NE(text.find("write 2133000000 > /sys/kernel/nvpmodel_emc_cap/emc_iso_cap\n"), std::string::npos);
  EXPECT_EQ(text.find("cpu9/online"), std::string::npos);
  EXPECT_EQ(orin.get(cpu_node(11, "online")), "1");
  EXPECT_EQ(orin.get(gpu_max), "1300500000");
}

TEST(CpufreqController, PinsCpusAndRefusesGpuSettings) {
  const FakeOrin orin("cpufreq");
  CpufreqController c(ModeIo{Root(orin.dir())});
  c.save();
  PowerMode m;
  m.key = "c6-cpu576000";
  m.cpu_online = 6;
  m.cpu_min_khz = m.cpu_max_khz = 576000;
  c.apply(m);
  EXPECT_TRUE(c.verify(m).empty());
  EXPECT_EQ(orin.get(cpu_node(5, "scaling_cur_freq")), "576000");
  EXPECT_EQ(orin.get(cpu_node(6, "online")), "0");
  const auto now = c.current();
  EXPECT_EQ(now.cpu_online, 6);
  EXPECT_EQ(now.cpu_max_khz, 576000);
  c.restore();
  EXPECT_EQ(orin.get(cpu_node(6, "online")), "1");
  m.gpu_max_hz = 1;
  EXPECT_THROW(c.apply(m), ModeError);
  m.gpu_max_hz.reset();
  m.cpu_online = 13;
  EXPECT_THROW(c.apply(m), ModeError);
}

TEST(NvmlController, LocksClocksThroughTheApiAndResetsThem) {
  std::vector<std::string> calls;
  unsigned sm_mhz = 1980, mem_mhz = 2619;
  NvmlClockApi api;
  api.set_gpu_locked_clocks = [&](unsigned d, unsigned lo, unsigned hi) {
    calls.push_back("gpu " + std::to_string(d) + " " + std::to_string(lo) + " " + std::to_string(hi));
    sm_mhz = hi;
    return 0;
  };
  api.reset_gpu_locked_clocks = [&](unsigned d) {
    calls.push_back("reset gpu " + std::to_string(d));
    return 0;
  };
  api.set_memory_locked_clocks = [&](unsigned, unsigned, unsigned) { return 4; };  // NO_PERMISSION
  api.reset_memory_locked_clocks = [&](unsigned) { return 0; };
  api.current_clocks = [&](unsigned, unsigned& sm, unsigned& mem) {
    sm = sm_mhz;
    mem = mem_mhz;
    return 0;
  };
  api.error_string = [](int rc) { return rc == 4 ? std::string("Insufficient Permissions") : std::string("error"); };
  NvmlController c(api, 1);
  PowerMode m;
  m.key = "gpu1410000000";
  m.gpu_min_hz = m.gpu_max_hz = 1410000000;
  c.apply(m);
  EXPECT_EQ(calls, (std::vector<std::string>{"gpu 1 1410 1410"}));
  EXPECT_TRUE(c.verify(m).empty());
  sm_mhz = 1500;
  ASSERT_EQ(c.verify(m).size(), 1u);
  c.restore();
  EXPECT_EQ(calls.back(), "reset gpu 1");
  m.emc_max_hz = 1593000000;
  try {
    c.apply(m);
    FAIL() << "memory lock refused";
  } catch (const ModeError& e) {
    EXPECT_EQ(std::string(e.what()), "nvmlDeviceSetMemoryLockedClocks: Insufficient Permissions");
  }
  PowerMode cpu;
  cpu.cpu_online = 2;
  EXPECT_THROW(c.apply(cpu), ModeError);
}

TEST(Process, RunsArgvVectorsAndStopsChildren) {
  EXPECT_NO_THROW(run_command({"/bin/true"}));
  try {
    run_command({"/bin/false"});
    FAIL() << "false exits with 1";
  } catch (const ModeError& e) {
    EXPECT_NE(std::string(e.what()).find("exit status 1"), std::string::npos);
  }
  EXPECT_THROW(run_command({"/nonexistent/nvpmodel", "-m", "0"}), ModeError);
  EXPECT_TRUE(find_in_path("sh").has_value());
  EXPECT_FALSE(find_in_path("edgeroof-no-such-tool").has_value());
  EXPECT_FALSE(find_in_path("../sh").has_value());
  ChildProcess sleeper({"/bin/sleep", "30"});
  int polls = 0;
  const auto status = sleeper.wait([&] { return ++polls > 3; }, 0.01, 2.0);
  EXPECT_FALSE(status.has_value());
}

TEST(Process, StopSignalsOnlySetAFlag) {
  {
    StopSignals signals;
    EXPECT_FALSE(StopSignals::requested());
    std::raise(SIGTERM);
    EXPECT_TRUE(StopSignals::requested());
    EXPECT_EQ(StopSignals::signal_number(), SIGTERM);
  }
  StopSignals::reset();
  EXPECT_FALSE(StopSignals::requested());
}

TEST(HostController, CpusThroughCpufreqAndTheGpuThroughNvmlLoadedOnDemand) {
  // A plain Linux machine: cpufreq nodes, no GPU devfreq, no nvpmodel.conf.
  const FakeOrin orin("host");
  std::filesystem::remove_all(orin.dir() / "sys/class/devfreq");
  std::filesystem::remove(orin.dir() / "etc/nvpmodel.conf");
  int loads = 0;
  std::vector<std::string> calls;
  const auto load = [&] {
    ++loads;
    NvmlClockApi api;
    api.set_gpu_locked_clocks = [&](unsigned, unsigned lo, unsigned hi) {
      calls.push_back("lock " + std::to_string(lo) + "-" + std::to_string(hi));
      return 0;
    };
    api.reset_gpu_locked_clocks = [&](unsigned) {
      calls.push_back("reset");
      return 0;
    };
    api.current_clocks = [](unsigned, unsigned& sm, unsigned& mem) {
      sm = 1410;
      mem = 1593;
      return 0;
    };
    api.error_string = [](int) { return std::string("error"); };
    return api;
  };
  auto c = make_controller(ModeIo{Root(orin.dir())}, std::nullopt, load);
  EXPECT_EQ(c->name(), "cpufreq+nvml");
  c->save();
  PowerMode cpu_only;
  cpu_only.key = "c2-cpu576000";
  cpu_only.cpu_online = 2;
  cpu_only.cpu_min_khz = cpu_only.cpu_max_khz = 576000;
  c->apply(cpu_only);
  EXPECT_EQ(loads, 0);  // no GPU setting, no NVML
  EXPECT_TRUE(c->verify(cpu_only).empty());
  PowerMode both = cpu_only;
  both.key = "c2-cpu576000-gpu1410000000";
  both.gpu_min_hz = both.gpu_max_hz = 1410000000;
  c->apply(both);
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(calls, (std::vector<std::string>{"lock 1410-1410"}));
  EXPECT_TRUE(c->verify(both).empty());
  c->restore();
  EXPECT_EQ(calls.back(), "reset");
  EXPECT_EQ(orin.get(cpu_node(2, "online")), "1");
  EXPECT_EQ(orin.get(cpu_node(0, "scaling_max_freq")), "2201600");
  PowerMode tpc;
  tpc.tpc_pg_mask = 0;
  EXPECT_THROW(c->apply(tpc), ModeError);
}

namespace {

using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

Patience patience_of(double timeout_s) {
  Patience p;
  p.timeout_s = timeout_s;
  return p;
}

std::string lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

// The mode of the bug report: every domain changes, the GPU from 1300.5 to 624.75 MHz.
const char* const low_spec = "cores=4;cpu=1036800;gpu=624750000;emc=2133000000";

// What one read finds right after the writes of low_spec, before the clocks have moved.
std::vector<std::string> old_clocks_against_low() {
  std::vector<std::string> d;
  for (int cpu = 0; cpu < 4; ++cpu)
    d.push_back("cpu" + std::to_string(cpu) + " runs at 2201600 kHz, the mode wants 1036800");
  d.push_back("GPU runs at 1300500000 Hz, the mode wants 624750000");
  d.push_back("EMC runs at 3199000000 Hz, above the cap 2133000000");
  return d;
}

class LateKernel : public ::testing::TestWithParam<double> {};

}  // namespace

TEST_P(LateKernel, ApplyWaitsForTheClocksAndRestoreWaitsForThemToComeBack) {
  const double delay_s = GetParam();
  const FakeOrin orin("late" + std::to_string(static_cast<int>(delay_s * 1000)));
  orin.pin_at_max();  // as jetson_clocks leaves it: the restore has to bring the clocks back up
  FakeClockKernel kernel(orin.dir(), delay_s);
  StrictDriver driver(Root(orin.dir()));
  JetsonController c(strict_io(orin, driver), load_nvpmodel_conf((orin.dir() / "etc/nvpmodel.conf").string()));
  EXPECT_EQ(c.patience().timeout_s, 2.0);  // the default
  c.save();
  const auto mode = grid_mode(orin, low_spec);
  const auto since = steady::now();
  c.apply(mode);
  // One read right after the writes finds the old clocks: the sweep's old verify failed here.
  EXPECT_EQ(c.verify(mode), old_clocks_against_low());
  const auto wait = c.await_mode(mode, since);
  EXPECT_TRUE(wait.diffs.empty()) << lines(wait.diffs);
  EXPECT_GE(wait.waited_s, delay_s);
  EXPECT_LT(wait.waited_s, 2.0);
  EXPECT_GT(wait.reads, 1);
  EXPECT_EQ(orin.get(std::string(edgeroof::testing::fake_orin_gpu) + "/cur_freq"), "624750000");

  const auto restore_started = steady::now();
  c.restore();
  // restore() returns once the clocks are back, not when the limits are written.
  EXPECT_GE(seconds_since(restore_started), delay_s);
  EXPECT_EQ(orin.get(std::string(edgeroof::testing::fake_orin_gpu) + "/cur_freq"), "1300500000");
  for (int cpu = 0; cpu < 12; ++cpu) EXPECT_EQ(orin.get(cpu_node(cpu, "scaling_cur_freq")), "2201600") << cpu;
  EXPECT_EQ(orin.get("/sys/kernel/debug/bpmp/debug/clk/emc/rate"), "3199000000");
  EXPECT_EQ(kernel.changes(), 2 * 6);  // cpu0-3, GPU and EMC went down and came back
}

INSTANTIATE_TEST_SUITE_P(Delays, LateKernel, ::testing::Values(0.05, 0.4));

TEST(LateClocks, ATimeoutShorterThanTheDriverSaysWhatDidNotFollowAndWhere) {
  const FakeOrin orin("late-timeout");
  orin.pin_at_max();
  FakeClockKernel kernel(orin.dir(), 0.4);
  JetsonController c(ModeIo{Root(orin.dir())}, std::nullopt);
  c.set_patience(patience_of(0.1));
  c.save();
  const auto mode = grid_mode(orin, low_spec);
  const auto since = steady::now();
  c.apply(mode);
  const auto wait = c.await_mode(mode, since);
  EXPECT_EQ(wait.diffs, old_clocks_against_low());
  EXPECT_FALSE(wait.unreadable);
  EXPECT_GE(wait.waited_s, 0.1);
  EXPECT_LT(wait.waited_s, 0.4);
  // Limits put back before the clocks moved would leave nothing to wait for: let them move first.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ASSERT_EQ(orin.get(std::string(edgeroof::testing::fake_orin_gpu) + "/cur_freq"), "624750000");
  // The restore writes everything back, waits as long, and names each domain that is not back.
  try {
    c.restore();
    FAIL() << "the clocks cannot be back within 0.1 s";
  } catch (const ModeError& e) {
    std::string want = "restore incomplete: clocks not back after 0.1 s: ";
    for (int cpu = 0; cpu < 4; ++cpu)
      want += "cpu" + std::to_string(cpu) + " runs at 1036800 kHz, the state found wants 2201600, ";
    want += "GPU runs at 624750000 Hz, the state found wants 1300500000;";
    EXPECT_EQ(std::string(e.what()), want);
  }
  EXPECT_EQ(orin.get(gpu_min), "1300500000");
  EXPECT_EQ(orin.get(gpu_max), "1300500000");
  EXPECT_EQ(orin.get(cpu_node(3, "scaling_min_freq")), "2201600");
  EXPECT_EQ(orin.get(cpu_node(11, "online")), "1");
  EXPECT_EQ(orin.get(emc_cap), "3199000000");
}

TEST(LateClocks, AnEmptyNodeMidChangeIsReadAgainThenNamed) {
  const FakeOrin orin("late-blank");
  // The clocks move 20 ms after the writes, and their nodes read empty for the 500 ms after that.
  FakeClockKernel kernel(orin.dir(), 0.02, 0.5);
  JetsonController c(ModeIo{Root(orin.dir())}, std::nullopt);
  c.set_patience(patience_of(0.25));
  c.save();
  const auto mode = grid_mode(orin, "cores=12;cpu=2201600;gpu=624750000;emc=3199000000");
  auto since = steady::now();
  c.apply(mode);
  const auto blank = c.await_mode(mode, since);
  EXPECT_EQ(blank.diffs,
            std::vector<std::string>{"GPU: " + (orin.dir() / "sys/class/devfreq/17000000.ga10b/cur_freq").string() +
                                     " is empty"});
  EXPECT_FALSE(blank.unreadable);
  // With the default patience the same change is waited through.
  c.set_patience(Patience{});
  const auto up = grid_mode(orin, "cores=12;cpu=2201600;gpu=1300500000;emc=3199000000");
  since = steady::now();
  c.apply(up);
  const auto through = c.await_mode(up, since);
  EXPECT_TRUE(through.diffs.empty()) << lines(through.diffs);
  EXPECT_GE(through.waited_s, 0.02);
  c.restore();
}

TEST(LateClocks, ANodeThatCannotBeReadEndsTheWaitAtOnce) {
  const FakeOrin orin("late-missing");
  JetsonController c(ModeIo{Root(orin.dir())}, std::nullopt);
  c.save();
  const auto mode = grid_mode(orin, low_spec);
  c.apply(mode);
  const std::string cur = (orin.dir() / "sys/class/devfreq/17000000.ga10b/cur_freq").string();
  std::filesystem::remove(cur);
  const auto wait = c.await_mode(mode, steady::now());
  EXPECT_TRUE(wait.unreadable);
  EXPECT_EQ(wait.reads, 1);
  EXPECT_EQ(wait.diffs, std::vector<std::string>{"cannot read " + cur + ": No such file or directory"});
  orin.put(std::string(edgeroof::testing::fake_orin_gpu) + "/cur_freq", "-624750000\n");
  EXPECT_EQ(c.await_mode(mode, steady::now()).diffs,
            std::vector<std::string>{cur + " reads '-624750000', not a clock rate"});
  orin.put(std::string(edgeroof::testing::fake_orin_gpu) + "/cur_freq", "624750000\n");
  EXPECT_TRUE(c.await_mode(mode, steady::now()).diffs.empty());
  c.restore();
}

TEST(Patience, SleepsGrowFromOneMillisecondToFiftyAndNeverPassTheDeadline) {
  std::vector<double> sleeps;
  Patience p;
  p.sleep_s = [&](double s) {
    sleeps.push_back(s);
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
  };
  int reads = 0;
  const auto eight_misses = [&] {
    return ++reads <= 8 ? std::vector<std::string>{"not yet"} : std::vector<std::string>{};
  };
  const auto w = wait_for_clocks(eight_misses, p, steady::now());
  EXPECT_TRUE(w.diffs.empty());
  EXPECT_EQ(w.reads, 9);
  EXPECT_EQ(sleeps, (std::vector<double>{0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.05, 0.05}));
  // A check that never passes: reads until the deadline, each sleep cut to what is left of it.
  sleeps.clear();
  p.timeout_s = 0.2;
  const auto never = wait_for_clocks([] { return std::vector<std::string>{"never"}; }, p, steady::now());
  EXPECT_EQ(never.diffs, std::vector<std::string>{"never"});
  EXPECT_GE(never.waited_s, 0.2);
  double slept = 0;
  for (const double s : sleeps) {
    EXPECT_GT(s, 0.0);
    EXPECT_LE(s, 0.05);
    slept += s;
  }
  EXPECT_LE(slept, 0.2 + 1e-9);
  // stop() ends the wait between reads.
  int polls = 0;
  const auto stopped =
      wait_for_clocks([] { return std::vector<std::string>{"never"}; }, p, steady::now(), [&] { return ++polls == 3; });
  EXPECT_TRUE(stopped.stopped);
  EXPECT_EQ(stopped.reads, 3);
}

TEST(CpufreqController, APresentListBeyondMaxCpusIsRefusedBeforeAllocating) {
  const FakeOrin orin("present");
  orin.put("/sys/devices/system/cpu/present", "0-2000000000\n");
  try {
    CpufreqController c(ModeIo{Root(orin.dir())});
    FAIL() << "2 billion CPUs";
  } catch (const ModeError& e) {
    EXPECT_EQ(std::string(e.what()), (orin.dir() / "sys/devices/system/cpu/present").string() +
                                         ": CPU list '0-2000000000' names CPU '2000000000'; edgeroof handles 8192 "
                                         "CPUs at most");
  }
}
