// RooflineModel: the time and energy rooflines with hand-computed figures, the per-byte forms the
// charts draw agreeing with the per-kernel ones predict charges, and the model of a mode of
// rooflines.json.
#include "edgeroof/reports/roofline_model.hpp"

#include <gtest/gtest.h>

namespace {

using namespace edgeroof::reports;

// F = 1 TFLOP/s, B = 100 GB/s, ε_flop = 10 pJ, ε_byte = 100 pJ, π0 = 5 W.
RooflineModel toy() { return {1e12, 1e11, 1e-11, 1e-10, 5.0}; }

}  // namespace

TEST(RooflineModel, TimeIsTheSlowerOfComputeAndMemory) {
  const auto m = toy();
  EXPECT_DOUBLE_EQ(m.ridge_point(), 10.0);
  EXPECT_DOUBLE_EQ(m.time_s(1e9, 1e6), 1e-3);  // compute-bound: I = 1000
  EXPECT_DOUBLE_EQ(m.time_s(1e6, 1e9), 1e-2);  // memory-bound: I = 0.001
  EXPECT_TRUE(m.compute_bound(1e9, 1e6));
  EXPECT_FALSE(m.compute_bound(1e6, 1e9));
  EXPECT_TRUE(m.compute_bound(1e10, 1e9));  // at the ridge point: compute
  EXPECT_DOUBLE_EQ(m.attainable_flops_per_s(1.0), 1e11);
  EXPECT_DOUBLE_EQ(m.attainable_flops_per_s(100.0), 1e12);
}

TEST(RooflineModel, EnergyChargesWorkBytesAndConstantPowerForTheTime) {
  const auto m = toy();
  ASSERT_TRUE(m.has_energy());
  // 1e9 FLOP · 10 pJ + 1e6 B · 100 pJ + 5 W · 1 ms = 0.01 + 0.0001 + 0.005 J
  EXPECT_DOUBLE_EQ(m.work_energy_J(1e9, 1e6), 0.0101);
  EXPECT_DOUBLE_EQ(m.energy_J(1e9, 1e6), 0.0151);
  // The per-byte forms of the charts are the same formula divided by Q (and by t for power).
  for (const auto& [w, q] : {std::pair{1e9, 1e6}, std::pair{1e6, 1e9}, std::pair{1e10, 1e9}}) {
    const double i = w / q;
    EXPECT_NEAR(m.energy_per_byte_J(i), m.energy_J(w, q) / q, 1e-12 * m.energy_per_byte_J(i));
    EXPECT_NEAR(m.flops_per_J(i), w / m.energy_J(w, q), 1e-12 * m.flops_per_J(i));
    EXPECT_NEAR(m.power_W(i), m.energy_J(w, q) / m.time_s(w, q), 1e-12 * m.power_W(i));
  }
  EXPECT_DOUBLE_EQ(m.power_W(1000.0), 15.1);  // 0.0151 J in 1 ms
}

TEST(RooflineModel, WithoutAnEnergyFitOnlyTime) {
  const RooflineModel m{1e12, 1e11, {}, {}, {}};
  EXPECT_FALSE(m.has_energy());
  EXPECT_FALSE((RooflineModel{1e12, 1e11, 1e-11, {}, 5.0}.has_energy()));
  EXPECT_DOUBLE_EQ(m.time_s(1e9, 1e6), 1e-3);
}

TEST(RooflineModel, OfAModeOfRooflinesJson) {
  RooflineMode mode;
  mode.key = "maxn";
  mode.compute_flops_per_s["cuda/fp16"] = {1e12, "compute/cuda/fp16/ai:256", std::nullopt};
  mode.compute_flops_per_s["cuda/fp16-tensor"] = {4e12, "compute/cuda/fp16-tensor/ai:256", std::nullopt};
  mode.bandwidth_bytes_per_s["cuda/dram"] = {1e11, "memory/cuda/triad/bytes:268435456", std::nullopt};
  EnergyFit fit;
  fit.eps_flop_J["fp16"] = 2e-12;
  fit.eps_byte_J["dram"] = 8e-11;
  fit.static_W = 6.5;
  mode.energy["cuda"] = fit;

  const auto plain = roofline_model(mode, "cuda", "fp16", "dram");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->flops_per_s, 1e12);
  EXPECT_EQ(plain->bytes_per_s, 1e11);
  EXPECT_EQ(plain->eps_flop_J, 2e-12);
  EXPECT_EQ(plain->eps_byte_J, 8e-11);
  EXPECT_EQ(plain->static_W, 6.5);
  // The tensor ceiling has no ε of its own: time only.
  const auto tensor = roofline_model(mode, "cuda", "fp16-tensor", "dram");
  ASSERT_TRUE(tensor);
  EXPECT_EQ(tensor->flops_per_s, 4e12);
  EXPECT_FALSE(tensor->eps_flop_J);
  EXPECT_FALSE(tensor->has_energy());
  EXPECT_FALSE(roofline_model(mode, "cuda", "fp32", "dram"));
  EXPECT_FALSE(roofline_model(mode, "cuda", "fp16", "l2"));
  EXPECT_FALSE(roofline_model(mode, "cpu", "fp16", "dram"));
  mode.energy.clear();
  const auto no_sensor = roofline_model(mode, "cuda", "fp16", "dram");
  ASSERT_TRUE(no_sensor);
  EXPECT_FALSE(no_sensor->static_W);
  EXPECT_FALSE(no_sensor->has_energy());
}
