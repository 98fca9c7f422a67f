#include "edgeroof/kernels/traits.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace ek = edgeroof::kernels;

TEST(KernelTraits, MemoryTrafficMatchesHandCounts) {
  // read: s += a[i] -> one 8-byte load and one add per element.
  EXPECT_EQ(ek::memory_bytes_per_element(ek::MemoryKernel::read, ek::Dtype::fp64), 8u);
  EXPECT_EQ(ek::traffic_of(ek::MemoryKernel::read).flops, 1);
  // write: a[i] = s -> one store.
  EXPECT_EQ(ek::memory_bytes_per_element(ek::MemoryKernel::write, ek::Dtype::fp64), 8u);
  // copy: b[i] = a[i] -> load + store, two arrays.
  EXPECT_EQ(ek::memory_bytes_per_element(ek::MemoryKernel::copy, ek::Dtype::fp64), 16u);
  EXPECT_EQ(ek::traffic_of(ek::MemoryKernel::copy).arrays, 2);
  // triad: a[i] = b[i] + s*c[i] -> two loads, one store, one multiply and one add.
  EXPECT_EQ(ek::memory_bytes_per_element(ek::MemoryKernel::triad, ek::Dtype::fp64), 24u);
  EXPECT_EQ(ek::traffic_of(ek::MemoryKernel::triad).flops, 2);
  EXPECT_EQ(ek::traffic_of(ek::MemoryKernel::triad).arrays, 3);
  EXPECT_EQ(ek::memory_bytes_per_element(ek::MemoryKernel::triad, ek::Dtype::fp32), 12u);
}

TEST(KernelTraits, ComputeIntensityToFlops) {
  // A pass reads and writes each element: 8 bytes for fp32, 16 for fp64, 4 for fp16.
  EXPECT_EQ(ek::compute_bytes_per_element(ek::Dtype::fp32), 8u);
  EXPECT_EQ(ek::compute_bytes_per_element(ek::Dtype::fp64), 16u);
  EXPECT_EQ(ek::compute_bytes_per_element(ek::Dtype::fp16), 4u);
  EXPECT_EQ(ek::flops_for_intensity(ek::Dtype::fp32, 0.125), 1);     // one multiply per 8 bytes
  EXPECT_EQ(ek::flops_for_intensity(ek::Dtype::fp64, 0.125), 2);     // one FMA per 16 bytes
  EXPECT_EQ(ek::flops_for_intensity(ek::Dtype::fp32, 256.0), 2048);  // 1024 FMAs
  EXPECT_EQ(ek::flops_for_intensity(ek::Dtype::fp64, 256.0), 4096);
  EXPECT_EQ(ek::flops_for_intensity(ek::Dtype::fp16, 0.25), 1);
  EXPECT_FALSE(ek::flops_for_intensity(ek::Dtype::fp16, 0.125).has_value());
  EXPECT_FALSE(ek::flops_for_intensity(ek::Dtype::fp32, 3.0).has_value());  // 24 FLOPs: no instance
}

TEST(KernelTraits, DefaultSweepSpansEighthTo256) {
  const auto ais = ek::default_intensities();
  ASSERT_FALSE(ais.empty());
  EXPECT_DOUBLE_EQ(ais.front(), 0.125);
  EXPECT_DOUBLE_EQ(ais.back(), 256.0);
  for (double ai : ais) {
    EXPECT_TRUE(ek::flops_for_intensity(ek::Dtype::fp32, ai).has_value()) << ai;
    EXPECT_TRUE(ek::flops_for_intensity(ek::Dtype::fp64, ai).has_value()) << ai;
  }
}

TEST(KernelTraits, ExpectedValueMatchesStepByStepRecurrence) {
  for (int flops : {1, 2, 8, 64}) {
    const auto p = ek::compute_params(flops);
    for (std::uint64_t passes : {1u, 2u, 7u}) {
      double x = 0.73;
      for (std::uint64_t s = 0; s < passes; ++s) {
        if (flops == 1) {
          x *= p.a;
        } else {
          for (int k = 0; k < flops / 2; ++k) x = x * p.a + p.b;
        }
      }
      EXPECT_NEAR(ek::compute_expected(0.73, flops, passes), x, 1e-12) << flops << " " << passes;
    }
  }
}

TEST(KernelTraits, ParseDtypeRoundTrips) {
  for (auto d : {ek::Dtype::fp16, ek::Dtype::fp32, ek::Dtype::fp64}) EXPECT_EQ(ek::parse_dtype(ek::name_of(d)), d);
  EXPECT_FALSE(ek::parse_dtype("fp8").has_value());
}

// compute_initial() is constexpr, so the device code's initial values are the host's.
static_assert(ek::compute_initial(0) == 0.5);
static_assert(ek::compute_initial(512) == 1.0);
static_assert(ek::compute_initial(ek::compute_initial_period + 3) == ek::compute_initial(3));

TEST(KernelTraits, InitialValuesAreDistinctWithinAPeriod) {
  EXPECT_EQ(ek::compute_initial(1), 0.5 + 1.0 / 1024.0);
  EXPECT_EQ(ek::compute_initial(1023), 0.5 + 1023.0 / 1024.0);
  EXPECT_EQ(ek::compute_initial(1024), 0.5);
}

TEST(KernelTraits, TolerancesPerDtype) {
  EXPECT_EQ(ek::compute_tolerance(ek::Dtype::fp16), 2e-2);
  EXPECT_EQ(ek::compute_tolerance(ek::Dtype::fp32), 1e-5);
  EXPECT_EQ(ek::compute_tolerance(ek::Dtype::fp64), 1e-12);
  EXPECT_EQ(ek::memory_tolerance, 1e-12);
}
