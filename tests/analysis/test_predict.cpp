// predict: per-layer time and energy from a mode's rooflines, on the toy workload table and
// rooflines in tests/data/reports (expected values derived by hand in the comments).
#include "edgeroof/reports/predict.hpp"

#include "workload_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <sstream>

using namespace edgeroof::reports;

namespace {

const std::string data_dir = std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/";

edgeroof::dnn::Workload toy() { return edgeroof::test::workload_file(data_dir + "toy_workload.json"); }

}  // namespace

// MAXN: F(fp16) = 1e12, F(fp16-tensor) = 4e12, B = 1e11, ε(fp16) = 2e-12, ε(fp16-tensor) = 1e-12,
// ε(dram) = 1e-10, π0 = 10 W.
//   conv1 (tensor): 8e9/4e12 = 2 ms vs 1e8/1e11 = 1 ms -> compute, 2 ms;
//                   e = 8e9·1e-12 + 1e8·1e-10 + 10·2e-3 = 0.008 + 0.01 + 0.02 = 0.038 J
//   relu1:          1e7/1e12 = 10 µs vs 2e8/1e11 = 2 ms -> memory, 2 ms;
//                   e = 1e7·2e-12 + 2e8·1e-10 + 0.02 = 0.04002 J
//   fc (tensor):    1e9/4e12 = 0.25 ms vs 5e8/1e11 = 5 ms -> memory, 5 ms;
//                   e = 1e9·1e-12 + 0.05 + 0.05 = 0.101 J
//   total 9 ms, 0.17902 J
TEST(Predict, LayersOfAModeFromItsRooflines) {
  const auto p = predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{});
  ASSERT_EQ(p.modes.size(), 3u);
  EXPECT_EQ(p.model, "toy");
  EXPECT_EQ(p.batch, 4);
  const auto& m = p.modes[0];
  EXPECT_EQ(m.key, "nvp0-maxn");
  ASSERT_EQ(m.layers.size(), 3u);
  EXPECT_EQ(m.layers[0].ceiling, "fp16-tensor");
  EXPECT_EQ(m.layers[0].bound, "compute");
  EXPECT_NEAR(m.layers[0].time_s, 2e-3, 1e-15);
  EXPECT_NEAR(*m.layers[0].energy_J, 0.038, 1e-12);
  EXPECT_EQ(m.layers[1].ceiling, "fp16");
  EXPECT_EQ(m.layers[1].bound, "memory");
  EXPECT_NEAR(m.layers[1].time_s, 2e-3, 1e-15);
  EXPECT_NEAR(*m.layers[1].energy_J, 0.04002, 1e-12);
  EXPECT_EQ(m.layers[2].bound, "memory");
  EXPECT_NEAR(*m.layers[2].energy_J, 0.101, 1e-12);
  EXPECT_NEAR(m.latency_s, 9e-3, 1e-15);
  EXPECT_NEAR(*m.energy_J, 0.17902, 1e-12);
  EXPECT_TRUE(m.note.empty());
}

// Without a tensor ceiling the GEMM-like layers fall back to fp16:
//   conv1: 8e9/1e12 = 8 ms, e = 8e9·2e-12 + 0.01 + 0.08 = 0.106 J; relu1 as before;
//   fc: 1e9/1e12 = 1 ms < 5 ms -> memory, e = 1e9·2e-12 + 0.05 + 0.05 = 0.102 J; total 15 ms, 0.24802 J
TEST(Predict, TensorLayersFallBackToThePlainCeiling) {
  const auto p = predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{}, {"no-tensor"});
  ASSERT_EQ(p.modes.size(), 1u);
  const auto& m = p.modes[0];
  EXPECT_EQ(m.layers[0].ceiling, "fp16");
  EXPECT_NEAR(m.layers[0].time_s, 8e-3, 1e-15);
  EXPECT_NEAR(m.latency_s, 15e-3, 1e-15);
  EXPECT_NEAR(*m.energy_J, 0.24802, 1e-12);
}

TEST(Predict, ModeWithoutEnergyPredictsLatencyOnlyAndSaysSo) {
  const auto p = predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{}, {"no-sensor"});
  const auto& m = p.modes[0];
  EXPECT_NEAR(m.latency_s, 9e-3, 1e-15);
  EXPECT_FALSE(m.energy_J);
  EXPECT_NE(m.note.find("latency only"), std::string::npos);
  const auto j = to_json(p);
  EXPECT_TRUE(j["modes"][0]["energy_J"].is_null());
  EXPECT_TRUE(j["modes"][0]["layers"][0]["energy_J"].is_null());
}

TEST(Predict, CosterTotalsEqualThePerLayerSums) {
  const auto r = load_rooflines(data_dir + "toy_rooflines.json");
  const auto w = toy();
  const WorkloadCoster coster(w, PredictOptions{});
  const auto p = predict(w, r, PredictOptions{});
  for (std::size_t i = 0; i < r.modes.size(); ++i) {
    const auto c = coster.cost(r.modes[i]);
    EXPECT_EQ(c.key, r.modes[i].key);
    EXPECT_NEAR(c.latency_s, p.modes[i].latency_s, 1e-15);
    EXPECT_EQ(c.energy_J.has_value(), p.modes[i].energy_J.has_value());
    if (c.energy_J) {
      EXPECT_NEAR(*c.energy_J, *p.modes[i].energy_J, 1e-12);
    }
  }
}

TEST(Predict, MissingCeilingIsOneClearError) {
  auto w = toy();
  w.layers[1].dtype = "bf16";
  try {
    (void)predict(w, load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("mode nvp0-maxn has no compute ceiling for cuda/bf16"), std::string::npos);
  }
  EXPECT_THROW(
      (void)predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{"cpu", "dram", nullptr}),
      InputError);
  EXPECT_THROW((void)predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{}, {"nope"}),
               InputError);
}

TEST(Predict, CostModesLeavesOutModesLackingACeiling) {
  auto r = load_rooflines(data_dir + "toy_rooflines.json");
  r.modes[1].compute_flops_per_s.erase("cuda/fp16");  // "no-tensor" has nothing left for fp16
  const auto costed = cost_modes(toy(), r, PredictOptions{});
  ASSERT_EQ(costed.costs.size(), 2u);
  EXPECT_EQ(costed.costs[0].key, "nvp0-maxn");
  EXPECT_EQ(costed.costs[1].key, "no-sensor");
  EXPECT_EQ(costed.skipped, 1u);
  EXPECT_NE(costed.first_reason.find("mode no-tensor has no compute ceiling for cuda/fp16"), std::string::npos);
  auto w = toy();
  w.layers[0].dtype = "int8";
  EXPECT_THROW((void)cost_modes(w, r, PredictOptions{}), InputError);  // no mode measured int8
}

// conv1 measured at 2.4, 2.5 and 2.9 ms: median 2.5 ms, predicted 2 ms -> error -20%. The bs:8
// and cpu benchmarks match no layer of this prediction.
TEST(Predict, MeasuredLayerBenchmarksSitBesideThePrediction) {
  auto p = predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{});
  EXPECT_EQ(attach_measurements(p, {load_results(data_dir + "toy_layers.json")}), 1u);
  const auto& conv = p.modes[0].layers[0];
  ASSERT_TRUE(conv.measured_s);
  EXPECT_NEAR(*conv.measured_s, 2.5e-3, 1e-15);
  EXPECT_NEAR(*conv.error(), -0.2, 1e-12);
  EXPECT_FALSE(p.modes[0].layers[2].measured_s);
  EXPECT_FALSE(p.modes[1].layers[0].measured_s);  // another mode's key
  EXPECT_NEAR(to_json(p)["modes"][0]["layers"][0]["error"].get<double>(), -0.2, 1e-12);
}

// A training step: "fc/bwd_data" is measured under its own name (6 ms); "conv2" has conv1's
// shape (same FLOPs and bytes) and so shares conv1's benchmark (2.5 ms); "conv3" differs in bytes
// and has no measurement.
TEST(Predict, BackwardLayersAndRepeatedShapesFindTheirBenchmark) {
  auto w = toy();
  auto conv2 = w.layers[0];
  conv2.name = "conv2";
  auto conv3 = conv2;
  conv3.name = "conv3";
  conv3.bytes *= 2.0;
  auto fc_bwd = w.layers[2];
  fc_bwd.name = "fc/bwd_data";
  fc_bwd.phase = "backward_data";
  fc_bwd.bytes = 5.2e8;
  w.layers.insert(w.layers.end(), {conv2, conv3, fc_bwd});
  auto p = predict(w, load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{}, {"nvp0-maxn"});
  EXPECT_EQ(attach_measurements(p, {load_results(data_dir + "toy_layers.json")}), 3u);
  const auto& layers = p.modes[0].layers;
  EXPECT_NEAR(*layers[3].measured_s, 2.5e-3, 1e-15);
  EXPECT_FALSE(layers[4].measured_s);
  EXPECT_NEAR(*layers[5].measured_s, 6e-3, 1e-15);
  EXPECT_FALSE(layers[2].measured_s);  // fc forward: only bs:8 and cpu benchmarks exist
}

// A plain edgeroof-bench run names no power mode: with one mode predicted it is that mode's.
TEST(Predict, ResultsWithoutAModeBelongToTheOnlyModePredicted) {
  auto layers = load_results(data_dir + "toy_layers.json");
  layers.context.erase("power_mode.key");
  auto one = predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{}, {"no-tensor"});
  EXPECT_EQ(attach_measurements(one, {layers}), 1u);
  EXPECT_NEAR(*one.modes[0].layers[0].measured_s, 2.5e-3, 1e-15);
  auto all = predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{});
  EXPECT_EQ(attach_measurements(all, {layers}), 0u);  // several modes: the file's stem is no mode key
}

TEST(Predict, JsonFollowsTheContract) {
  const auto j = to_json(predict(toy(), load_rooflines(data_dir + "toy_rooflines.json"), PredictOptions{}));
  EXPECT_EQ(j["model"], "toy");
  EXPECT_EQ(j["batch"], 4);
  const auto& m = j["modes"][0];
  for (const char* key : {"key", "latency_s", "energy_J", "layers"}) EXPECT_TRUE(m.contains(key)) << key;
  for (const char* key : {"name", "op", "phase", "flops", "bytes", "time_s", "energy_J", "bound"}) {
    EXPECT_TRUE(m["layers"][0].contains(key)) << key;
  }
}

namespace {

// One compute-bound fp32 layer, W = 1e10 FLOP, Q = 1e8 B.
edgeroof::dnn::Workload one_layer() {
  edgeroof::dnn::Workload w;
  w.model = "one-layer";
  w.layers.push_back({"gemm", "linear", "forward", {}, {}, 1e10, 1e8, "fp32", false, {}});
  return w;
}

// F = 4e12 [3e12, 5e12], B = 1e11 [8e10, 1.2e11], ε_flop = 2e-12 [1e-12, 3e-12],
// ε_byte = 1e-10 [5e-11, 2e-10], π0 = 10 [8, 12] W.
RooflineMode mode_with_intervals() {
  RooflineMode m;
  m.key = "c8-gpu612000000";
  m.source = "modeled";
  m.extrapolated = {"gpu_hz"};
  m.compute_flops_per_s["cuda/fp32"] = {4e12, "", Interval{3e12, 5e12}};
  m.bandwidth_bytes_per_s["cuda/dram"] = {1e11, "", Interval{8e10, 1.2e11}};
  EnergyFit fit;
  fit.eps_flop_J["fp32"] = 2e-12;
  fit.eps_flop_ci95["fp32"] = {1e-12, 3e-12};
  fit.eps_byte_J["dram"] = 1e-10;
  fit.eps_byte_ci95["dram"] = {5e-11, 2e-10};
  fit.static_W = 10.0;
  fit.static_ci95 = Interval{8.0, 12.0};
  m.energy["cuda"] = fit;
  return m;
}

}  // namespace

// t = max(W/F, Q/B): 2.5 ms; low end max(1e10/5e12, 1e8/1.2e11) = 2 ms, high end
// max(1e10/3e12, 1e8/8e10) = 3.333 ms.
// E = 0.02 + 0.01 + 10·0.0025 = 0.055 J; low 0.01 + 0.005 + 8·0.002 = 0.031 J; high
// 0.03 + 0.02 + 12·(1/300) = 0.09 J. Power (work / t + π0): 22 W; low 0.015/(1/300) + 8 = 12.5 W,
// high 0.05/0.002 + 12 = 37 W.
TEST(Predict, IntervalsOfTheFiguresBoundLatencyEnergyAndPower) {
  const WorkloadCoster coster(one_layer(), PredictOptions{});
  const auto c = coster.cost(mode_with_intervals());
  EXPECT_NEAR(c.latency_s, 2.5e-3, 1e-15);
  ASSERT_TRUE(c.latency_ci95 && c.energy_ci95 && c.power_ci95);
  EXPECT_NEAR(c.latency_ci95->lo, 2e-3, 1e-15);
  EXPECT_NEAR(c.latency_ci95->hi, 1.0 / 300.0, 1e-15);
  EXPECT_NEAR(*c.energy_J, 0.055, 1e-15);
  EXPECT_NEAR(c.energy_ci95->lo, 0.031, 1e-15);
  EXPECT_NEAR(c.energy_ci95->hi, 0.09, 1e-15);
  EXPECT_NEAR(c.power_ci95->lo, 12.5, 1e-12);
  EXPECT_NEAR(c.power_ci95->hi, 37.0, 1e-12);
  EXPECT_DOUBLE_EQ(c.latency_high_s(), c.latency_ci95->hi);
  EXPECT_TRUE(c.modeled());
  EXPECT_EQ(c.extrapolated, std::vector<std::string>{"gpu_hz"});
  // predict() sums the same bounds layer by layer, and says where they come from.
  const auto p = predict(one_layer(), Rooflines{{mode_with_intervals()}, {}}, PredictOptions{});
  const auto& m = p.modes.at(0);
  EXPECT_EQ(m.source, "modeled");
  ASSERT_TRUE(m.latency_ci95 && m.energy_ci95 && m.layers.at(0).time_ci95);
  EXPECT_NEAR(m.latency_ci95->hi, 1.0 / 300.0, 1e-15);
  EXPECT_NEAR(m.energy_ci95->lo, 0.031, 1e-15);
  EXPECT_NEAR(m.energy_ci95->hi, 0.09, 1e-15);
  EXPECT_NEAR(m.layers[0].time_ci95->lo, 2e-3, 1e-15);
  const auto j = to_json(p)["modes"][0];
  EXPECT_EQ(j["source"], "modeled");
  EXPECT_EQ(j["extrapolated"], nlohmann::json::array({"gpu_hz"}));
  ASSERT_EQ(j["latency_s_ci95"].size(), 2u);
  EXPECT_NEAR(j["latency_s_ci95"][0].get<double>(), 2e-3, 1e-15);
  EXPECT_NEAR(j["energy_J_ci95"][1].get<double>(), 0.09, 1e-15);
  EXPECT_NEAR(j["layers"][0]["time_s_ci95"][1].get<double>(), 1.0 / 300.0, 1e-15);
}

// A mode without intervals gets none (null in the JSON); one interval is enough for bounds.
TEST(Predict, BoundsOnlyWhereTheFiguresHaveIntervals) {
  RooflineMode m = mode_with_intervals();
  m.source = "measured";
  m.extrapolated.clear();
  m.compute_flops_per_s["cuda/fp32"].ci95.reset();
  m.bandwidth_bytes_per_s["cuda/dram"].ci95.reset();
  auto& fit = m.energy["cuda"];
  fit.eps_flop_ci95.clear();
  fit.eps_byte_ci95.clear();
  fit.static_ci95.reset();
  const WorkloadCoster coster(one_layer(), PredictOptions{});
  const auto none = coster.cost(m);
  EXPECT_FALSE(none.latency_ci95 || none.energy_ci95 || none.power_ci95);
  EXPECT_FALSE(none.modeled());
  EXPECT_DOUBLE_EQ(none.latency_high_s(), 2.5e-3);
  const auto j = to_json(predict(one_layer(), Rooflines{{m}, {}}, PredictOptions{}))["modes"][0];
  EXPECT_EQ(j["source"], "measured");
  EXPECT_TRUE(j["latency_s_ci95"].is_null());
  EXPECT_TRUE(j["energy_J_ci95"].is_null());
  EXPECT_FALSE(j.contains("extrapolated"));
  // π0 alone: the latency is exact, the energy spans 8..12 W times it.
  fit.static_ci95 = Interval{8.0, 12.0};
  const auto p0 = coster.cost(m);
  ASSERT_TRUE(p0.latency_ci95 && p0.energy_ci95);
  EXPECT_DOUBLE_EQ(p0.latency_ci95->lo, 2.5e-3);
  EXPECT_DOUBLE_EQ(p0.latency_ci95->hi, 2.5e-3);
  EXPECT_NEAR(p0.energy_ci95->lo, 0.03 + 8.0 * 2.5e-3, 1e-15);
  EXPECT_NEAR(p0.energy_ci95->hi, 0.03 + 12.0 * 2.5e-3, 1e-15);
}

TEST(Predict, IntervalsThatCannotBeRealAreOneClearError) {
  const WorkloadCoster coster(one_layer(), PredictOptions{});
  auto expect_refused = [&](const RooflineMode& m, const std::string& message) {
    try {
      (void)coster.cost(m);
      ADD_FAILURE() << "no error for " << message;
    } catch (const InputError& e) {
      EXPECT_EQ(e.what(), message);
    }
  };
  auto m = mode_with_intervals();
  m.compute_flops_per_s["cuda/fp32"].ci95 = Interval{5e12, 6e12};
  expect_refused(m,
                 "mode c8-gpu612000000: compute_flops_per_s_ci95.cuda/fp32 = [5e+12, 6e+12] does not hold the "
                 "figure 4e+12");
  m = mode_with_intervals();
  m.bandwidth_bytes_per_s["cuda/dram"].ci95 = Interval{0.0, 2e11};
  expect_refused(m,
                 "mode c8-gpu612000000: bandwidth_bytes_per_s_ci95.cuda/dram = [0, 2e+11] has a lower end that is "
                 "not positive");
  m = mode_with_intervals();
  m.energy["cuda"].eps_byte_ci95["dram"] = {-1e-10, 2e-10};
  expect_refused(m,
                 "mode c8-gpu612000000: energy.cuda.eps_byte_J_ci95.dram = [-1e-10, 2e-10] has a negative lower "
                 "end");
  m = mode_with_intervals();
  m.energy["cuda"].static_ci95 = Interval{8.0, std::numeric_limits<double>::infinity()};
  expect_refused(m, "mode c8-gpu612000000: energy.cuda.static_W_ci95 = [8, inf] is not finite");
  // A lower end that passes but is too small to be real: the high end would be inf, never returned.
  m = mode_with_intervals();
  m.compute_flops_per_s["cuda/fp32"].ci95 = Interval{1e-300, 5e12};
  expect_refused(m,
                 "mode c8-gpu612000000: the 95% bounds of the predicted latency are not finite: the intervals of "
                 "its figures cannot be real");
  EXPECT_EQ(cost_modes(one_layer(), Rooflines{{m, mode_with_intervals()}, {}}, PredictOptions{}).skipped, 1u);
}
