#include "families.hpp"
#include "harness.hpp"
#include "output.hpp"

#include <gtest/gtest.h>

using namespace edgeroof::bench;

TEST(Harness, FormatsIntensitiesShortly) {
  EXPECT_EQ(format_number(0.125), "0.125");
  EXPECT_EQ(format_number(1.0), "1");
  EXPECT_EQ(format_number(256.0), "256");
}

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
