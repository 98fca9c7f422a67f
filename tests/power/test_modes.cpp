// Power modes: the nvpmodel.conf parser on a fixture in the real format, the frequency tables of a
// fake Orin AGX tree, and the custom grid.
#include "../data/modes/fake_orin.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace edgeroof::power;
using edgeroof::testing::FakeOrin;

namespace {

NvpmodelConf fixture() {
  return load_nvpmodel_conf(std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/nvpmodel_p3701_0000.conf");
}

std::string error_of(const std::string& text) {
  try {
    (void)parse_nvpmodel_conf(text);
  } catch (const ModeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Nvpmodel, ParsesSectionsOfTheRealFormat) {
  const auto conf = fixture();
  ASSERT_EQ(conf.modes.size(), 4u);
  EXPECT_EQ(conf.default_id, 2);
  EXPECT_EQ(conf.modes[0].name, "MAXN");
  EXPECT_EQ(conf.modes[1].name, "MODE_15W");
  EXPECT_EQ(conf.modes[2].name, "MODE_30W");  // header written without spaces: <POWER_MODEL ID=2 NAME=MODE_30W>
  EXPECT_EQ(conf.modes[3].id, 3);             // and with doubled ones
  EXPECT_EQ(conf.modes[1].value("GPU", "MAX_FREQ"), 408000000);
  EXPECT_EQ(conf.modes[0].value("GPU", "MAX_FREQ"), -1);
  EXPECT_EQ(conf.modes[0].value("EMC", "MAX_FREQ"), 0);
  EXPECT_EQ(conf.modes[1].value("TPC_POWER_GATING", "TPC_PG_MASK"), 248);
  EXPECT_FALSE(conf.modes[0].value("GPU_POWER_CONTROL_ENABLE", "GPU_PWR_CNTL_EN").has_value());  // "on"
  const auto* gpu = conf.find_param("GPU");
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(gpu->type, "CLOCK");
  EXPECT_EQ(gpu->paths.at("MAX_FREQ_KNEXT"), "/sys/devices/platform/17000000.gpu/devfreq_dev/max_freq");
  EXPECT_EQ(conf.find_param("CPU_ONLINE")->paths.at("CORE_11"), "/sys/devices/system/cpu/cpu11/online");
  EXPECT_EQ(conf.find_param("TPC_POWER_GATING")->type, "FILE");
}

TEST(Nvpmodel, KnextTwinIsUsedWhereItExists) {
  const FakeOrin orin("knext");
  const Root root(orin.dir());
  const auto conf = fixture();
  EXPECT_EQ(conf.node(root, "GPU", "MAX_FREQ"), "/sys/devices/17000000.ga10b/devfreq/17000000.ga10b/max_freq");
  orin.put("/sys/kernel/nvpmodel_clk_cap/emc", "0\n");
  EXPECT_EQ(conf.node(root, "EMC", "MAX_FREQ"), "/sys/kernel/nvpmodel_clk_cap/emc");
  EXPECT_FALSE(conf.node(root, "NOPE", "MAX_FREQ").has_value());
}

TEST(Nvpmodel, ModesResolveCapsAgainstTheTables) {
  const FakeOrin orin("resolve");
  const auto tables = read_frequency_tables(Root(orin.dir()));
  const auto conf = fixture();
  // MAXN: -1 and EMC 0 are the table maxima; 12 cores.
  const auto maxn = to_power_mode(conf.modes[0], tables);
  EXPECT_EQ(maxn.key, "nvp0-maxn");
  EXPECT_EQ(maxn.id, 0);
  EXPECT_EQ(maxn.cpu_online, 12);
  EXPECT_EQ(maxn.cpu_max_khz, 2201600);
  EXPECT_EQ(maxn.cpu_min_khz, 268800);  // MIN_FREQ 0 = table minimum
  EXPECT_EQ(maxn.gpu_max_hz, 1300500000);
  EXPECT_EQ(maxn.gpu_min_hz, 114750000);
  EXPECT_EQ(maxn.emc_max_hz, 3199000000);
  EXPECT_EQ(maxn.tpc_pg_mask, 0);
  // MODE_15W: 4 cores; caps below table entries run at the entry under them:
  // CPU 1113600 -> 1036800, GPU 408 MHz -> 318.75 MHz; EMC 2133 MHz is an entry.
  const auto m15 = to_power_mode(conf.modes[1], tables);
  EXPECT_EQ(m15.key, "nvp1-mode-15w");
  EXPECT_EQ(m15.cpu_online, 4);
  EXPECT_EQ(m15.cpu_max_khz, 1036800);
  EXPECT_EQ(m15.gpu_max_hz, 318750000);
  EXPECT_EQ(m15.emc_max_hz, 2133000000);
  EXPECT_EQ(m15.tpc_pg_mask, 248);
  const auto m30 = to_power_mode(conf.modes[2], tables);
  EXPECT_EQ(m30.cpu_online, 8);
  EXPECT_EQ(m30.cpu_max_khz, 1651200);
  EXPECT_EQ(m30.gpu_max_hz, 522750000);
  const auto m50 = to_power_mode(conf.modes[3], tables);
  EXPECT_EQ(m50.cpu_max_khz, 1497600);  // an exact entry stays
  EXPECT_EQ(m50.gpu_max_hz, 726750000);
  // Without tables the caps are unknown, never guessed.
  const auto bare = to_power_mode(conf.modes[0], FrequencyTables{});
  EXPECT_FALSE(bare.gpu_max_hz.has_value());
  EXPECT_EQ(bare.cpu_online, 12);
}

TEST(Nvpmodel, MalformedInputNamesTheLine) {
  EXPECT_NE(error_of("# c\n< POWER_MODEL ID=1 NAME=A\nGPU MAX_FREQ 1\n").find("line 2"), std::string::npos);
  EXPECT_NE(error_of("GPU MAX_FREQ 1\n").find("before the first section"), std::string::npos);
  EXPECT_NE(error_of("<POWER_MODEL NAME=A>\n").find("needs ID"), std::string::npos);
  EXPECT_NE(error_of("<POWER_MODEL ID=x NAME=A>\n").find("needs ID"), std::string::npos);
  EXPECT_NE(error_of("<POWER_MODEL ID=1 NAME=A>\nGPU MAX_FREQ\n").find("line 2"), std::string::npos);
  EXPECT_NE(error_of("<POWER_MODEL ID=1 NAME=A>\n<POWER_MODEL ID=1 NAME=B>\n").find("twice"), std::string::npos);
  EXPECT_NE(error_of("<POWER_MODEL ID=1 NAME=A>\n<PM_CONFIG DEFAULT=4>\n").find("names no POWER_MODEL"),
            std::string::npos);
  EXPECT_NE(error_of("< PARAM TYPE=FILE NAME=X >\nA B C\n").find("ARG_NAME PATH"), std::string::npos);
  // Unknown sections are skipped, CRLF line ends accepted.
  const auto conf =
      parse_nvpmodel_conf("< FAN_CONFIG x >\nwhatever goes here\r\n<POWER_MODEL ID=5 NAME=Q>\r\nGPU MAX_FREQ 7\r\n");
  ASSERT_EQ(conf.modes.size(), 1u);
  EXPECT_EQ(conf.modes[0].value("GPU", "MAX_FREQ"), 7);
}

TEST(Modes, FrequencyTablesOfTheFakeOrin) {
  const FakeOrin orin("tables");
  const auto t = read_frequency_tables(Root(orin.dir()));
  EXPECT_EQ(t.cpu_count, 12);
  ASSERT_EQ(t.cpu_khz.size(), 14u);
  EXPECT_EQ(t.cpu_khz.front(), 268800);
  EXPECT_EQ(t.cpu_khz.back(), 2201600);
  ASSERT_EQ(t.gpu_hz.size(), 13u);
  EXPECT_EQ(t.gpu_hz[2], 318750000);
  EXPECT_EQ(t.emc_hz, (std::vector<std::int64_t>{204000000, 665600000, 2133000000, 3199000000}));
  EXPECT_EQ(t.core_counts(), (std::vector<int>{2, 4, 6, 8, 10, 12}));
}

TEST(Modes, FullGridOfOrinAgxHas4368DistinctModes) {
  const FakeOrin orin("grid");
  const auto modes =
      enumerate_grid(parse_grid_spec("cores=all;cpu=all;gpu=all;emc=all"), read_frequency_tables(Root(orin.dir())));
  ASSERT_EQ(modes.size(), 4368u);  // 6 x 14 x 13 x 4
  std::set<std::string> keys;
  for (const auto& m : modes) keys.insert(m.key);
  EXPECT_EQ(keys.size(), 4368u);
  EXPECT_EQ(modes.front().key, "c2-cpu268800-gpu114750000-emc204000000");
  EXPECT_EQ(modes.back().key, "c12-cpu2201600-gpu1300500000-emc3199000000");
  // Order: cores, CPU, GPU, EMC; mode 4*13*14 + 4*13 + 4 + 1 is c4, second CPU, second GPU, second EMC.
  const auto& m = modes[4 * 13 * 14 + 4 * 13 + 4 + 1];
  EXPECT_EQ(m.key, "c4-cpu422400-gpu216750000-emc665600000");
  EXPECT_EQ(m.cpu_online, 4);
  EXPECT_TRUE(m.cpu_pinned());
  EXPECT_TRUE(m.gpu_pinned());
  EXPECT_EQ(m.gpu_min_hz, 216750000);
  EXPECT_EQ(m.emc_max_hz, 665600000);
  EXPECT_EQ(m.tpc_pg_mask, 0);
  EXPECT_FALSE(m.id.has_value());
}

TEST(Modes, GridSpecListsAndErrors) {
  const FakeOrin orin("spec");
  const auto tables = read_frequency_tables(Root(orin.dir()));
  // An axis left out means all; lists are sorted and deduplicated; odd core counts are allowed.
  const auto modes = enumerate_grid(parse_grid_spec(" cores=3,3 ; gpu=1300500000,114750000;cpu=2201600"), tables);
  ASSERT_EQ(modes.size(), 1u * 1u * 2u * 4u);
  EXPECT_EQ(modes[0].key, "c3-cpu2201600-gpu114750000-emc204000000");
  EXPECT_THROW((void)parse_grid_spec("cores=2;cores=4"), ModeError);
  EXPECT_THROW((void)parse_grid_spec("dla=all"), ModeError);
  EXPECT_THROW((void)parse_grid_spec("cpu=fast"), ModeError);
  EXPECT_THROW((void)parse_grid_spec("gpu="), ModeError);
  EXPECT_THROW((void)parse_grid_spec("gpu"), ModeError);
  try {
    (void)enumerate_grid(parse_grid_spec("gpu=408000000"), tables);
    FAIL() << "408 MHz is not a GPU table entry";
  } catch (const ModeError& e) {
    EXPECT_NE(std::string(e.what()).find("not in the table"), std::string::npos);
  }
  EXPECT_THROW((void)enumerate_grid(parse_grid_spec("cores=14"), tables), ModeError);
  // No EMC table (debugfs needs root): emc=all cannot be enumerated, a list can, and an axis left
  // out is left as it is.
  FrequencyTables no_emc = tables;
  no_emc.emc_hz.clear();
  EXPECT_THROW((void)enumerate_grid(parse_grid_spec("cores=2;cpu=268800;gpu=114750000;emc=all"), no_emc), ModeError);
  EXPECT_EQ(enumerate_grid(parse_grid_spec("cores=2;cpu=268800;gpu=114750000;emc=5"), no_emc).size(), 1u);
  const auto unset = enumerate_grid(parse_grid_spec("cores=2;cpu=268800;gpu=114750000"), no_emc);
  ASSERT_EQ(unset.size(), 1u);
  EXPECT_EQ(unset[0].key, "c2-cpu268800-gpu114750000");
  EXPECT_FALSE(unset[0].emc_max_hz.has_value());
}

TEST(Modes, GridOfACpuOnlyMachineLeavesTheGpuAlone) {
  FrequencyTables cpu_only;
  cpu_only.cpu_count = 4;
  cpu_only.cpu_khz = {800000, 1600000, 3000000};
  const auto modes = enumerate_grid(parse_grid_spec("cpu=all"), cpu_only);
  ASSERT_EQ(modes.size(), 2u * 3u);  // cores 2, 4
  EXPECT_EQ(modes[5].key, "c4-cpu3000000");
  EXPECT_FALSE(modes[5].gpu_max_hz.has_value());
  EXPECT_FALSE(modes[5].tpc_pg_mask.has_value());
  EXPECT_THROW((void)enumerate_grid(parse_grid_spec("gpu=all"), cpu_only), ModeError);
}

TEST(Modes, KeysAreStable) {
  EXPECT_EQ(grid_key(12, 2201600, 1300500000, 3199000000), "c12-cpu2201600-gpu1300500000-emc3199000000");
  EXPECT_EQ(nvpmodel_key(3, "MODE_50W"), "nvp3-mode-50w");
  EXPECT_EQ(frequency_under_cap({10, 20, 30}, 25), 20);
  EXPECT_EQ(frequency_under_cap({10, 20, 30}, 5), 10);
  EXPECT_EQ(frequency_under_cap({10, 20, 30}, 30), 30);
}
