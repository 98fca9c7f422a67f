#include "edgeroof/power/machine.hpp"
#include "edgeroof/power/sysfs.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace edgeroof::power;

namespace {

class FakeRoot : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("edgeroof-sysfs-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  void put(const std::string& machine_path, const std::string& content) {
    const fs::path p = m_dir / machine_path.substr(1);
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  fs::path m_dir;
};

}  // namespace

TEST_F(FakeRoot, ReadsUnderTheRootAndStripsNewline) {
  put("/sys/devices/system/cpu/online", "0-3,8-11\n");
  Root root(m_dir);
  EXPECT_EQ(root.read("/sys/devices/system/cpu/online"), "0-3,8-11");
  EXPECT_EQ(read_online_cpu_count(root), 8);
}

TEST_F(FakeRoot, MissingFileNamesPathAndReason) {
  Root root(m_dir);
  try {
    (void)root.read("/sys/class/hwmon/hwmon0/in1_input");
    FAIL() << "no exception";
  } catch (const SysfsError& e) {
    EXPECT_NE(std::string(e.what()).find("hwmon0/in1_input"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
  }
  EXPECT_FALSE(root.try_read_int("/nope").has_value());
}

TEST_F(FakeRoot, ReadingADirectoryIsAnError) {
  put("/sys/x/file", "1");
  Root root(m_dir);
  EXPECT_THROW((void)root.read("/sys/x"), SysfsError);
}

TEST_F(FakeRoot, IntegersParseOrAreAbsent) {
  put("/a", "1300500000\n");
  put("/b", "abc");
  put("/c", "");
  Root root(m_dir);
  EXPECT_EQ(root.try_read_int("/a"), 1300500000);
  EXPECT_FALSE(root.try_read_int("/b").has_value());
  EXPECT_FALSE(root.try_read_int("/c").has_value());
}

TEST_F(FakeRoot, WriteNeverCreatesNodes) {
  put("/sys/devices/system/cpu/cpu4/online", "1");
  Root root(m_dir);
  root.write("/sys/devices/system/cpu/cpu4/online", "0");
  EXPECT_EQ(root.read("/sys/devices/system/cpu/cpu4/online"), "0");
  EXPECT_THROW(root.write("/sys/devices/system/cpu/cpu5/online", "0"), SysfsError);
  EXPECT_FALSE(root.exists("/sys/devices/system/cpu/cpu5/online"));
}

TEST_F(FakeRoot, ListsSorted) {
  put("/sys/class/devfreq/17000000.ga10b/cur_freq", "1300500000");
  put("/sys/class/devfreq/15340000.vic/cur_freq", "1");
  Root root(m_dir);
  EXPECT_EQ(root.list("/sys/class/devfreq"), (std::vector<std::string>{"15340000.vic", "17000000.ga10b"}));
  EXPECT_EQ(find_gpu_devfreq(root), "/sys/class/devfreq/17000000.ga10b");
  EXPECT_TRUE(root.list("/missing").empty());
}

TEST_F(FakeRoot, CurrentClocksFromJetsonLayout) {
  put("/sys/devices/system/cpu/online", "0-1");
  put("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2201600");
  put("/sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "1113600");
  put("/sys/class/devfreq/17000000.ga10b/cur_freq", "1300500000");
  Root root(m_dir);
  const auto clocks = read_current_clocks(root);
  EXPECT_EQ(clocks.at("cpu_khz"), (2201600 + 1113600) / 2);
  EXPECT_EQ(clocks.at("gpu_hz"), 1300500000);
  EXPECT_EQ(clocks.count("emc_hz"), 0u);  // debugfs not readable: absent, not guessed
}

TEST_F(FakeRoot, L4tReleaseFromNvTegraRelease) {
  Root root(m_dir);
  EXPECT_FALSE(read_l4t_release(root).has_value());
  put("/etc/nv_tegra_release",
      "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC "
      "2023\n");
  EXPECT_EQ(read_l4t_release(root), "R35.4.1");
}

TEST(CpuList, ParsesRangesAndRejectsGarbage) {
  EXPECT_EQ(parse_cpu_list("0-2,5"), (std::vector<int>{0, 1, 2, 5}));
  EXPECT_EQ(parse_cpu_list("7"), (std::vector<int>{7}));
  EXPECT_THROW((void)parse_cpu_list("3-1"), std::invalid_argument);
  EXPECT_THROW((void)parse_cpu_list("a"), std::invalid_argument);
}

TEST_F(FakeRoot, AtomicWriteReplacesWholeFile) {
  const fs::path p = m_dir / "out.json";
  atomic_write(p, "{\"a\": 1}\n");
  atomic_write(p, "{}\n");
  std::ifstream in(p);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "{}\n");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(m_dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);  // no temporary left behind
  EXPECT_THROW(atomic_write(m_dir / "no-such-dir" / "x.json", "{}"), SysfsError);
}

TEST(ParseInt64, WholeTextOrNothing) {
  EXPECT_EQ(parse_int64("1300500000\n"), 1300500000);
  EXPECT_EQ(parse_int64("-1"), -1);
  EXPECT_EQ(parse_int64("+7 "), 7);
  EXPECT_FALSE(parse_int64("").has_value());
  EXPECT_FALSE(parse_int64(" 5").has_value());
  EXPECT_FALSE(parse_int64("12 mV").has_value());
  EXPECT_FALSE(parse_int64("+-3").has_value());
  EXPECT_FALSE(parse_int64("99999999999999999999").has_value());
}

TEST_F(FakeRoot, OpenNodeReadsTheCurrentValueEveryTime) {
  put("/sys/class/devfreq/gpu/cur_freq", "1300500000\n");
  Root root(m_dir);
  OpenNode node(root, "/sys/class/devfreq/gpu/cur_freq");
  EXPECT_EQ(node.path(), (m_dir / "sys/class/devfreq/gpu/cur_freq").string());
  std::int64_t v = 0;
  ASSERT_EQ(node.read_int(v), OpenNode::Status::ok);
  EXPECT_EQ(v, 1300500000);
  // Rewritten in place (as sysfs changes a value) and replaced by rename (as a fake tree may be).
  put("/sys/class/devfreq/gpu/cur_freq", "624750000\n");
  ASSERT_EQ(node.read_int(v), OpenNode::Status::ok);
  EXPECT_EQ(v, 624750000);
  atomic_write(m_dir / "sys/class/devfreq/gpu/cur_freq", "114750000\n");
  ASSERT_EQ(node.read_int(v), OpenNode::Status::ok);
  EXPECT_EQ(v, 114750000);
}

TEST_F(FakeRoot, OpenNodeTellsGarbageFromAVanishedNode) {
  put("/n", "12 MHz\n");
  Root root(m_dir);
  OpenNode node(root, "/n");
  std::int64_t v = 7;
  EXPECT_EQ(node.read_int(v), OpenNode::Status::not_a_number);
  EXPECT_EQ(node.last_text(), "12 MHz\n");
  EXPECT_EQ(v, 7);  // untouched
  put("/n", std::string(100, '9'));
  EXPECT_EQ(node.read_int(v), OpenNode::Status::not_a_number);  // longer than any 64-bit integer
  fs::remove(m_dir / "n");
  EXPECT_EQ(node.read_int(v), OpenNode::Status::unreadable);
  EXPECT_EQ(node.error(), ENOENT);
  EXPECT_EQ(node.describe_error(), "cannot read " + (m_dir / "n").string() + ": No such file or directory");
  EXPECT_THROW(OpenNode(root, "/n"), SysfsError);
}

TEST(QuotedValue, PrintableAndShort) {
  EXPECT_EQ(quoted_value("abc"), "'abc'");
  EXPECT_EQ(quoted_value(std::string_view("a\nb\0c\x1b", 6)), "'a?b?c?'");
  EXPECT_EQ(quoted_value(std::string(50, 'x')), "'" + std::string(40, 'x') + "...'");
  EXPECT_EQ(quoted_value(""), "''");
  EXPECT_EQ(quoted_value("6 ms\n"), "'6 ms'");
}
