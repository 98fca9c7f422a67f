// The energy fit: NNLS on hand-derived problems, and ε/π0 recovered from synthetic benchmark JSON
// made with noise.
#include "edgeroof/reports/energy.hpp"
#include "edgeroof/reports/fit.hpp"
#include "synthetic_results.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace edgeroof::reports;
using edgeroof::testing::synthetic_results;
using edgeroof::testing::SyntheticMode;

namespace {

Matrix matrix(std::size_t rows, std::size_t cols, std::vector<double> values) {
  Matrix m(rows, cols);
  m.values = std::move(values);
  return m;
}

}  // namespace

TEST(Nnls, UnconstrainedOptimumWhenItIsNonNegative) {
  // AᵀA = [[2,1],[1,2]], Aᵀb = [3,2] -> x = (4/3, 1/3), both positive.
  const auto x = nnls(matrix(3, 2, {1, 0, 0, 1, 1, 1}), {2, 1, 1});
  ASSERT_EQ(x.size(), 2u);
  EXPECT_NEAR(x[0], 4.0 / 3.0, 1e-14);
  EXPECT_NEAR(x[1], 1.0 / 3.0, 1e-14);
}

TEST(Nnls, BindingConstraint) {
  // Unconstrained: AᵀA x = Aᵀb = [1,-2] -> x = (4/3, -5/3). With x2 = 0 the best x1 minimises
  // (x1-1)² + 4 + x1², so x1 = 1/2; the gradient of x2 there is [0,1,1]·(0.5,-2,-0.5) = -2.5 < 0.
  const auto x = nnls(matrix(3, 2, {1, 0, 0, 1, 1, 1}), {1, -2, 0});
  EXPECT_NEAR(x[0], 0.5, 1e-14);
  EXPECT_EQ(x[1], 0.0);
}

TEST(Nnls, AllNegativeGivesZero) {
  const auto x = nnls(matrix(2, 2, {1, 0, 0, 1}), {-1, -3});
  EXPECT_EQ(x[0], 0.0);
  EXPECT_EQ(x[1], 0.0);
}

TEST(Nnls, ExactConsistentSystemAndZeroColumn) {
  // b = A·(2, 0, 0.5) with a column of zeros in the middle.
  const auto a = matrix(4, 3, {1, 0, 2, 3, 0, 1, 0, 0, 4, 2, 0, 1});
  const std::vector<double> b = {1 * 2 + 2 * 0.5, 3 * 2 + 1 * 0.5, 4 * 0.5, 2 * 2 + 1 * 0.5};
  const auto x = nnls(a, b);
  EXPECT_NEAR(x[0], 2.0, 1e-13);
  EXPECT_EQ(x[1], 0.0);
  EXPECT_NEAR(x[2], 0.5, 1e-13);
}

TEST(Nnls, SizeMismatchThrows) { EXPECT_THROW((void)nnls(matrix(2, 2, {1, 0, 0, 1}), {1}), std::invalid_argument); }

TEST(EnergyFit, TooFewSamplesGiveNoFit) {
  std::vector<EnergySample> s = {{"a", "fp32", "dram", 1e9, 1e8, 1e-3, 0.1},
                                 {"b", "fp32", "dram", 2e9, 1e8, 2e-3, 0.2}};
  EXPECT_FALSE(fit_energy(s));  // 3 unknowns
}

TEST(EnergyFit, ExactDataIsRecoveredExactly) {
  // E = W·1e-11 + Q·1e-10 + 5·T on four independent rows.
  std::vector<EnergySample> s;
  const double w[] = {1e9, 4e9, 1e9, 8e9}, q[] = {1e8, 1e8, 4e8, 2e8}, t[] = {1e-3, 2e-3, 4e-3, 1e-3};
  for (int i = 0; i < 4; ++i)
    s.push_back({"b" + std::to_string(i), "fp32", "dram", w[i], q[i], t[i], w[i] * 1e-11 + q[i] * 1e-10 + 5 * t[i]});
  const auto fit = fit_energy(s);
  ASSERT_TRUE(fit);
  EXPECT_NEAR(fit->eps_flop_J.at("fp32"), 1e-11, 1e-22);
  EXPECT_NEAR(fit->eps_byte_J.at("dram"), 1e-10, 1e-21);
  EXPECT_NEAR(fit->static_W, 5.0, 1e-10);
  EXPECT_NEAR(fit->r2, 1.0, 1e-12);
  EXPECT_EQ(fit->residuals.size(), 4u);
  EXPECT_FALSE(fit->static_vs_idle_W());
}

// The defaults: an Orin-like GPU mode measured with the suite's sweeps (fp32 and fp64 over
// intensities 1/8..256, fp16 tensor GEMMs, triad in L2 and DRAM), 3 repetitions, 1% noise on times
// and 0.5% on joules. π0 is the worst-determined constant: it shows only where a dtype's
// compute-bound and memory-bound rows meet, so 1% noise on joules moves it by up to ~5%.
class EnergyFitSeeds : public ::testing::TestWithParam<unsigned> {};

TEST_P(EnergyFitSeeds, RecoversCeilingsAndEnergyConstantsFromNoisyJson) {
  SyntheticMode mode;
  const auto file = parse_results(synthetic_results(mode, GetParam()), "synthetic.json");
  const auto r = fit_rooflines({file});
  ASSERT_EQ(r.modes.size(), 1u);
  const auto& m = r.modes[0];
  EXPECT_EQ(m.key, mode.key);
  EXPECT_NEAR(m.compute_flops_per_s.at("cuda/fp32").value / mode.flops_per_s.at("fp32"), 1.0, 0.02);
  EXPECT_NEAR(m.compute_flops_per_s.at("cuda/fp16-tensor").value / mode.flops_per_s.at("fp16-tensor"), 1.0, 0.02);
  EXPECT_NEAR(m.bandwidth_bytes_per_s.at("cuda/dram").value / mode.bytes_per_s.at("dram"), 1.0, 0.02);
  EXPECT_NEAR(m.bandwidth_bytes_per_s.at("cuda/l2").value / mode.bytes_per_s.at("l2"), 1.0, 0.02);

  ASSERT_EQ(m.energy.count("cuda"), 1u);
  const auto& e = m.energy.at("cuda");
  EXPECT_NEAR(e.eps_flop_J.at("fp32") / mode.eps_flop_J.at("fp32"), 1.0, 0.02);
  EXPECT_NEAR(e.eps_flop_J.at("fp64") / mode.eps_flop_J.at("fp64"), 1.0, 0.02);
  EXPECT_NEAR(e.eps_flop_J.at("fp16-tensor") / mode.eps_flop_J.at("fp16-tensor"), 1.0, 0.02);
  EXPECT_NEAR(e.eps_byte_J.at("dram") / mode.eps_byte_J.at("dram"), 1.0, 0.02);
  EXPECT_NEAR(e.eps_byte_J.at("l2") / mode.eps_byte_J.at("l2"), 1.0, 0.02);
  EXPECT_NEAR(e.static_W / mode.static_W, 1.0, 0.02);
  EXPECT_GT(e.r2, 0.99);
  EXPECT_EQ(e.residuals.size(), e.benchmarks.size());
  EXPECT_EQ(e.benchmarks.size(), 35u);  // 12 fp32 + 12 fp64 + 4 gemm + 7 memory, once each despite 3 repetitions
  ASSERT_TRUE(e.idle_power_W);
  EXPECT_DOUBLE_EQ(*e.idle_power_W, 7.5);
  EXPECT_NEAR(*e.static_vs_idle_W(), e.static_W - 7.5, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(TenSeeds, EnergyFitSeeds, ::testing::Range(1u, 11u));

TEST(EnergyFit, RoundTripsThroughRooflinesJson) {
  const auto r = fit_rooflines({parse_results(synthetic_results(SyntheticMode{}, 7), "synthetic.json")});
  const auto doc = to_json(r);
  const auto& ej = doc["modes"][0]["energy"]["cuda"];
  for (const char* key :
       {"eps_flop_J", "eps_byte_J", "static_W", "r2", "residuals", "benchmarks", "idle_power_W", "static_vs_idle_W"}) {
    EXPECT_TRUE(ej.contains(key)) << key;
  }
  EXPECT_TRUE(ej["residuals"][0].contains("measured_J"));
  const auto back = rooflines_from_json(doc, "r.json");
  const auto& a = r.modes[0].energy.at("cuda");
  const auto& b = back.modes[0].energy.at("cuda");
  EXPECT_EQ(a.eps_flop_J, b.eps_flop_J);
  EXPECT_EQ(a.eps_byte_J, b.eps_byte_J);
  EXPECT_EQ(a.static_W, b.static_W);
  EXPECT_EQ(a.benchmarks, b.benchmarks);
  EXPECT_EQ(b.residuals.size(), a.residuals.size());
  EXPECT_EQ(b.idle_power_W, a.idle_power_W);
}

TEST(EnergyFit, NoEnergyCountersNoEnergyKey) {
  SyntheticMode mode;
  mode.with_energy = false;
  const auto r = fit_rooflines({parse_results(synthetic_results(mode, 1), "noenergy.json")});
  EXPECT_TRUE(r.modes[0].energy.empty());
  EXPECT_FALSE(to_json(r)["modes"][0].contains("energy"));
}

TEST(EnergyFit, MalformedRooflinesAreOneClearError) {
  const auto text = to_json(fit_rooflines({parse_results(synthetic_results(SyntheticMode{}, 3), "s.json")})).dump();
  try {
    (void)rooflines_from_json(
        nlohmann::json::parse(R"({"modes": [{"key": "a", "energy": {"cuda": {"eps_flop_J": {}}}}]})"), "bad.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "bad.json: modes[0] (a): energy.cuda.static_W is missing");
  }
  const auto cut = std::filesystem::temp_directory_path() / "edgeroof_test_cut_rooflines.json";
  { std::ofstream(cut) << text.substr(0, text.size() / 2); }
  try {
    (void)load_rooflines(cut);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  std::filesystem::remove(cut);
}

TEST(EnergyFit, IdlePowerOfASweepWhenTheBenchDidNotMeasureIt) {
  auto file = parse_results(synthetic_results(SyntheticMode{}, 11), "sweep.json");
  file.context.erase("idle_power_W");
  file.context["power_mode.idle_power_W"] = "6.25";  // edgeroof sweep, after the mode settled
  const auto r = fit_rooflines({file});              // by value: a reference into the temporary would dangle
  const auto& e = r.modes[0].energy.at("cuda");
  ASSERT_TRUE(e.idle_power_W);
  EXPECT_DOUBLE_EQ(*e.idle_power_W, 6.25);
}
