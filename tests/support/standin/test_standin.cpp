// The stand-in board: its grid is the one `edgeroof modes --grid` makes, its results files are
// what the reader accepts, and they fit back to the physics that made them within the noise.
#include "standin.hpp"

#include "edgeroof/reports/fit.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace {

using namespace edgeroof;

power::PowerMode mode_at(const standin::StandinBoard& b, int cores, std::size_t cpu, std::size_t gpu, std::size_t emc) {
  power::PowerMode m;
  m.cpu_online = cores;
  m.cpu_max_khz = m.cpu_min_khz = b.cpu_khz.at(cpu);
  m.gpu_max_hz = m.gpu_min_hz = b.gpu_hz.at(gpu);
  m.emc_max_hz = b.emc_hz.at(emc);
  m.key = m.name = power::grid_key(cores, *m.cpu_max_khz, *m.gpu_max_hz, *m.emc_max_hz);
  return m;
}

reports::RooflineMode fit_one(const standin::StandinBoard& b, const power::PowerMode& m, unsigned seed,
                              const standin::NoiseOptions& noise = {}) {
  const auto file = results::parse_results(standin::results_json(b, m, seed, noise), m.key + ".json");
  auto r = reports::fit_rooflines({file});
  EXPECT_EQ(r.modes.size(), 1u);
  return r.modes.at(0);
}

double rel(double got, double want) { return std::abs(got - want) / want; }

TEST(StandinGrid, OrinAgxHasTheFullGridWithItsKeys) {
  const auto modes = standin::grid_modes(standin::orin_agx());
  ASSERT_EQ(modes.size(), 4368u);
  EXPECT_EQ(modes.front().key, "c2-cpu268800-gpu114750000-emc204000000");
  EXPECT_EQ(modes.back().key, "c12-cpu2201600-gpu1300500000-emc3199000000");
  const auto doc = nlohmann::json::parse(standin::modes_json(modes));
  ASSERT_EQ(doc.at("modes").size(), 4368u);
  const auto& last = doc["modes"][4367];
  EXPECT_EQ(last.at("cpu_online"), 12);
  EXPECT_EQ(last.at("cpu_max_khz"), 2201600);
  EXPECT_EQ(last.at("gpu_max_hz"), 1300500000);
  EXPECT_EQ(last.at("emc_max_hz"), 3199000000LL);
}

TEST(StandinGrid, OrinNxIsAnotherBoard) {
  const auto b = standin::orin_nx();
  EXPECT_EQ(standin::grid_modes(b).size(), 4u * 11u * 7u * 4u);
  const auto agx = standin::orin_agx();
  const auto top = [](const standin::StandinBoard& x) {
    return standin::figures_of(x, standin::knobs_of(x, mode_at(x, x.cpu_count, x.cpu_khz.size() - 1,
                                                               x.gpu_hz.size() - 1, x.emc_hz.size() - 1)));
  };
  // 4 TPCs at 918 MHz against 8 at 1300.5 MHz.
  EXPECT_NEAR(top(b).fp32_flops_per_s / top(agx).fp32_flops_per_s, 4.0 * 918.0 / (8.0 * 1300.5), 1e-12);
  EXPECT_LT(top(b).dram_bytes_per_s, 0.6 * top(agx).dram_bytes_per_s);
}

TEST(StandinPhysics, VoltageIsFlatBelowTheKneeAndRisesAbove) {
  const auto b = standin::orin_agx();
  EXPECT_DOUBLE_EQ(standin::interpolate(b.gpu_volts, 114.75e6), standin::interpolate(b.gpu_volts, 624.75e6));
  EXPECT_GT(standin::interpolate(b.gpu_volts, 1300.5e6), standin::interpolate(b.gpu_volts, 1032.75e6));
  // Below the knee energy per FLOP is constant; above it grows with V².
  const auto low = standin::figures_of(b, standin::knobs_of(b, mode_at(b, 12, 13, 0, 3)));
  const auto knee = standin::figures_of(b, standin::knobs_of(b, mode_at(b, 12, 13, 5, 3)));
  const auto top = standin::figures_of(b, standin::knobs_of(b, mode_at(b, 12, 13, 12, 3)));
  EXPECT_DOUBLE_EQ(low.fp32_flop_J, knee.fp32_flop_J);
  EXPECT_NEAR(top.fp32_flop_J / knee.fp32_flop_J, (0.845 * 0.845) / (0.590 * 0.590), 1e-12);
}

TEST(StandinPhysics, KnobsOutOfRangeAreRefusedByName) {
  const auto b = standin::orin_agx();
  auto m = mode_at(b, 12, 13, 12, 3);
  m.gpu_max_hz.reset();
  try {
    (void)standin::knobs_of(b, m);
    FAIL() << "a mode without a GPU clock was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "mode c12-cpu2201600-gpu1300500000-emc3199000000: gpu_hz is not set");
  }
  m = mode_at(b, 12, 13, 12, 3);
  m.cpu_online = 13;
  EXPECT_THROW((void)standin::knobs_of(b, m), std::invalid_argument);
  m = mode_at(b, 12, 13, 12, 3);
  m.tpc_pg_mask = 255;  // every TPC off
  EXPECT_THROW((void)standin::knobs_of(b, m), std::invalid_argument);
}

// Without noise the fit finds the ceilings the physics reached exactly where a benchmark reaches
// them, and within the noise otherwise.
TEST(StandinResults, FitBackToThePhysicsWithinNoise) {
  const auto b = standin::orin_agx();
  for (const auto& m : {mode_at(b, 12, 13, 12, 3), mode_at(b, 2, 0, 0, 0), mode_at(b, 6, 7, 6, 2)}) {
    SCOPED_TRACE(m.key);
    const auto f = standin::figures_of(b, standin::knobs_of(b, m));
    const auto r = fit_one(b, m, 7);
    EXPECT_LT(rel(r.compute_flops_per_s.at("cuda/fp32").value, f.fp32_flops_per_s), 0.03);
    EXPECT_LT(rel(r.compute_flops_per_s.at("cuda/fp16").value, f.fp16_flops_per_s), 0.03);
    EXPECT_LT(rel(r.compute_flops_per_s.at("cpu/fp32").value, f.cpu_flops_per_s), 0.03);
    const double dram_256 = f.dram_bytes_per_s * (1.0 - 0.05 * 16.0 / 256.0);
    EXPECT_LT(rel(r.bandwidth_bytes_per_s.at("cuda/dram").value, dram_256), 0.03);
    EXPECT_LT(rel(r.bandwidth_bytes_per_s.at("cuda/l2").value, f.l2_bytes_per_s * (1.0 - 0.03 / 2.0)), 0.03);
    const auto& e = r.energy.at("cuda");
    EXPECT_LT(rel(e.eps_flop_J.at("fp32"), f.fp32_flop_J), 0.10);
    EXPECT_LT(rel(e.static_W, f.gpu_busy_W), 0.10);
    EXPECT_LT(rel(e.eps_byte_J.at("dram"), f.dram_byte_J), 0.15);
    EXPECT_GT(e.r2, 0.99);
  }
}

TEST(StandinResults, SameSeedSameFileOtherSeedOtherNoise) {
  const auto b = standin::orin_agx();
  const auto m = mode_at(b, 4, 3, 2, 1);
  EXPECT_EQ(standin::results_json(b, m, 3), standin::results_json(b, m, 3));
  EXPECT_NE(standin::results_json(b, m, 3), standin::results_json(b, m, 4));
}

TEST(StandinResults, ThrottledRepetitionsAreMarkedAndLeftOut) {
  const auto b = standin::orin_agx();
  const auto m = mode_at(b, 12, 13, 12, 3);
  standin::NoiseOptions noise;
  noise.throttle_share = 0.5;
  const auto file = results::parse_results(standin::results_json(b, m, 11, noise), "t.json");
  std::set<std::string> throttled;
  std::size_t flagged_reps = 0;
  for (const auto& r : file.benchmarks) {
    if (r.is_aggregate() || !r.throttled()) continue;
    ++flagged_reps;
    throttled.insert(r.run_name);
    EXPECT_TRUE(results::has_label_token(r.label, "throttled")) << r.name;
    EXPECT_LT(*r.counter("clock_min_ratio"), 1.0 / 1.05 + 1e-12) << r.name;
  }
  EXPECT_EQ(flagged_reps, throttled.size());  // one repetition per throttled benchmark
  EXPECT_GT(throttled.size(), 5u);
  const auto fitted = reports::fit_rooflines({file}).modes.at(0);
  ASSERT_EQ(fitted.excluded.count("throttled"), 1u);
  EXPECT_EQ(fitted.excluded.at("throttled").size(), throttled.size());
}

}  // namespace
