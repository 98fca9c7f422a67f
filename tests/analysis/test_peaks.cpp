#include "edgeroof/reports/peaks.hpp"

#include <gtest/gtest.h>

using edgeroof::reports::derived_peaks;

TEST(DerivedPeaks, FromReportedOrinClocks) {
  // Orin AGX 64 GB: 16 SMs x 128 lanes x 2 x 1300.5 MHz = 5.33 TFLOP/s (jetson-orin.md).
  const auto p = derived_peaks({{"cuda.sm_count", "16"},
                                {"cuda.fp32_lanes_per_sm", "128"},
                                {"cuda.sm_clock_max_khz", "1300500"},
                                {"cuda.memory_clock_max_khz", "3199000"},
                                {"cuda.memory_bus_bits", "256"}});
  EXPECT_DOUBLE_EQ(p.at("cuda/fp32").value, 16.0 * 128 * 2 * 1300.5e6);
  EXPECT_DOUBLE_EQ(p.at("cuda/dram").value, 2.0 * 3199e6 * 256 / 8);  // 204.7 GB/s
  EXPECT_NE(p.at("cuda/fp32").formula.find("16 SMs"), std::string::npos);
}

TEST(DerivedPeaks, AbsentInputsGiveNoPeak) {
  EXPECT_TRUE(derived_peaks({}).empty());
  EXPECT_TRUE(derived_peaks({{"cuda.sm_count", "16"}, {"cuda.sm_clock_max_khz", "1300500"}}).empty());
  EXPECT_TRUE(derived_peaks({{"cuda.memory_clock_max_khz", "x"}, {"cuda.memory_bus_bits", "256"}}).empty());
}

TEST(DerivedPeaks, FiguresThatCannotBeRealGiveNoPeak) {
  for (const char* bad : {"inf", "nan", "-16", "0", "1e999", "1e300"}) {
    EXPECT_TRUE(
        derived_peaks({{"cuda.sm_count", bad}, {"cuda.fp32_lanes_per_sm", "128"}, {"cuda.sm_clock_max_khz", "1300500"}})
            .empty())
        << bad;
  }
}
