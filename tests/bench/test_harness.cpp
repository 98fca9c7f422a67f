#include "families.hpp"
#include "harness.hpp"
#include "output.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

using namespace edgeroof::bench;

TEST(Harness, MemoryLevelFromCapacities) {
  const std::uint64_t caps[3] = {96 << 10, 2 << 20, 32 << 20};
  EXPECT_EQ(memory_level(16 << 10, caps, 3), "l1");
  EXPECT_EQ(memory_level(48 << 10, caps, 3), "l1");  // half of L1 still counts
  EXPECT_EQ(memory_level(64 << 10, caps, 3), "mixed");
  EXPECT_EQ(memory_level(512 << 10, caps, 3), "l2");
  EXPECT_EQ(memory_level(4 << 20, caps, 3), "l3");
  EXPECT_EQ(memory_level(32 << 20, caps, 3), "mixed");
  EXPECT_EQ(memory_level(std::uint64_t(128) << 20, caps, 3), "dram");
  EXPECT_EQ(memory_level(1 << 20, caps, 0), "dram");
}

TEST(Harness, PassesCoverTheTarget) {
  EXPECT_EQ(passes_for(1000, 10000), 10u);
  EXPECT_EQ(passes_for(1000, 10001), 11u);
  EXPECT_EQ(passes_for(1 << 30, 1 << 20), 1u);
  EXPECT_EQ(passes_for(0, 100), 1u);
}

TEST(Harness, WorkingSetsArePowersOfTwo) {
  const auto s = working_sets(16 << 10, 128 << 10);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.front(), 16u << 10);
  EXPECT_EQ(s.back(), 128u << 10);
}

TEST(Output, StripsGoogleBenchmarkTimeSuffix) {
  EXPECT_EQ(strip_time_type("compute/cuda/fp32/ai:16/manual_time"), "compute/cuda/fp32/ai:16");
  EXPECT_EQ(strip_time_type("memory/cpu/triad/bytes:4096/real_time_median"), "memory/cpu/triad/bytes:4096_median");
  EXPECT_EQ(strip_time_type("layer/x/real_time_ish/y"), "layer/x/real_time_ish/y");
  EXPECT_EQ(strip_time_type("compute/cpu/fp64/ai:1"), "compute/cpu/fp64/ai:1");
}

TEST(CpuCaches, CapacitiesAreAscendingAndPositive) {
  const auto caps = cpu_cache_capacities(2);
  for (std::size_t i = 1; i < caps.size(); ++i) EXPECT_LE(caps[i - 1], caps[i]);
  for (auto c : caps) EXPECT_GT(c, 0u);
}

// A results file as Google Benchmark writes it (here by hand, as an older version might): the
// label token follows the throttled counter of runs and of the aggregates that are its values.
TEST(Output, ThrottledBenchmarksGetTheLabelToken) {
  const edgeroof::test::ScratchDir dir("output");
  const std::string out = (dir.path() / "r.json").string();
  std::string arg = "--benchmark_out=" + out;
  std::vector<char*> args{arg.data()};
  Output output(args);
  EXPECT_EQ(std::string(args[0]), "--benchmark_out=" + out + ".partial");
  dir.write("r.json.partial", R"({"context": {}, "benchmarks": [
    {"name": "memory/cpu/read/bytes:16384/real_time", "run_type": "iteration", "label": "level:l1", "throttled": 1},
    {"name": "compute/cpu/fp32/ai:1/real_time", "run_type": "iteration", "throttled": 1},
    {"name": "compute/cpu/fp32/ai:2/real_time", "run_type": "iteration", "label": "x", "throttled": 0},
    {"name": "compute/cpu/fp32/ai:4/real_time", "run_type": "iteration", "label": "y"},
    {"name": "a_mean", "run_type": "aggregate", "aggregate_name": "mean", "throttled": 0.25},
    {"name": "a_stddev", "run_type": "aggregate", "aggregate_name": "stddev", "label": "s", "throttled": 0.5}]})");
  output.finish({{"clocks.end.gpu_hz", "1300500000"}});
  const auto doc = nlohmann::json::parse(edgeroof::test::read_file(out));
  const auto& b = doc.at("benchmarks");
  EXPECT_EQ(b[0].at("name"), "memory/cpu/read/bytes:16384");
  EXPECT_EQ(b[0].at("label"), "level:l1 throttled");
  EXPECT_EQ(b[1].at("label"), "throttled");
  EXPECT_EQ(b[2].at("label"), "x");
  EXPECT_EQ(b[3].at("label"), "y");
  EXPECT_EQ(b[4].at("label"), "throttled");
  EXPECT_EQ(b[5].at("label"), "s");
  EXPECT_EQ(doc.at("context").at("clocks.end.gpu_hz"), "1300500000");
  EXPECT_FALSE(std::filesystem::exists(out + ".partial"));
}

TEST(Output, ResultsPathCheckLeavesAStalePartialAlone) {
  const edgeroof::test::ScratchDir dir("output_check");
  const auto stale = dir.write("r.json.partial", "kept from a failed run\n");
  check_results_path((dir.path() / "r.json").string());
  EXPECT_EQ(edgeroof::test::read_file(stale), "kept from a failed run\n");
  check_results_path((dir.path() / "new.json").string());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "new.json.partial"));
  EXPECT_THROW(check_results_path(dir.path().string()), UsageError);
}
