// The nvpmodel.conf writer: the CPU clusters a conf declares (its PARAM paths name the first core
// of each cpufreq policy), a POWER_MODEL section for the Orin AGX fixture exactly as before and
// for a board with other cluster names and sizes, read back by the parser, and the confs that do
// not say which cores a cluster sets, refused with one line; `edgeroof tune` writing it for the
// conf it is given.
#include "edgeroof/power/nvpmodel.hpp"
#include "edgeroof/power/nvpmodel_writer.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

using namespace edgeroof::power;

namespace {

NvpmodelConf fixture(const std::string& name) {
  return load_nvpmodel_conf(std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/" + name);
}

PowerMode pinned(const std::string& key, int online, std::int64_t cpu_khz) {
  PowerMode m;
  m.key = key;
  m.cpu_online = online;
  m.cpu_max_khz = cpu_khz;
  m.gpu_max_hz = 612000000;
  m.emc_max_hz = 2133000000;
  return m;
}

std::string layout_error(const std::string& text, int cpu_count) {
  auto conf = parse_nvpmodel_conf(text);
  conf.source = "board.conf";
  try {
    (void)cpu_layout(conf, cpu_count);
  } catch (const ModeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(NvpmodelWriter, OrinAgxConfGivesItsClustersOfFour) {
  const auto layout = cpu_layout(fixture("nvpmodel_p3701_0000.conf"), 12);
  ASSERT_EQ(layout.clusters.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(layout.clusters[i].param, "CPU_A78_" + std::to_string(i));
    EXPECT_EQ(layout.clusters[i].first_core, 4 * i);
    EXPECT_EQ(layout.clusters[i].cores, 4);
  }
  // The section for the Orin AGX conf is the one written before clusters came from the conf.
  const std::string expected =
      "< POWER_MODEL ID=9 NAME=EDGEROOF_C8_CPU1728000 >\n"
      "CPU_ONLINE CORE_0 1\nCPU_ONLINE CORE_1 1\nCPU_ONLINE CORE_2 1\nCPU_ONLINE CORE_3 1\n"
      "CPU_ONLINE CORE_4 1\nCPU_ONLINE CORE_5 1\nCPU_ONLINE CORE_6 1\nCPU_ONLINE CORE_7 1\n"
      "CPU_ONLINE CORE_8 0\nCPU_ONLINE CORE_9 0\nCPU_ONLINE CORE_10 0\nCPU_ONLINE CORE_11 0\n"
      "CPU_A78_0 MIN_FREQ 1728000\nCPU_A78_0 MAX_FREQ 1728000\nCPU_A78_1 MIN_FREQ 1728000\n"
      "CPU_A78_1 MAX_FREQ 1728000\n"
      "GPU MIN_FREQ 612000000\nGPU MAX_FREQ 612000000\nEMC MAX_FREQ 2133000000\n";
  const auto mode = pinned("c8-cpu1728000", 8, 1728000);
  EXPECT_EQ(nvpmodel_stanza(mode, 9, layout), expected);
  EXPECT_EQ(nvpmodel_stanza(mode, 9, orin_agx_cpu_layout(12)), expected);  // the layout assumed without a conf
}

TEST(NvpmodelWriter, OtherClusterNamesAndSizesComeFromTheConf) {
  const auto conf = fixture("nvpmodel_xavier_like.conf");
  const auto layout = cpu_layout(conf, 8);
  ASSERT_EQ(layout.clusters.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(layout.clusters[i].param, "CPU_CARMEL_" + std::to_string(i));  // by core, not by file order
    EXPECT_EQ(layout.clusters[i].first_core, 2 * i);
    EXPECT_EQ(layout.clusters[i].cores, 2);
  }
  // 5 cores online: clusters 0-2 have cores online, cluster 3 (cpu6-7) is off.
  PowerMode mode = pinned("c5-cpu1420800", 5, 1420800);
  mode.tpc_pg_mask = 0;
  const std::string stanza = nvpmodel_stanza(mode, 7, layout);
  EXPECT_EQ(stanza,
            "< POWER_MODEL ID=7 NAME=EDGEROOF_C5_CPU1420800 >\n"
            "CPU_ONLINE CORE_0 1\nCPU_ONLINE CORE_1 1\nCPU_ONLINE CORE_2 1\nCPU_ONLINE CORE_3 1\n"
            "CPU_ONLINE CORE_4 1\nCPU_ONLINE CORE_5 0\nCPU_ONLINE CORE_6 0\nCPU_ONLINE CORE_7 0\n"
            "CPU_CARMEL_0 MIN_FREQ 1420800\nCPU_CARMEL_0 MAX_FREQ 1420800\n"
            "CPU_CARMEL_1 MIN_FREQ 1420800\nCPU_CARMEL_1 MAX_FREQ 1420800\n"
            "CPU_CARMEL_2 MIN_FREQ 1420800\nCPU_CARMEL_2 MAX_FREQ 1420800\n"
            "GPU MIN_FREQ 612000000\nGPU MAX_FREQ 612000000\nTPC_POWER_GATING TPC_PG_MASK 0\n"
            "EMC MAX_FREQ 2133000000\n");
  EXPECT_EQ(stanza.find("CPU_A78"), std::string::npos);
  // The section reads back as the mode.
  const auto back = parse_nvpmodel_conf(stanza);
  ASSERT_NE(back.find_mode(7), nullptr);
  EXPECT_EQ(back.find_mode(7)->value("CPU_CARMEL_2", "MAX_FREQ"), 1420800);
  EXPECT_FALSE(back.find_mode(7)->value("CPU_CARMEL_3", "MAX_FREQ").has_value());
  EXPECT_EQ(back.find_mode(7)->value("CPU_ONLINE", "CORE_5"), 0);
}

TEST(NvpmodelWriter, AShorterLastClusterEndsAtTheBoardsCores) {
  // Laid out as an Orin Nano: cpu0-3 and cpu4-5, the second cluster named by its policy node only.
  const auto conf = parse_nvpmodel_conf(
      "< PARAM TYPE=CLOCK NAME=CPU_A78_0 >\nMAX_FREQ /sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq\n"
      "< PARAM TYPE=CLOCK NAME=CPU_A78_1 >\nMAX_FREQ_KNEXT /sys/devices/system/cpu/cpufreq/policy4/scaling_max_freq\n");
  const auto layout = cpu_layout(conf, 6);
  ASSERT_EQ(layout.clusters.size(), 2u);
  EXPECT_EQ(layout.clusters[1].first_core, 4);
  EXPECT_EQ(layout.clusters[1].cores, 2);
  PowerMode cpu_only;
  cpu_only.key = "c6";
  cpu_only.cpu_max_khz = 729600;  // no cores given: every cluster
  EXPECT_EQ(nvpmodel_stanza(cpu_only, 3, layout),
            "< POWER_MODEL ID=3 NAME=EDGEROOF_C6 >\nCPU_A78_0 MIN_FREQ 729600\nCPU_A78_0 MAX_FREQ 729600\n"
            "CPU_A78_1 MIN_FREQ 729600\nCPU_A78_1 MAX_FREQ 729600\n");
}

TEST(NvpmodelWriter, ConfsThatDoNotSayWhichCoresAClusterSetsAreRefused) {
  const std::string cpu0 =
      "< PARAM TYPE=CLOCK NAME=CPU_A >\nMAX_FREQ /sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq\n";
  EXPECT_EQ(layout_error("< PARAM TYPE=CLOCK NAME=CPU_X >\nMAX_FREQ /sys/kernel/cpu_cap/max\n", 4),
            "board.conf: PARAM CPU_X names no CPU in its paths (/sys/devices/system/cpu/cpu<N>/cpufreq/... or "
            ".../cpufreq/policy<N>/...): cannot tell which cores it sets");
  EXPECT_EQ(layout_error("< PARAM TYPE=CLOCK NAME=CPU_X >\n"
                         "MAX_FREQ /sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq\n"
                         "MIN_FREQ /sys/devices/system/cpu/cpu4/cpufreq/scaling_min_freq\n",
                         8),
            "board.conf: PARAM CPU_X names both cpu0 and cpu4: cannot tell which cores it sets");
  EXPECT_EQ(layout_error(cpu0 + "< PARAM TYPE=CLOCK NAME=CPU_B >\n"
                                "MAX_FREQ /sys/devices/system/cpu/cpufreq/policy0/scaling_max_freq\n",
                         8),
            "board.conf: PARAMs CPU_A and CPU_B are both on cpu0: cannot tell which cores each sets");
  EXPECT_EQ(layout_error("< PARAM TYPE=CLOCK NAME=CPU_B >\n"
                         "MAX_FREQ /sys/devices/system/cpu/cpu2/cpufreq/scaling_max_freq\n",
                         8),
            "board.conf: the first CPU cluster PARAM, CPU_B, is on cpu2: no PARAM sets cpu0");
  EXPECT_EQ(layout_error(cpu0 + "< PARAM TYPE=CLOCK NAME=CPU_B >\n"
                                "MAX_FREQ /sys/devices/system/cpu/cpu8/cpufreq/scaling_max_freq\n",
                         8),
            "board.conf: PARAM CPU_B is on cpu8, beyond the board's 8 cores");
  // No cluster PARAM at all: a section without CPU frequencies can still be written, one with
  // them cannot.
  auto gpu_only = parse_nvpmodel_conf("< PARAM TYPE=CLOCK NAME=GPU >\nMAX_FREQ /sys/x\n");
  gpu_only.source = "board.conf";
  const auto layout = cpu_layout(gpu_only, 4);
  EXPECT_TRUE(layout.clusters.empty());
  PowerMode gpu;
  gpu.key = "g";
  gpu.gpu_max_hz = 114750000;
  EXPECT_EQ(nvpmodel_stanza(gpu, 1, layout),
            "< POWER_MODEL ID=1 NAME=EDGEROOF_G >\nGPU MIN_FREQ 114750000\nGPU MAX_FREQ 114750000\n");
  gpu.cpu_max_khz = 729600;
  try {
    (void)nvpmodel_stanza(gpu, 1, layout);
    FAIL() << "no error";
  } catch (const ModeError& e) {
    EXPECT_STREQ(e.what(),
                 "board.conf has no CPU cluster PARAM (CPU_* with a cpufreq path) to set the CPU frequency of mode g "
                 "with");
  }
}

TEST(NvpmodelWriter, ImpossibleBoardsAndIdsAreRefused) {
  const auto m = pinned("c16", 16, 729600);
  try {
    (void)nvpmodel_stanza(m, 9, orin_agx_cpu_layout(12));
    FAIL() << "no error";
  } catch (const ModeError& e) {
    EXPECT_STREQ(e.what(), "mode c16 had 16 CPUs online, more than the board's 12 cores");
  }
  try {
    (void)nvpmodel_stanza(m, 9, orin_agx_cpu_layout(max_board_cpus + 1));
    FAIL() << "no error";
  } catch (const ModeError& e) {
    EXPECT_STREQ(e.what(), "a board of 1025 CPU cores is not plausible (1 to 1024)");
  }
  EXPECT_TRUE(orin_agx_cpu_layout(max_board_cpus + 1).clusters.empty());
  EXPECT_THROW((void)nvpmodel_stanza(m, 9, orin_agx_cpu_layout(0)), ModeError);
  EXPECT_THROW((void)nvpmodel_stanza(m, -1, orin_agx_cpu_layout(16)), ModeError);
  EXPECT_EQ(nvpmodel_command("edgeroof.conf", 9), "sudo nvpmodel -f edgeroof.conf -m 9");
}

namespace {

const std::string modes_dir = std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/";
const std::string toy_workload = std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/toy_workload.json";

// The toy rooflines with MAXN measured on 6 cores, so that it fits an 8-core board.
std::string six_core_rooflines(const edgeroof::test::ScratchDir& dir) {
  std::string text = edgeroof::test::read_file(std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/toy_rooflines.json");
  const std::string twelve = "\"cpu_online\": 12";
  const auto at = text.find(twelve);
  if (at == std::string::npos) return "";
  text.replace(at, twelve.size(), "\"cpu_online\": 6");
  return dir.write("rooflines.json", text).string();
}

}  // namespace

TEST(NvpmodelWriter, TuneWritesTheSectionWithTheClustersOfTheConfGiven) {
  const edgeroof::test::ScratchDir dir("tune_clusters");
  const auto rooflines = six_core_rooflines(dir);
  ASSERT_FALSE(rooflines.empty());
  const auto run =
      edgeroof::test::run_edgeroof({"tune", "--workload", toy_workload, "--rooflines", rooflines, "--nvpmodel-conf",
                                    modes_dir + "nvpmodel_xavier_like.conf", "--format", "json"});
  ASSERT_TRUE(edgeroof::test::succeeded(run));
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["nvpmodel"]["id"], 2);
  EXPECT_EQ(j["nvpmodel"]["cpu_count"], 8);
  const std::string stanza = j["nvpmodel"]["stanza"];
  EXPECT_EQ(stanza.substr(0, stanza.find("GPU ")),
            "< POWER_MODEL ID=2 NAME=EDGEROOF_NVP0_MAXN >\n"
            "CPU_ONLINE CORE_0 1\nCPU_ONLINE CORE_1 1\nCPU_ONLINE CORE_2 1\nCPU_ONLINE CORE_3 1\n"
            "CPU_ONLINE CORE_4 1\nCPU_ONLINE CORE_5 1\nCPU_ONLINE CORE_6 0\nCPU_ONLINE CORE_7 0\n"
            "CPU_CARMEL_0 MIN_FREQ 2201600\nCPU_CARMEL_0 MAX_FREQ 2201600\n"
            "CPU_CARMEL_1 MIN_FREQ 2201600\nCPU_CARMEL_1 MAX_FREQ 2201600\n"
            "CPU_CARMEL_2 MIN_FREQ 2201600\nCPU_CARMEL_2 MAX_FREQ 2201600\n");
  // A conf that does not say which cores its cluster sets: one line, exit status 1, no section.
  const auto bad = dir.write("bad.conf",
                             "< PARAM TYPE=FILE NAME=CPU_ONLINE >\nCORE_0 /sys/devices/system/cpu/cpu0/online\n"
                             "< PARAM TYPE=CLOCK NAME=CPU_BIG >\nMAX_FREQ /sys/kernel/cpu_cap/max\n");
  EXPECT_TRUE(edgeroof::test::fails_with(
      edgeroof::test::run_edgeroof(
          {"tune", "--workload", toy_workload, "--rooflines", rooflines, "--nvpmodel-conf", bad.string()}),
      1,
      "edgeroof tune: error: " + bad.string() +
          ": PARAM CPU_BIG names no CPU in its paths (/sys/devices/system/cpu/cpu<N>/cpufreq/... or "
          ".../cpufreq/policy<N>/...): cannot tell which cores it sets"));
}
