// The same Orin AGX in the layouts of two JetPack releases, L4T 35 (JetPack 5) and L4T 36
// (JetPack 6): the GPU devfreq node (17000000.ga10b vs bus@0/17000000.gpu), the EMC cap
// (nvpmodel_emc_cap/emc_iso_cap vs nvpmodel_clk_cap/emc) and the release file. On each: the
// machine readers, the INA3221 rails with readings that change, the clock sampler, the Jetson
// controller's apply/verify/restore, `edgeroof modes` and a whole `edgeroof sweep` on clocks that
// follow late, with the tree as it was found afterwards.
#include "../data/modes/fake_orin.hpp"
#include "edgeroof/power/clock_sampler.hpp"
#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/machine.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/power/sensor_ina3221.hpp"
#include "edgeroof/power/sysfs.hpp"
#include "fake_kernel.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>

namespace fs = std::filesystem;
using namespace edgeroof::power;
using edgeroof::testing::FakeClockKernel;
using edgeroof::testing::FakeOrin;
using edgeroof::testing::L4t;

namespace {

struct Release {
  L4t l4t;
  const char* name;     // the test's name
  const char* release;  // what read_l4t_release makes of /etc/nv_tegra_release
  const char* devfreq;  // the GPU's /sys/class/devfreq link
};

const Release releases[] = {
    {L4t::r35, "L4T35", "R35.4.1", "/sys/class/devfreq/17000000.ga10b"},
    {L4t::r36, "L4T36", "R36.3.0", "/sys/class/devfreq/17000000.gpu"},
};

class OnRelease : public ::testing::TestWithParam<Release> {
protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '-' : c;
    m_orin = std::make_unique<FakeOrin>("l4t-" + name, GetParam().l4t);
  }
  std::unique_ptr<FakeOrin> m_orin;
  std::unique_ptr<FakeClockKernel> m_kernel;  // after m_orin: it stops before the tree goes
};

// A clock that advances 1 ms per reading: window durations and energies are then exact.
SensorOptions sensor_options() {
  SensorOptions o;
  auto ticks = std::make_shared<std::atomic<long>>(0);
  o.clock = [ticks] { return static_cast<double>(++*ticks) * 1e-3; };
  o.nvml_library = "/nonexistent/libnvidia-ml.so.1";  // no real GPU may leak into these tests
  o.period_probe_s = 0.02;
  return o;
}

PowerMode grid_mode(const FakeOrin& orin, const std::string& spec) {
  auto modes = enumerate_grid(parse_grid_spec(spec), read_frequency_tables(Root(orin.dir())));
  EXPECT_EQ(modes.size(), 1u);
  return modes.at(0);
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.insert(it->path().filename().string());
  return names;
}

}  // namespace

TEST_P(OnRelease, MachineReadersFindTheReleasesNodes) {
  const Root root(m_orin->dir());
  EXPECT_EQ(read_l4t_release(root), GetParam().release);
  EXPECT_EQ(find_gpu_devfreq(root), GetParam().devfreq);
  const auto clocks = read_current_clocks(root);
  EXPECT_EQ(clocks.at("gpu_hz"), 1300500000);
  EXPECT_EQ(clocks.at("emc_hz"), 3199000000);
  EXPECT_EQ(clocks.at("cpu_khz"), 2201600);
  const auto tables = read_frequency_tables(root);
  ASSERT_EQ(tables.gpu_hz.size(), 13u);
  EXPECT_EQ(tables.gpu_hz.front(), 114750000);
  EXPECT_EQ(tables.gpu_hz.back(), 1300500000);
  EXPECT_EQ(tables.emc_hz, (std::vector<std::int64_t>{204000000, 665600000, 2133000000, 3199000000}));
  // The conf's EMC cap resolves to the node this release has (MAX_FREQ or MAX_FREQ_KNEXT).
  const auto conf = load_nvpmodel_conf((m_orin->dir() / "etc/nvpmodel.conf").string());
  EXPECT_EQ(conf.node(root, "EMC", "MAX_FREQ"), m_orin->emc_cap());
}

TEST_P(OnRelease, Ina3221RailsAreReadAndFollowNewReadings) {
  m_orin->put_ina3221();
  auto sensor = make_ina3221_sensor(Root(m_orin->dir()), sensor_options());
  ASSERT_TRUE(sensor->available()) << sensor->unavailable_reason();
  std::vector<std::string> names;
  for (const auto& r : sensor->rails()) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0", "VDDQ_VDD2_1V8AO"}));
  sensor->start();
  WindowEnergy w = sensor->stop();
  ASSERT_GT(w.duration_s, 0.0);
  EXPECT_NEAR(w.rail_J[0] / w.duration_s, 5.0 * 1.2, 1e-9);
  EXPECT_NEAR(w.rail_J[1] / w.duration_s, 5.0 * 0.6, 1e-9);
  EXPECT_NEAR(w.rail_J[2] / w.duration_s, 5.0 * 0.9, 1e-9);
  EXPECT_NEAR(w.rail_J[3] / w.duration_s, 1.8 * 0.5, 1e-9);
  // The total adds the three rails of 1-0040; VDDQ is inside VIN_SYS_5V0.
  EXPECT_EQ(sensor->total_description(), "VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0");
  EXPECT_NEAR(w.average_power_W(), 6.0 + 3.0 + 4.5, 1e-9);
  // New readings, as the INA3221 converts again: 4.9 V at 2.4 A on the GPU rail, 5.1 V at 1.8 A in.
  const std::string a = m_orin->ina3221();
  atomic_write(m_orin->dir() / (a.substr(1) + "/in1_input"), "4900\n");
  atomic_write(m_orin->dir() / (a.substr(1) + "/curr1_input"), "2400\n");
  atomic_write(m_orin->dir() / (a.substr(1) + "/in3_input"), "5100\n");
  atomic_write(m_orin->dir() / (a.substr(1) + "/curr3_input"), "1800\n");
  sensor->start();
  w = sensor->stop();
  EXPECT_NEAR(w.rail_J[0] / w.duration_s, 4.9 * 2.4, 1e-9);
  EXPECT_NEAR(w.rail_J[1] / w.duration_s, 5.0 * 0.6, 1e-9);
  EXPECT_NEAR(w.rail_J[2] / w.duration_s, 5.1 * 1.8, 1e-9);
  EXPECT_NEAR(w.average_power_W(), 4.9 * 2.4 + 5.0 * 0.6 + 5.1 * 1.8, 1e-9);
  EXPECT_TRUE(w.warnings.empty());
}

TEST_P(OnRelease, ClockSamplerReadsTheGpuThroughTheReleasesLink) {
  ClockSamplerOptions o;
  o.period_s = 0.005;
  o.nvml_library = "";
  ClockSampler clocks(Root(m_orin->dir()), o);
  ASSERT_GE(clocks.domains().size(), 2u);
  EXPECT_EQ(clocks.domains()[0].name, "gpu");
  EXPECT_EQ(clocks.domains()[0].source,
            (m_orin->dir() / (std::string(GetParam().devfreq).substr(1) + "/cur_freq")).string());
  EXPECT_DOUBLE_EQ(clocks.domains()[0].start_hz, 1300500000.0);
  EXPECT_EQ(clocks.domains()[1].name, "emc");
  EXPECT_DOUBLE_EQ(clocks.domains()[1].start_hz, 3199000000.0);
}

TEST_P(OnRelease, JetsonControllerAppliesVerifiesAndRestores) {
  m_kernel = std::make_unique<FakeClockKernel>(m_orin->dir(), 0.05);
  JetsonController c(ModeIo{Root(m_orin->dir())}, load_nvpmodel_conf((m_orin->dir() / "etc/nvpmodel.conf").string()));
  EXPECT_EQ(c.gpu_devfreq(), GetParam().devfreq);
  EXPECT_EQ(c.emc_cap_node(), m_orin->emc_cap());
  c.save();
  const auto low = grid_mode(*m_orin, "cores=4;cpu=1036800;gpu=318750000;emc=2133000000");
  const auto since = std::chrono::steady_clock::now();
  c.apply(low);
  // The stand-in kernel moves the clocks 50 ms late: waited for, then in effect.
  const auto wait = c.await_mode(low, since);
  EXPECT_TRUE(wait.diffs.empty());
  EXPECT_GE(wait.waited_s, 0.05);
  EXPECT_TRUE(c.verify(low).empty());
  EXPECT_EQ(m_orin->get(m_orin->gpu() + "/max_freq"), "318750000");
  EXPECT_EQ(m_orin->get(m_orin->gpu() + "/min_freq"), "318750000");
  EXPECT_EQ(m_orin->get(m_orin->gpu() + "/cur_freq"), "318750000");
  EXPECT_EQ(m_orin->get(m_orin->emc_cap()), "2133000000");
  EXPECT_EQ(m_orin->get("/sys/kernel/debug/bpmp/debug/clk/emc/rate"), "2133000000");
  EXPECT_EQ(m_orin->get("/sys/devices/system/cpu/cpu4/online"), "0");
  c.restore();
  EXPECT_EQ(m_orin->get(m_orin->gpu() + "/min_freq"), "114750000");
  EXPECT_EQ(m_orin->get(m_orin->gpu() + "/max_freq"), "1300500000");
  EXPECT_EQ(m_orin->get(m_orin->emc_cap()), "3199000000");
  EXPECT_EQ(m_orin->get("/sys/devices/system/cpu/cpu4/online"), "1");
  // The other release's EMC cap node was never made up.
  const std::string other = fake_orin_emc_cap_of(GetParam().l4t == L4t::r35 ? L4t::r36 : L4t::r35);
  EXPECT_FALSE(fs::exists(m_orin->dir() / other.substr(1)));
}

TEST_P(OnRelease, ModesCommandReportsTheModesAndTheRelease) {
  const auto run = edgeroof::test::run_edgeroof({"modes", "--root", m_orin->dir().string(), "--format", "json"});
  ASSERT_TRUE(edgeroof::test::succeeded(run));
  const auto doc = nlohmann::json::parse(run.out);
  EXPECT_EQ(doc["l4t.release"], GetParam().release);
  ASSERT_EQ(doc["modes"].size(), 4u);
  EXPECT_EQ(
      doc["modes"][1].dump(),
      R"({"cpu_max_khz":1036800,"cpu_online":4,"emc_max_hz":2133000000,"gpu_max_hz":318750000,"id":1,"key":"nvp1-mode-15w","name":"MODE_15W","tpc_pg_mask":248})");
  EXPECT_EQ(doc["modes"][3]["key"], "nvp3-mode-50w");
  // Off a Jetson's release file the key is absent, not made up.
  fs::remove(m_orin->dir() / "etc/nv_tegra_release");
  const auto bare = edgeroof::test::run_edgeroof({"modes", "--root", m_orin->dir().string(), "--format", "json"});
  ASSERT_TRUE(edgeroof::test::succeeded(bare));
  EXPECT_FALSE(nlohmann::json::parse(bare.out).contains("l4t.release"));
}

TEST_P(OnRelease, SweepAppliesEachModeAndRestoresTheTree) {
  m_orin->pin_at_max();
  m_kernel = std::make_unique<FakeClockKernel>(m_orin->dir(), 0.05);
  const fs::path out = m_orin->dir() / "results";
  const std::string bench = std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/fake-bench.sh";
  const auto run = edgeroof::test::run_edgeroof({"sweep", "--modes",
                                                 "grid:cores=2,8;cpu=1036800;gpu=318750000,1300500000;emc=2133000000",
                                                 "--root", m_orin->dir().string(), "--out", out.string(), "--bench",
                                                 bench, "--settle-timeout-s", "0", "--", "--fake-sleep=0"});
  ASSERT_TRUE(edgeroof::test::succeeded(run)) << run.err;
  const std::vector<std::string> keys{
      "c2-cpu1036800-gpu318750000-emc2133000000", "c2-cpu1036800-gpu1300500000-emc2133000000",
      "c8-cpu1036800-gpu318750000-emc2133000000", "c8-cpu1036800-gpu1300500000-emc2133000000"};
  std::set<std::string> expected;
  for (const auto& k : keys) expected.insert(k + ".json");
  EXPECT_EQ(files_in(out), expected);
  // What the bench saw on the release's nodes while each mode was in effect.
  for (const auto& k : keys) {
    const auto j = nlohmann::json::parse(edgeroof::test::read_file(out / (k + ".json")));
    const bool fast_gpu = k.find("gpu1300500000") != std::string::npos;
    EXPECT_EQ(j["context"]["fake.gpu_cur_freq"], fast_gpu ? "1300500000" : "318750000") << k;
    EXPECT_EQ(j["context"]["fake.cpu0_cur_freq"], "1036800") << k;
    EXPECT_EQ(j["context"]["fake.emc_rate"], "2133000000") << k;
    EXPECT_EQ(j["context"]["fake.cpus_online"], k[1] == '2' ? "2" : "8") << k;
  }
  // The tree as found: pinned at the top as jetson_clocks leaves it, all 12 CPUs online.
  for (int cpu = 0; cpu < 12; ++cpu) {
    const std::string c = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
    EXPECT_EQ(m_orin->get(c + "/online"), "1") << cpu;
    EXPECT_EQ(m_orin->get(c + "/cpufreq/scaling_min_freq"), "2201600") << cpu;
    EXPECT_EQ(m_orin->get(c + "/cpufreq/scaling_max_freq"), "2201600") << cpu;
    EXPECT_EQ(m_orin->get(c + "/cpufreq/scaling_cur_freq"), "2201600") << cpu;
  }
  EXPECT_EQ(m_orin->get(m_orin->gpu() + "/min_freq"), "1300500000");
  EXPECT_EQ(m_orin->get(m_orin->gpu() + "/max_freq"), "1300500000");
  EXPECT_EQ(m_orin->get(m_orin->gpu() + "/cur_freq"), "1300500000");
  EXPECT_EQ(m_orin->get(m_orin->emc_cap()), "3199000000");
  EXPECT_EQ(m_orin->get("/sys/kernel/debug/bpmp/debug/clk/emc/rate"), "3199000000");
}

INSTANTIATE_TEST_SUITE_P(Releases, OnRelease, ::testing::ValuesIn(releases),
                         [](const ::testing::TestParamInfo<Release>& info) { return std::string(info.param.name); });
