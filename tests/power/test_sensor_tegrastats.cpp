// tegrastats lines of an Orin AGX (L4T 35, timestamped, mW units) and a Nano (L4T 32, no units),
// and per-rail energy over windows of a log, derived by hand.
#include "edgeroof/power/sensor_tegrastats.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace edgeroof::power;

namespace {

TegrastatsLog load(const std::string& name, double interval_s) {
  std::ifstream in(std::filesystem::path(EDGEROOF_TEST_DATA_DIR) / "power" / "tegrastats" / name);
  EXPECT_TRUE(in.good()) << name;
  return parse_tegrastats(in, interval_s);
}

}  // namespace

TEST(Tegrastats, OrinLineRailsClocksUtilisationTemperatures) {
  const auto log = load("orin-agx.log", 1.0);
  ASSERT_EQ(log.samples.size(), 4u);
  const auto& s = log.samples[1];
  ASSERT_TRUE(s.timestamp_s.has_value());
  // 2026-11-27 07:32:42 UTC: 20784 days after 1970-01-01, plus 7 h 32 min 42 s.
  EXPECT_DOUBLE_EQ(*s.timestamp_s, 20784.0 * 86400 + 7 * 3600 + 32 * 60 + 42);
  EXPECT_EQ(s.rail_mW.size(), 4u);
  EXPECT_DOUBLE_EQ(s.rail_mW.at("VDD_GPU_SOC"), 4000.0);
  EXPECT_DOUBLE_EQ(s.rail_average_mW.at("VDD_GPU_SOC"), 3000.0);
  EXPECT_DOUBLE_EQ(s.rail_mW.at("VDDQ_VDD2_1V8AO"), 600.0);
  EXPECT_EQ(s.freq_mhz.at("EMC"), 3199);
  EXPECT_EQ(s.util_percent.at("EMC"), 21);
  EXPECT_EQ(s.freq_mhz.at("GR3D"), 1300);
  EXPECT_EQ(s.util_percent.at("GR3D"), 99);
  EXPECT_EQ(s.freq_mhz.at("VIC"), 729);
  EXPECT_EQ(s.util_percent.count("VIC"), 0u);
  ASSERT_EQ(s.cpus.size(), 12u);
  EXPECT_EQ(s.cpus[0].util_percent, 45);
  EXPECT_EQ(s.cpus[0].freq_mhz, 2201);
  EXPECT_FALSE(s.cpus[4].util_percent.has_value());  // "off"
  EXPECT_DOUBLE_EQ(s.temperature_C.at("CPU"), 48.5);
  EXPECT_EQ(s.temperature_C.count("CV0"), 0u);  // -256C: no sensor
  EXPECT_EQ(s.ram_used_mb, 2210);
  EXPECT_EQ(s.ram_total_mb, 30536);
  // Not rails: RAM, SWAP carry MB.
  EXPECT_EQ(s.rail_mW.count("RAM"), 0u);
  EXPECT_EQ(s.rail_mW.count("SWAP"), 0u);
}

TEST(Tegrastats, OlderNanoLineWithoutUnits) {
  const auto log = load("nano-l4t32.log", 0.5);
  ASSERT_EQ(log.samples.size(), 2u);
  const auto& s = log.samples[1];
  EXPECT_FALSE(s.timestamp_s.has_value());
  EXPECT_DOUBLE_EQ(s.rail_mW.at("POM_5V_IN"), 3041.0);
  EXPECT_DOUBLE_EQ(s.rail_average_mW.at("POM_5V_CPU"), 823.0);
  EXPECT_EQ(s.freq_mhz.at("GR3D"), 76);
  EXPECT_EQ(s.cpus.size(), 4u);
  EXPECT_EQ(s.rail_mW.count("IRAM"), 0u);
  EXPECT_DOUBLE_EQ(log.time_s[1], 0.5);
}

TEST(Tegrastats, EnergyOverWindowsByTheTrapezoidRule) {
  const auto log = load("orin-agx.log", 1.0);
  // VDD_GPU_SOC 2000, 4000, 4000, 1000 mW at 0, 1, 2, 3 s:
  // whole log (2000+4000)/2 + 4000 + (4000+1000)/2 = 9500 mJ.
  const auto all = tegrastats_energy_J(log, 0.0, 3.0);
  EXPECT_NEAR(all.at("VDD_GPU_SOC"), 9.5, 1e-12);
  EXPECT_NEAR(all.at("VDD_CPU_CV"), 3.2, 1e-12);  // (800+1200)/2 + 1200 + (1200+800)/2 mJ
  // [0.5, 2.5]: (3000+4000)/2 x 0.5 + 4000 + (4000+2500)/2 x 0.5 = 7375 mJ.
  EXPECT_NEAR(tegrastats_energy_J(log, 0.5, 2.5).at("VDD_GPU_SOC"), 7.375, 1e-12);
  // Windows beyond the recording are clipped to it.
  EXPECT_NEAR(tegrastats_energy_J(log, -5.0, 50.0).at("VDD_GPU_SOC"), 9.5, 1e-12);
  EXPECT_TRUE(tegrastats_energy_J(log, 10.0, 20.0).empty());
}

TEST(Tegrastats, GarbageIsSkippedNotFatal) {
  const auto s =
      parse_tegrastats_line("VDD_IN 12x/3mW CPU [ GR3D_FREQ %@ RAM /MB VDD_X -1mW/-1mW tj@C 99-99-9999 25:61:61");
  EXPECT_TRUE(s.rail_mW.empty());
  EXPECT_TRUE(s.freq_mhz.empty());
  EXPECT_FALSE(s.timestamp_s.has_value());
  std::istringstream empty("\n\n");
  EXPECT_TRUE(parse_tegrastats(empty, 1.0).samples.empty());
}

TEST(Tegrastats, CrlfLogReadsLikeTheLfOne) {
  const auto lf = load("orin-agx.log", 1.0);
  const auto crlf = load("orin-agx-crlf.log", 1.0);
  ASSERT_EQ(crlf.samples.size(), 4u);
  EXPECT_TRUE(crlf.skipped.empty());
  for (std::size_t k = 0; k < lf.samples.size(); ++k) {
    // The last rail of a line ends in "\r": it must still be a rail.
    EXPECT_EQ(crlf.samples[k].rail_mW, lf.samples[k].rail_mW) << k;
    EXPECT_EQ(crlf.samples[k].rail_mW.count("VDDQ_VDD2_1V8AO"), 1u);
  }
  EXPECT_EQ(tegrastats_energy_J(crlf, 0.0, 3.0), tegrastats_energy_J(lf, 0.0, 3.0));
}

TEST(Tegrastats, DamagedLinesAreSkippedAndKeepTheirTimeSlots) {
  const auto log = load("orin-agx-damaged.log", 1.0);
  ASSERT_EQ(log.skipped.size(), 2u);
  EXPECT_EQ(log.skipped[0].line, 3u);
  EXPECT_EQ(log.skipped[0].reason, "VDD_GPU_SOC: '4O00mW/3333mW' is not a power reading in mW");
  EXPECT_EQ(log.skipped[1].line, 6u);  // cut short: VIN_SYS_5V0 35 and no VDDQ_VDD2_1V8AO
  EXPECT_EQ(log.skipped[1].reason,
            "rails differ from the log's other lines (missing VDDQ_VDD2_1V8AO, VIN_SYS_5V0): cut short or garbled");
  EXPECT_EQ(log.time_s, (std::vector<double>{0.0, 1.0, 3.0, 4.0}));
  EXPECT_EQ(log.line, (std::vector<std::size_t>{1, 2, 4, 5}));
  // Across the skipped line 3 the energy is integrated between lines 2 and 4, never with a zero:
  // VDD_GPU_SOC (4000 + 1000) / 2 mW over [1, 3] s.
  EXPECT_NEAR(tegrastats_energy_J(log, 1.0, 3.0).at("VDD_GPU_SOC"), 5.0, 1e-12);
  EXPECT_DOUBLE_EQ(tegrastats_gap_s(log, 0.0, 4.0), 2.0);
  EXPECT_DOUBLE_EQ(tegrastats_gap_s(log, 2.5, 10.0), 0.5);
  EXPECT_DOUBLE_EQ(tegrastats_gap_s(log, 3.0, 4.0), 0.0);
}

TEST(Tegrastats, ReadingsThatAreNoPowerAreProblemsNotRails) {
  const auto s = parse_tegrastats_line(
      "VDD_IN -5mW/3mW VDD_SOC 20000000mW/1mW VDD_CPU 12x/3mW POM_5V_IN -7/2 VDD_OK 10000000mW/1mW SWAP 0/1978MB");
  EXPECT_EQ(s.problems,
            (std::vector<std::string>{
                "VDD_IN: '-5mW/3mW' is a negative power", "VDD_SOC: '20000000mW/1mW' is beyond 10 kW",
                "VDD_CPU: '12x/3mW' is not a power reading in mW", "POM_5V_IN: '-7/2' is a negative power"}));
  EXPECT_EQ(s.rail_mW.size(), 1u);  // 10 kW exactly is the limit, still a reading
  EXPECT_DOUBLE_EQ(s.rail_mW.at("VDD_OK"), 1e7);
  EXPECT_EQ(s.rail_mW.count("SWAP"), 0u);  // memory in MB, not a rail and no problem
}

TEST(Tegrastats, UsualRailsAreTheMostCommonSetAndTheLargerOnATie) {
  // A cut first line must not make the good second one look damaged.
  std::istringstream cut("VDD_IN 5000mW/5000mW\nVDD_IN 5000mW/5000mW VDD_SOC 1000mW/1000mW\n");
  const auto log = parse_tegrastats(cut, 1.0);
  ASSERT_EQ(log.skipped.size(), 1u);
  EXPECT_EQ(log.skipped[0].line, 1u);
  ASSERT_EQ(log.samples.size(), 1u);
  EXPECT_EQ(log.time_s[0], 1.0);
  std::istringstream garbage("\xff\xfe binary \x01\r\n\r\nRAM 1/2MB\n");
  const auto bad = parse_tegrastats(garbage, 1.0);
  EXPECT_TRUE(bad.samples.empty());
  ASSERT_EQ(bad.skipped.size(), 2u);
  EXPECT_EQ(bad.skipped[1].line, 3u);  // the empty line 2 is no slot, but it is a line
  EXPECT_EQ(bad.skipped[1].reason, "no power rails: not a tegrastats line, or cut short");
}
