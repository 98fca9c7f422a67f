// A short real run of edgeroof-bench's CPU families: the JSON it writes parses and carries the
// counters and context of DESIGN.md, with the stable names.
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string bench = std::string(EDGEROOF_BINARY_DIR) + "/bench/edgeroof-bench";

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("edgeroof-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

int run(const std::string& args) {
  const int rc = std::system((bench + " " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

json load(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

}  // namespace

TEST(BenchRun, CpuFamiliesWriteCountersAndContext) {
  const auto out = temp_dir() / "cpu.json";
  const std::string filter = "compute/cpu/fp(32|64)/ai:(0.125|64)/|memory/cpu/(read|triad)/bytes:(16384|67108864)/";
  ASSERT_EQ(run("--benchmark_filter='" + filter +
                "' --benchmark_min_time=0.01 --dram-factor=1 --benchmark_out=" + out.string()),
            0);
  ASSERT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
  const json doc = load(out);

  const auto& ctx = doc.at("context");
  for (const char* key : {"edgeroof.version", "device.name", "device.backend", "cpu.threads", "cpu.isa", "caches"}) {
    EXPECT_TRUE(ctx.contains(key)) << key;
  }
  EXPECT_EQ(ctx.at("device.backend").get<std::string>().find("cpu") != std::string::npos, true);

  std::set<std::string> names;
  for (const auto& b : doc.at("benchmarks")) {
    const std::string name = b.at("name");
    names.insert(name);
    EXPECT_FALSE(b.value("error_occurred", false)) << name << ": " << b.value("error_message", "");
    for (const char* counter : {"flops", "bytes", "ai", "FLOP/s", "B/s"})
      EXPECT_TRUE(b.contains(counter)) << name << " " << counter;
    const double t = b.at("real_time").get<double>();
    ASSERT_GT(t, 0.0);
    // ai is flops/bytes, and the rates are the per-iteration work over the per-iteration time.
    EXPECT_NEAR(b.at("ai").get<double>(), b.at("flops").get<double>() / b.at("bytes").get<double>(), 1e-9);
    const double seconds = t * (b.at("time_unit") == "ms" ? 1e-3 : b.at("time_unit") == "us" ? 1e-6 : 1e-9);
    EXPECT_NEAR(b.at("B/s").get<double>(), b.at("bytes").get<double>() / seconds, 0.02 * b.at("B/s").get<double>())
        << name;
    if (name.rfind("memory/", 0) == 0) {
      EXPECT_EQ(b.at("label").get<std::string>().rfind("level:", 0), 0u) << name;
    }
  }
  EXPECT_TRUE(names.count("compute/cpu/fp32/ai:0.125"));
  EXPECT_TRUE(names.count("compute/cpu/fp64/ai:64"));
  EXPECT_TRUE(names.count("memory/cpu/triad/bytes:16384"));
  EXPECT_TRUE(names.count("memory/cpu/read/bytes:67108864"));
  EXPECT_EQ(names.size(), 8u);  // 2 dtypes x 2 intensities + 2 kernels x 2 sizes
  fs::remove_all(out.parent_path());
}

TEST(BenchRun, RepetitionsWithNonFiniteStatisticsAreWritten) {
  // With repetitions Google Benchmark adds stddev and cv aggregates; a cv of an all-zero counter
  // is written as a bare NaN, which must not cost the run its results.
  const auto out = temp_dir() / "reps.json";
  ASSERT_EQ(run("--sensor=none --idle-s=0 --benchmark_filter='memory/cpu/write/bytes:16384/' --benchmark_repetitions=3 "
                "--benchmark_min_time=0.01 --benchmark_out=" +
                out.string()),
            0);
  const json doc = load(out);
  std::set<std::string> names;
  for (const auto& b : doc.at("benchmarks")) names.insert(b.at("name").get<std::string>());
  EXPECT_TRUE(names.count("memory/cpu/write/bytes:16384"));
  EXPECT_TRUE(names.count("memory/cpu/write/bytes:16384_mean"));
  EXPECT_TRUE(names.count("memory/cpu/write/bytes:16384_cv"));
  fs::remove_all(out.parent_path());
}

TEST(BenchRun, BadInputFailsWithoutWritingAFile) {
  const auto out = temp_dir() / "bad.json";
  EXPECT_NE(run("--no-such-flag --benchmark_out=" + out.string()), 0);
  EXPECT_NE(run("--benchmark_filter=no/such/family --benchmark_out=" + out.string()), 0);
  EXPECT_NE(run("--cuda-device=x"), 0);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
  fs::remove_all(out.parent_path());
}

TEST(BenchRun, HelpDescribesEdgeroofFlags) { EXPECT_EQ(run("--help"), 0); }
