// Calibrated prediction (calibrate.hpp) on a hand-made three-layer workload and two modes in
// tests/data/reports/calib; the expected figures are derived by hand in the comments.
//
//   mode fast: F = 1e11 FLOP/s, B = 2e10 B/s        mode slow: F = 5e10, B = 2.5e9
//   conv1 W = 4e9, Q = 4e7:  40 ms compute               80 ms compute (Q/B = 16 ms)
//   conv2 W = 1e9, Q = 1e8:  10 ms compute (Q/B = 5 ms)  40 ms memory (W/F = 20 ms): switches side
//   relu  W = 1e6, Q = 2e8:  10 ms memory                80 ms memory
//   bound latency            60 ms                       200 ms
//
// tri_layers.json (mode fast): conv1 49, 52, 50 ms (median 50): η = 40/50 = 0.8; conv2 20 ms:
// η = 10/20 = 0.5; relu unmeasured and alone of its op: η = 1 ("none"). Σ t̂ = 50 + 20 + 10 = 80 ms.
// Its model benchmark: 89 ms, coverage 1 -> Δ = 9 ms, o = 3 ms per layer.
#include "edgeroof/reports/calibrate.hpp"
#include "edgeroof/reports/predict.hpp"

#include "workload_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

using namespace edgeroof::reports;

namespace {

const std::string calib_dir = std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/calib/";

edgeroof::dnn::Workload tri() { return edgeroof::test::workload_file(calib_dir + "tri_workload.json"); }

Rooflines two_modes() { return load_rooflines(calib_dir + "tri_rooflines.json"); }

ResultsFile layers_file() { return load_results(calib_dir + "tri_layers.json"); }

// The layers file with the model benchmark's time set to `ms` (or the benchmark removed, ms < 0).
ResultsFile with_model_ms(double ms) {
  auto f = layers_file();
  for (auto it = f.benchmarks.begin(); it != f.benchmarks.end(); ++it) {
    if (it->name.rfind("model/", 0) != 0) continue;
    if (ms < 0) {
      f.benchmarks.erase(it);
      return f;
    }
    it->real_time_s = ms * 1e-3;
  }
  return f;
}

PredictOptions calibrated(const edgeroof::dnn::Workload& w, const Rooflines& r, const std::vector<ResultsFile>& files) {
  PredictOptions o{"cpu", "dram", nullptr};
  o.calibration = std::make_shared<const Calibration>(calibrate(w, r, o, files));
  return o;
}

std::string error_of(const std::vector<ResultsFile>& files, const Rooflines& r = two_modes()) {
  try {
    (void)calibrate(tri(), r, PredictOptions{"cpu", "dram", nullptr}, files);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// Δ = 9 ms > 0: o = 3 ms. fast: 53 + 23 + 13 = 89 ms (the model benchmark, by construction).
// slow: conv1 3 + 80/0.8 = 103 ms, conv2 3 + 40/0.5 = 83 ms (memory-bound now: its η scales the
// memory side), relu 3 + 80 = 83 ms; 269 ms against a bound of 200 ms.
// Energy in slow: conv1 4e9·1e-11 + 4e7·1e-10 + 5·0.103 = 0.559 J; the mode
// 5.001e9·1e-11 + 3.4e8·1e-10 + 5·0.269 = 0.08401 + 1.345 = 1.42901 J.
TEST(Calibrate, OverheadFromTheModelBenchmarkAndBothModes) {
  const auto w = tri();
  const auto r = two_modes();
  const auto o = calibrated(w, r, {layers_file()});
  const auto& cal = *o.calibration;
  EXPECT_EQ(cal.mode_key, "fast");
  ASSERT_EQ(cal.layers.size(), 3u);
  EXPECT_EQ(cal.layers[0].source, "layer");
  EXPECT_NEAR(cal.layers[0].efficiency, 0.8, 1e-12);
  EXPECT_NEAR(*cal.layers[0].measured_s, 50e-3, 1e-15);
  EXPECT_NEAR(cal.layers[1].efficiency, 0.5, 1e-12);
  EXPECT_EQ(cal.layers[2].source, "none");
  EXPECT_DOUBLE_EQ(cal.layers[2].efficiency, 1.0);
  EXPECT_NEAR(cal.layer_sum_s, 80e-3, 1e-15);
  EXPECT_TRUE(cal.model_used);
  EXPECT_NEAR(cal.overhead_s, 3e-3, 1e-15);
  EXPECT_DOUBLE_EQ(cal.scale, 1.0);

  const auto p = predict(w, r, o);
  ASSERT_EQ(p.modes.size(), 2u);
  const auto& fast = p.modes[0];
  EXPECT_TRUE(fast.calibrated);
  EXPECT_NEAR(fast.latency_s, 89e-3, 1e-15);
  EXPECT_NEAR(fast.bound_latency_s, 60e-3, 1e-15);
  EXPECT_NEAR(fast.layers[0].time_s, 53e-3, 1e-15);
  EXPECT_NEAR(fast.layers[0].bound_s, 40e-3, 1e-15);
  const auto& slow = p.modes[1];
  EXPECT_NEAR(slow.layers[0].time_s, 103e-3, 1e-15);
  EXPECT_EQ(fast.layers[1].bound, "compute");
  EXPECT_EQ(slow.layers[1].bound, "memory");
  EXPECT_NEAR(slow.layers[1].time_s, 83e-3, 1e-15);
  EXPECT_NEAR(slow.layers[2].time_s, 83e-3, 1e-15);
  EXPECT_EQ(slow.layers[2].calibration, "none");
  EXPECT_NEAR(slow.layers[2].overhead_s, 3e-3, 1e-15);
  EXPECT_NEAR(slow.latency_s, 269e-3, 1e-15);
  EXPECT_NEAR(slow.bound_latency_s, 200e-3, 1e-15);
  EXPECT_NEAR(*slow.layers[0].energy_J, 0.559, 1e-12);
  EXPECT_NEAR(*slow.energy_J, 1.42901, 1e-12);

  // tune's coster charges every mode the same.
  const auto costed = cost_modes(w, r, o);
  ASSERT_EQ(costed.costs.size(), 2u);
  EXPECT_TRUE(costed.costs[1].calibrated);
  EXPECT_NEAR(costed.costs[0].latency_s, 89e-3, 1e-15);
  EXPECT_NEAR(costed.costs[1].latency_s, 269e-3, 1e-15);
  EXPECT_NEAR(costed.costs[1].bound_latency_s, 200e-3, 1e-15);
  EXPECT_NEAR(*costed.costs[1].energy_J, 1.42901, 1e-12);

  const auto j = to_json(p);
  EXPECT_EQ(j["calibration"]["mode"], "fast");
  EXPECT_NEAR(j["calibration"]["overhead_s"].get<double>(), 3e-3, 1e-15);
  EXPECT_EQ(j["calibration"]["layers"]["layer"], 2);
  EXPECT_EQ(j["calibration"]["model_benchmark"]["name"], "model/cpu/tri/inference/bs:1");
  EXPECT_NEAR(j["modes"][1]["bound_latency_s"].get<double>(), 200e-3, 1e-15);
  EXPECT_EQ(j["modes"][1]["calibrated"], true);
  EXPECT_EQ(j["modes"][1]["layers"][0]["calibration"], "layer");
  EXPECT_NEAR(j["modes"][1]["layers"][1]["efficiency"].get<double>(), 0.5, 1e-12);
  // Two benchmarks of other models or batches were ignored and said to be.
  EXPECT_NE(cal.notes.back().find("ignored 2 layer or model benchmark(s)"), std::string::npos) << cal.notes.back();
}

// Δ = 200 − 80 = 120 ms: Δ / N = 40 ms is more than the fastest measured layer (conv2, 20 ms), so
// o = 20 ms and the rest scales: s = 80 / (200 − 3·20) = 4/7 (conv1 η 3.2/7, conv2 2/7, relu 4/7).
// fast: conv1 20 + 40·7/3.2 = 107.5, conv2 20 + 35 = 55, relu 20 + 17.5 = 37.5: 200 ms.
// slow: conv1 20 + 80·7/3.2 = 195, conv2 20 + 40·7/2 = 160, relu 20 + 80·7/4 = 160: 515 ms.
TEST(Calibrate, OverheadBeyondTheFastestLayerScalesTheLayers) {
  const auto w = tri();
  const auto r = two_modes();
  const auto o = calibrated(w, r, {with_model_ms(200.0)});
  EXPECT_NEAR(o.calibration->overhead_s, 20e-3, 1e-15);
  EXPECT_NEAR(o.calibration->scale, 4.0 / 7.0, 1e-12);
  EXPECT_NEAR(o.calibration->layers[0].efficiency, 3.2 / 7.0, 1e-12);
  const auto p = predict(w, r, o);
  EXPECT_NEAR(p.modes[0].latency_s, 200e-3, 1e-12);
  EXPECT_NEAR(p.modes[0].layers[0].time_s, 107.5e-3, 1e-12);
  EXPECT_NEAR(p.modes[1].layers[0].time_s, 195e-3, 1e-12);
  EXPECT_NEAR(p.modes[1].layers[1].time_s, 160e-3, 1e-12);
  EXPECT_NEAR(p.modes[1].latency_s, 515e-3, 1e-12);
  const auto costed = cost_modes(w, r, o);
  EXPECT_NEAR(costed.costs[1].latency_s, 515e-3, 1e-12);
  bool said = false;
  for (const auto& n : o.calibration->notes)
    said = said || n.find(
                       "at most the fastest layer's 0.02 s; the layers run slower in sequence than alone (cold "
                       "caches): every efficiency scaled by 0.5714") != std::string::npos;
  EXPECT_TRUE(said) << o.calibration->notes.back();
}

// Δ = 64 − 80 < 0: o = 0, every η scaled by 80/64 = 1.25 (conv1 1.0, conv2 0.625, relu 1.25).
// fast: 40 + 16 + 8 = 64 ms; slow: 80 + 40/0.625 + 80/1.25 = 80 + 64 + 64 = 208 ms.
TEST(Calibrate, AModelFasterThanItsLayersScalesEveryEfficiency) {
  const auto o = calibrated(tri(), two_modes(), {with_model_ms(64.0)});
  EXPECT_DOUBLE_EQ(o.calibration->overhead_s, 0.0);
  EXPECT_NEAR(o.calibration->scale, 1.25, 1e-12);
  EXPECT_NEAR(o.calibration->layers[2].efficiency, 1.25, 1e-12);
  EXPECT_TRUE(o.calibration->layers[2].beats_bound());
  const auto p = predict(tri(), two_modes(), o);
  EXPECT_NEAR(p.modes[0].latency_s, 64e-3, 1e-15);
  EXPECT_NEAR(p.modes[1].latency_s, 208e-3, 1e-15);
  EXPECT_NEAR(p.modes[1].layers[1].time_s, 64e-3, 1e-15);
}

// Without a model benchmark o = 0 and the notes say so: slow 100 + 80 + 80 = 260 ms. A model
// benchmark that skipped layers (coverage 0.9) is not used either.
TEST(Calibrate, WithoutACompleteModelBenchmarkNoOverhead) {
  const auto none = calibrated(tri(), two_modes(), {with_model_ms(-1)});
  EXPECT_FALSE(none.calibration->model_run);
  EXPECT_DOUBLE_EQ(none.calibration->overhead_s, 0.0);
  bool said = false;
  for (const auto& n : none.calibration->notes)
    said = said || n.find("no model benchmark model/cpu/tri/inference/bs:1 in the calibration files: overhead o = 0") !=
                       std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_NEAR(predict(tri(), two_modes(), none).modes[1].latency_s, 260e-3, 1e-15);

  auto partial = layers_file();
  for (auto& b : partial.benchmarks) {
    if (b.name.rfind("model/", 0) == 0) b.counters["coverage"] = 0.9;
  }
  const auto o = calibrated(tri(), two_modes(), {partial});
  ASSERT_TRUE(o.calibration->model_run);
  EXPECT_FALSE(o.calibration->model_used);
  EXPECT_DOUBLE_EQ(o.calibration->overhead_s, 0.0);
  EXPECT_NEAR(predict(tri(), two_modes(), o).modes[1].latency_s, 260e-3, 1e-15);
}

// conv3 (W = 2e9, Q = 2e7: 20 ms compute in fast, 40 ms in slow) has no benchmark: it takes the
// median η of the measured conv2d layers, (0.8 + 0.5) / 2 = 0.65: slow 40 / 0.65 ms. The relu,
// alone of its op, stays the pure bound.
TEST(Calibrate, LayersWithoutABenchmarkTakeTheirOpMedian) {
  auto w = tri();
  auto conv3 = w.layers[0];
  conv3.name = "conv3";
  conv3.flops = 2e9;
  conv3.bytes = 2e7;
  w.layers.push_back(conv3);
  PredictOptions o{"cpu", "dram", nullptr};
  o.calibration = std::make_shared<const Calibration>(calibrate(w, two_modes(), o, {with_model_ms(-1)}));
  EXPECT_EQ(o.calibration->layers[3].source, "op");
  EXPECT_NEAR(o.calibration->layers[3].efficiency, 0.65, 1e-12);
  EXPECT_EQ(o.calibration->count("op"), 1u);
  const auto p = predict(w, two_modes(), o);
  EXPECT_EQ(p.modes[1].layers[3].calibration, "op");
  EXPECT_NEAR(p.modes[1].layers[3].time_s, 40e-3 / 0.65, 1e-15);
  EXPECT_NEAR(p.modes[1].layers[3].bound_s, 40e-3, 1e-15);
}

// A layer faster than its bound keeps its η above 1, flagged: relu measured at 5 ms of a 10 ms bound.
TEST(Calibrate, ALayerFasterThanItsBoundIsKeptAndFlagged) {
  auto f = with_model_ms(-1);
  auto relu = f.benchmarks.front();
  relu.name = relu.run_name = "layer/cpu/tri/relu/fwd/bs:1";
  relu.counters["flops"] = 1e6;
  relu.counters["bytes"] = 2e8;
  relu.real_time_s = 5e-3;
  f.benchmarks.push_back(relu);
  const auto cal = calibrate(tri(), two_modes(), PredictOptions{"cpu", "dram", nullptr}, {f});
  EXPECT_EQ(cal.layers[2].source, "layer");
  EXPECT_NEAR(cal.layers[2].efficiency, 2.0, 1e-12);
  EXPECT_TRUE(cal.layers[2].beats_bound());
  bool flagged = false;
  for (const auto& n : cal.notes)
    flagged =
        flagged || n.find("1 layer(s) ran faster than their bound (efficiency above 1, kept") != std::string::npos;
  EXPECT_TRUE(flagged);
}

TEST(Calibrate, ModesOfTheFilesAreRefusedWhereTheyCannotBeCalibration) {
  auto other = layers_file();
  other.path = "slow.json";
  other.context["power_mode.key"] = "slow";
  EXPECT_EQ(error_of({layers_file(), other}),
            "slow.json: power_mode.key = slow, but " + calib_dir +
                "tri_layers.json is of mode fast: calibration files must come from one mode");
  auto unknown = layers_file();
  unknown.context["power_mode.key"] = "maxn";
  EXPECT_EQ(error_of({unknown}), calib_dir + "tri_layers.json: power_mode.key = maxn is not a mode of the rooflines");
  auto unnamed = layers_file();
  unnamed.context.erase("power_mode.key");
  EXPECT_EQ(error_of({unnamed}),
            calib_dir +
                "tri_layers.json: no power_mode.key in its context, and the rooflines hold 2 modes: calibration "
                "needs the mode it was measured in (edgeroof sweep writes it; or "
                "--benchmark_context=power_mode.key=KEY)");
  // One-mode rooflines: a file without a key is of that mode, as attach_measurements reads it.
  auto one = two_modes();
  one.modes.pop_back();
  const auto cal = calibrate(tri(), one, PredictOptions{"cpu", "dram", nullptr}, {unnamed});
  EXPECT_EQ(cal.mode_key, "fast");
  // Nothing of this workload at all.
  auto empty = layers_file();
  empty.benchmarks.clear();
  empty.path = "empty.json";
  EXPECT_EQ(error_of({empty}),
            "empty.json: no layer benchmark layer/cpu/tri/.../bs:1 and no model benchmark of it: nothing to calibrate "
            "with");
}

// Every hostile figure is one line naming the file, the benchmark and the field.
TEST(Calibrate, HostileFiguresAreOneLineNamingFileBenchmarkAndField) {
  const std::string file = calib_dir + "tri_layers.json: benchmark ";
  auto edit = [](const std::function<void(std::vector<BenchmarkRecord>&)>& change) {
    auto f = layers_file();
    change(f.benchmarks);
    return f;
  };
  EXPECT_EQ(error_of({edit([](auto& b) { b[4].real_time_s = 0.0; })}),
            file + "layer/cpu/tri/conv2/fwd/bs:1: real_time = 0 s is not positive");
  EXPECT_EQ(error_of({edit([](auto& b) { b[0].counters.erase("flops"); })}),
            file + "layer/cpu/tri/conv1/fwd/bs:1: no flops counter");
  EXPECT_EQ(error_of({edit([](auto& b) { b[4].counters["bytes"] = 0.0; })}),
            file + "layer/cpu/tri/conv2/fwd/bs:1: bytes = 0 is not positive");
  EXPECT_EQ(error_of({edit([](auto& b) { b[1].counters["flops"] = 5e9; })}),
            file +
                "layer/cpu/tri/conv1/fwd/bs:1: flops = 5000000000, bytes = 40000000 (repetition 1), but flops = "
                "4000000000, bytes = 40000000 in " +
                calib_dir + "tri_layers.json: one benchmark with two shapes");
  EXPECT_EQ(error_of({edit([](auto& b) { b[7].counters["coverage"] = 1.5; })}),
            file + "model/cpu/tri/inference/bs:1: coverage = 1.5 is outside [0, 1]");
  EXPECT_EQ(error_of({edit([](auto& b) { b[7].counters.erase("coverage"); })}),
            file + "model/cpu/tri/inference/bs:1: no coverage counter (the share of the model's FLOPs it ran)");
}

// A calibration is of one workload: another's is refused where it is used.
TEST(Calibrate, ACalibrationOfAnotherWorkloadIsRefused) {
  const auto o = calibrated(tri(), two_modes(), {layers_file()});
  auto w = tri();
  w.layers.pop_back();
  EXPECT_THROW((void)WorkloadCoster(w, o), InputError);
}

// The intervals of the bound go through the same formula: one layer of bound 2.5 ms [2, 3.333] ms,
// η = 0.5 and o = 1 ms: 6 ms [5, 7.667] ms. The energy charges π0 over the calibrated time:
// 0.03 + 10 · 0.006 = 0.09 J, the low end 0.015 + 8 · 0.005 = 0.055 J.
TEST(Calibrate, IntervalsOfTheBoundAreCarriedThroughTheFormula) {
  edgeroof::dnn::Workload w;
  w.model = "one-layer";
  w.layers.push_back({"gemm", "linear", "forward", {}, {}, 1e10, 1e8, "fp32", false, {}});
  RooflineMode m;
  m.key = "m";
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
  auto cal = std::make_shared<Calibration>();
  cal->model = "one-layer";
  cal->backend = "cuda";
  cal->overhead_s = 1e-3;
  cal->layers.push_back({"layer", 0.5, 5e-3});
  PredictOptions o;
  o.calibration = cal;
  const auto c = WorkloadCoster(w, o).cost(m);
  EXPECT_NEAR(c.latency_s, 6e-3, 1e-15);
  EXPECT_NEAR(c.bound_latency_s, 2.5e-3, 1e-15);
  ASSERT_TRUE(c.latency_ci95 && c.energy_ci95);
  EXPECT_NEAR(c.latency_ci95->lo, 5e-3, 1e-15);
  EXPECT_NEAR(c.latency_ci95->hi, 1e-3 + 2.0 / 300.0, 1e-15);
  EXPECT_NEAR(*c.energy_J, 0.09, 1e-15);
  EXPECT_NEAR(c.energy_ci95->lo, 0.055, 1e-15);
  const auto p = predict(w, Rooflines{{m}, {}}, o);
  EXPECT_NEAR(p.modes[0].layers[0].time_ci95->hi, 1e-3 + 2.0 / 300.0, 1e-15);
  EXPECT_NEAR(p.modes[0].energy_ci95->lo, 0.055, 1e-15);
}

TEST(Calibrate, ModelPhasesOfWorkloads) {
  auto w = tri();
  EXPECT_EQ(model_phase_of(w), "inference");
  w.phase = "training:sgd";
  EXPECT_EQ(model_phase_of(w), "train_sgd");
  w.phase = "training:adam";
  EXPECT_EQ(model_phase_of(w), "train_adam");
  w.phase = "training:sgd_momentum";
  EXPECT_FALSE(model_phase_of(w));
}

// A file of another workload beside the calibration is left out and named, not refused.
TEST(Calibrate, FilesOfOtherWorkloadsAreIgnoredAndNamed) {
  auto other = layers_file();
  other.path = "vgg16.json";
  other.context["power_mode.key"] = "slow";  // of another mode too: it holds nothing of tri
  other.benchmarks.erase(other.benchmarks.begin(), other.benchmarks.begin() + 5);
  other.benchmarks.erase(other.benchmarks.begin() + 1, other.benchmarks.end());  // vgg16's layer alone
  const auto cal = calibrate(tri(), two_modes(), PredictOptions{"cpu", "dram", nullptr}, {layers_file(), other});
  EXPECT_EQ(cal.files, std::vector<std::string>{calib_dir + "tri_layers.json"});
  EXPECT_EQ(cal.notes.back(), "ignored 1 file(s) without benchmarks of this workload: vgg16.json");
}
