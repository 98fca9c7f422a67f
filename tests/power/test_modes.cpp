// Power modes: the nvpmodel.conf parser on a fixture in the real format and on numbers that do not
// fit, the frequency tables of a fake Orin AGX tree and crafted huge ones, and the custom grid with
// its size limit.
#include "../data/modes/fake_orin.hpp"
#include "edgeroof/power/machine.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/nvpmodel.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <fstream>
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
  EXPECT_EQ(error_of("<POWER_MODEL NAME=A>\n"), "nvpmodel.conf line 1: POWER_MODEL ID needs a number");
  EXPECT_EQ(error_of("<POWER_MODEL ID=x NAME=A>\n"), "nvpmodel.conf line 1: POWER_MODEL ID=x is not a whole number");
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

TEST(Nvpmodel, NumbersAreCheckedWhereTheLineIsKnown) {
  const std::string mode = "<POWER_MODEL ID=1 NAME=A>\n";
  EXPECT_EQ(error_of("<POWER_MODEL ID=4294967296 NAME=A>\n"),
            "nvpmodel.conf line 1: POWER_MODEL ID=4294967296 is out of range (0 to 2147483647)");
  EXPECT_EQ(error_of("<POWER_MODEL ID=99999999999999999999 NAME=A>\n"),
            "nvpmodel.conf line 1: POWER_MODEL ID=99999999999999999999 does not fit in 64 bits");
  EXPECT_EQ(error_of(mode + "<PM_CONFIG DEFAULT=-1>\n"),
            "nvpmodel.conf line 2: PM_CONFIG DEFAULT=-1 is out of range (0 to 2147483647)");
  // Each setting on line 2, and the message that names it.
  const std::vector<std::pair<std::string, std::string>> cases{
      {"GPU MAX_FREQ 99999999999999999999", "does not fit in 64 bits"},
      {"GPU MAX_FREQ -2", "a frequency is -1 (no limit), 0 or at most 100000000000"},
      {"EMC MAX_FREQ 100000000001", "a frequency is -1 (no limit), 0 or at most 100000000000"},
      {"GPU MIN_FREQ 1e9", "is not a whole number"},
      {"CPU_A78_0 MAX_FREQ nan", "is not a whole number"},
      {"CPU_ONLINE CORE_0 2", "a core is 0 (offline) or 1 (online)"},
      {"TPC_POWER_GATING TPC_PG_MASK -1", "a TPC mask is 0 to 4294967295"}};
  for (const auto& [line, why] : cases)
    EXPECT_EQ(error_of(mode + line + "\n"), "nvpmodel.conf line 2: " + line + ": " + why);
  // Settings edgeroof does not read as numbers stay text.
  const auto conf = parse_nvpmodel_conf(mode + "GPU_POWER_CONTROL_ENABLE GPU_PWR_CNTL_EN on\nGPU MAX_FREQ -1\n");
  EXPECT_EQ(conf.modes.at(0).value("GPU", "MAX_FREQ"), -1);
}

TEST(Nvpmodel, CapsAboveIntMaxAreCapsNotNoLimit) {
  const FakeOrin orin("bigcap");
  const auto tables = read_frequency_tables(Root(orin.dir()));
  // 3 GHz is above INT_MAX, and still a cap: the EMC runs at the 2133 MHz entry under it.
  const auto conf = parse_nvpmodel_conf("<POWER_MODEL ID=7 NAME=B>\nEMC MAX_FREQ 3000000000\nGPU MAX_FREQ " +
                                        std::to_string(INT_MAX) + "\n");
  const auto m = to_power_mode(conf.modes.at(0), tables);
  EXPECT_EQ(m.emc_max_hz, 2133000000);
  EXPECT_EQ(m.gpu_max_hz, 1300500000);  // INT_MAX: above the table, its top
}

TEST(Nvpmodel, LoadNamesTheFileAndRefusesHugeOnes) {
  const FakeOrin orin("load");
  const auto path = orin.dir() / "etc/nvpmodel.conf";
  EXPECT_EQ(load_nvpmodel_conf(path.string()).source, path.string());
  orin.put("/etc/nvpmodel.conf", "<POWER_MODEL ID=1 NAME=A>\nCPU_ONLINE CORE_3 -1\n");
  try {
    (void)load_nvpmodel_conf(path.string());
    FAIL() << "CORE_3 -1 is no CPU state";
  } catch (const ModeError& e) {
    EXPECT_EQ(std::string(e.what()),
              path.string() + ": nvpmodel.conf line 2: CPU_ONLINE CORE_3 -1: a core is 0 (offline) or 1 (online)");
  }
  std::filesystem::resize_file(path, 100u << 20);  // 100 MB of NULs, sparse
  try {
    (void)load_nvpmodel_conf(path.string());
    FAIL() << "a 100 MB conf";
  } catch (const ModeError& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": longer than 1048576 bytes, not an nvpmodel.conf");
  }
}

namespace {

std::string grid_error(const std::string& spec, const FrequencyTables& tables) {
  try {
    (void)enumerate_grid(parse_grid_spec(spec), tables);
  } catch (const ModeError& e) {
    return e.what();
  }
  return "";
}

std::string tables_error(const FakeOrin& orin) {
  try {
    (void)read_frequency_tables(Root(orin.dir()));
  } catch (const ModeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Modes, HugeOrCorruptTablesAndCpuListsAreRefusedNamingTheFile) {
  const FakeOrin orin("huge");
  const std::string present = (orin.dir() / "sys/devices/system/cpu/present").string();
  orin.put("/sys/devices/system/cpu/present", "0-2000000000\n");
  EXPECT_EQ(tables_error(orin),
            present + ": CPU list '0-2000000000' names CPU '2000000000'; edgeroof handles 8192 CPUs at most");
  std::filesystem::resize_file(present, 100u << 20);
  EXPECT_EQ(tables_error(orin), present + ": longer than 65536 bytes, not a CPU list");
  orin.put("/sys/devices/system/cpu/present", "0-11\n");
  ASSERT_EQ(tables_error(orin), "");

  // Found through /sys/class/devfreq, and named so.
  const std::string gpu_table = (orin.dir() / "sys/class/devfreq/17000000.ga10b/available_frequencies").string();
  std::filesystem::resize_file(gpu_table, 100u << 20);
  EXPECT_EQ(tables_error(orin), gpu_table + ": longer than 65536 bytes, not a frequency table");
  std::string many;
  for (int i = 1; i <= 2000; ++i) many += std::to_string(i) + " ";
  orin.put(std::string(edgeroof::testing::fake_orin_gpu) + "/available_frequencies", many);
  EXPECT_EQ(tables_error(orin), gpu_table + ": more than 1024 frequencies, not a frequency table");
  orin.put(std::string(edgeroof::testing::fake_orin_gpu) + "/available_frequencies", "114750000 -5 1300500000\n");
  EXPECT_EQ(tables_error(orin), gpu_table + ": '-5' is not a frequency (a whole number from 1 to 100000000000)");
  orin.put(std::string(edgeroof::testing::fake_orin_gpu) + "/available_frequencies", "114750000\n");

  // bpmp's EMC table is in kHz: a rate that would overflow once scaled to Hz is refused in kHz.
  const std::string emc_table = (orin.dir() / "sys/kernel/debug/bpmp/debug/emc/possible_rates").string();
  orin.put("/sys/kernel/debug/bpmp/debug/emc/possible_rates", "204000 9223372036854775\n");
  EXPECT_EQ(tables_error(orin),
            emc_table + ": '9223372036854775' is not a frequency (a whole number from 1 to 100000000)");
}

TEST(Modes, CpuListsAreStrictAndBounded) {
  EXPECT_EQ(parse_cpu_list("0-3,8-11"), (std::vector<int>{0, 1, 2, 3, 8, 9, 10, 11}));
  EXPECT_EQ(parse_cpu_list("5,0-1,1"), (std::vector<int>{0, 1, 5}));  // sorted, no repeats
  EXPECT_EQ(parse_cpu_list("0-8191,0-8191").size(), 8192u);
  EXPECT_EQ(parse_cpu_list(""), std::vector<int>{});
  for (const char* bad : {"0-3x", "+1", " 1", "1-", "-1", "0-8192", "4294967296", "0--3"})
    EXPECT_THROW((void)parse_cpu_list(bad), std::invalid_argument) << bad;
}

TEST(Modes, GridSizeIsCountedBeforeAnyModeIsBuilt) {
  FrequencyTables big;
  big.cpu_count = 12;
  for (std::int64_t f = 1; f <= 1000; ++f) {
    big.cpu_khz.push_back(f * 1000);
    big.gpu_hz.push_back(f * 1000000);
  }
  big.emc_hz = {204000000, 665600000, 2133000000, 3199000000};
  EXPECT_EQ(grid_size(parse_grid_spec("cores=all;cpu=all;gpu=all;emc=all"), big), 6u * 1000u * 1000u * 4u);
  EXPECT_EQ(grid_error("cores=all;cpu=all;gpu=all;emc=all", big),
            "grid would make 24000000 modes (6 core counts x 1000 CPU x 1000 GPU x 4 EMC frequencies); edgeroof "
            "makes 1000000 at most: list fewer values");
  // At the limit exactly: counted, not built here (a million modes take a few hundred MB).
  EXPECT_EQ(grid_size(parse_grid_spec("cores=2;cpu=all;gpu=all;emc=204000000"), big), max_grid_modes);
  // Without tables the listed values count; a product past 64 bits saturates instead of wrapping.
  const auto numbers = [](int n) {
    std::string list;
    for (int i = 1; i <= n; ++i) list += (i > 1 ? "," : "") + std::to_string(i);
    return list;
  };
  const std::string list = numbers(300000);
  const auto huge = parse_grid_spec("cores=1;cpu=" + list + ";gpu=" + list + ";emc=" + list);
  const FrequencyTables none;
  EXPECT_EQ(grid_size(huge, none), 300000ull * 300000ull * 300000ull);
  const std::string past = "cores=" + numbers(1000) + ";cpu=" + list + ";gpu=" + list + ";emc=" + list;
  EXPECT_EQ(grid_size(parse_grid_spec(past), none), UINT64_MAX);  // 2.7e19
  EXPECT_EQ(grid_error(past, none),
            "grid would make more than 2^64 modes (1000 core counts x 300000 CPU x 300000 GPU x 300000 EMC "
            "frequencies); edgeroof makes 1000000 at most: list fewer values");
  // No int holds 4294967298 cores.
  EXPECT_EQ(grid_error("cores=4294967298", none), "grid cores=4294967298: 4294967298 is above 8192");
}
