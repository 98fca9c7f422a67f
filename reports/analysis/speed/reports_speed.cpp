// How fast reports/ turns a full Orin AGX grid sweep into a decision: 4,368 power modes (6 core
// counts x 14 CPU x 13 GPU x 4 EMC frequencies) of synthetic benchmark results, fitted and then
// tuned for 5 zoo models. Synthetic because no board measured the whole grid; the work per mode
// (benchmarks, repetitions, layers) is that of a real sweep with one repetition per benchmark.
#include "edgeroof/power/mode.hpp"
#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "edgeroof/reports/plan.hpp"
#include "edgeroof/reports/tune.hpp"
#include "modespace_board.hpp"
#include "synthetic_results.hpp"

#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>

namespace {

using namespace edgeroof;

std::vector<std::string> grid_results() {
  const std::vector<std::int64_t> gpu_hz = {114750000,  216750000,  318750000, 420750000, 522750000,
                                            624750000,  726750000,  828750000, 930750000, 1032750000,
                                            1134750000, 1236750000, 1300500000};
  const std::vector<std::int64_t> emc_hz = {204000000, 665600000, 2133000000, 3199000000};
  std::vector<std::string> out;
  unsigned seed = 1;
  for (int cores = 2; cores <= 12; cores += 2) {
    for (int step = 0; step < 14; ++step) {
      const std::int64_t cpu_khz = 268800 + step * (2201600 - 268800) / 13;
      for (const auto gpu : gpu_hz) {
        for (const auto emc : emc_hz) {
          const double g = static_cast<double>(gpu) / 1300500000.0, e = static_cast<double>(emc) / 3199000000.0;
          const double c = static_cast<double>(cpu_khz) / 2201600.0 * cores / 12.0;
          testing::SyntheticMode m;
          m.key = power::grid_key(cores, cpu_khz, gpu, emc);
          m.name = cores == 12 && step == 13 && g == 1.0 && e == 1.0 ? "MAXN" : m.key;
          m.gpu_hz = gpu;
          m.emc_hz = emc;
          m.id.reset();
          m.repetitions = 1;
          for (auto& [k, v] : m.flops_per_s) v *= g;
          for (auto& [k, v] : m.bytes_per_s) v *= std::min(1.0, 0.1 + e);
          const double volt = 0.6 + 0.4 * g;  // dynamic energy per operation grows with V²
          for (auto& [k, v] : m.eps_flop_J) v *= volt * volt;
          m.static_W = 2.0 + 3.0 * c + 4.0 * g + 2.0 * e;
          out.push_back(testing::synthetic_results(m, seed++));
        }
      }
    }
  }
  return out;
}

const std::vector<std::string>& texts() {
  static const auto t = grid_results();
  return t;
}

std::vector<reports::ResultsFile> parse_all() {
  static const std::vector<std::string> origins(texts().size(), "grid.json");
  return reports::parse_results(texts(), origins);
}

const std::vector<reports::ResultsFile>& parsed() {
  static const auto p = parse_all();
  return p;
}

const std::vector<dnn::Workload>& models() {
  static const auto w = [] {
    std::vector<dnn::Workload> out;
    for (const char* name : {"resnet50", "mobilenet_v3_large", "yolov8n", "bert_base", "vit_b_16"}) {
      dnn::WorkloadOptions o;
      o.batch = 16;
      out.push_back(dnn::build_workload(name, o));
    }
    return out;
  }();
  return w;
}

// A calibration of `w` made up for timing only (no figure of it is reported): efficiencies
// between 0.5 and 0.9 and 10 µs of overhead per layer, as calibrate() would leave them.
std::shared_ptr<const reports::Calibration> timing_calibration(const dnn::Workload& w) {
  auto c = std::make_shared<reports::Calibration>();
  c->model = w.model;
  c->backend = "cuda";
  c->batch = w.batch;
  c->overhead_s = 10e-6;
  for (std::size_t i = 0; i < w.layers.size(); ++i)
    c->layers.push_back({"layer", 0.5 + 0.1 * static_cast<double>(i % 5), std::nullopt});
  return c;
}

std::size_t tune_all(const reports::Rooflines& r, bool calibrated = false) {
  std::size_t layers = 0;
  for (const auto& w : models()) {
    reports::PredictOptions options;
    if (calibrated) options.calibration = timing_calibration(w);
    const auto costed = reports::cost_modes(w, r, options);
    benchmark::DoNotOptimize(reports::tune(costed.costs, {reports::TuneConstraint::Kind::max_slowdown, 0.05}));
    layers += w.layers.size();
  }
  return layers;
}

void set_counters(benchmark::State& state) {
  state.counters["modes"] = static_cast<double>(texts().size());
  state.counters["models"] = static_cast<double>(models().size());
}

// Google Benchmark JSON text -> ResultsFile, every mode.
void BM_ParseResults(benchmark::State& state) {
  (void)texts();
  for (auto _ : state) benchmark::DoNotOptimize(parse_all());
  set_counters(state);
}

// Time and energy rooflines (NNLS per mode) of every mode from parsed results.
void BM_Fit(benchmark::State& state) {
  (void)parsed();
  for (auto _ : state) benchmark::DoNotOptimize(reports::fit_rooflines(parsed()));
  set_counters(state);
}

// Predict every mode and tune, for 5 models.
void BM_Tune(benchmark::State& state) {
  const auto r = reports::fit_rooflines(parsed());
  (void)models();
  std::size_t layers = 0;
  for (auto _ : state) layers = tune_all(r);
  set_counters(state);
  state.counters["layers"] = static_cast<double>(layers);
}

// The same, every mode costed calibrated (tune --calibrate): one multiplication more per layer.
void BM_TuneCalibrated(benchmark::State& state) {
  const auto r = reports::fit_rooflines(parsed());
  (void)models();
  std::size_t layers = 0;
  for (auto _ : state) layers = tune_all(r, true);
  set_counters(state);
  state.counters["layers"] = static_cast<double>(layers);
}

// The target: fit + tune over 4,368 modes for 5 models.
void BM_FitAndTune(benchmark::State& state) {
  (void)parsed();
  (void)models();
  for (auto _ : state) benchmark::DoNotOptimize(tune_all(reports::fit_rooflines(parsed())));
  set_counters(state);
}

// The same from the JSON text, as `edgeroof fit` + `edgeroof tune` read it.
void BM_ParseFitAndTune(benchmark::State& state) {
  (void)texts();
  (void)models();
  for (auto _ : state) benchmark::DoNotOptimize(tune_all(reports::fit_rooflines(parse_all())));
  set_counters(state);
}

// 44 measured modes of the physics board (tests/analysis/modespace_board.hpp) and its 4,368 modes.
struct Sampled {
  std::vector<reports::ModeKnobs> all;
  reports::Rooflines measured;
};
const Sampled& sampled() {
  static const Sampled s = [] {
    Sampled out;
    const testing::PhysicsBoard board;
    out.all = board.modes();
    std::mt19937 rng(5);
    for (std::size_t i = 0; i < out.all.size(); i += 99)
      out.measured.modes.push_back(board.mode(out.all[i], 0.01, rng));
    return out;
  }();
  return s;
}

// The mode-space model fitted to 44 modes and every mode predicted, written and read back as
// rooflines.json text: what `edgeroof fit --predict-modes` adds to the fit.
void BM_PredictModes(benchmark::State& state) {
  const auto& s = sampled();
  for (auto _ : state) {
    const auto text = reports::to_json(reports::predict_modes(s.measured, s.all)).dump();
    benchmark::DoNotOptimize(reports::rooflines_from_json(nlohmann::json::parse(text), "rooflines.json"));
  }
  state.counters["modes"] = static_cast<double>(s.all.size());
  state.counters["measured"] = static_cast<double>(s.measured.modes.size());
}

// One plan of 11 modes with 44 measured, over 4,368 candidates.
void BM_Plan(benchmark::State& state) {
  const auto& s = sampled();
  reports::PlanOptions o;
  o.budget = 55;
  for (auto _ : state) benchmark::DoNotOptimize(reports::plan_modes(s.all, s.measured, o));
  state.counters["modes"] = static_cast<double>(s.all.size());
}

BENCHMARK(BM_ParseResults)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Fit)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Tune)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TuneCalibrated)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FitAndTune)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ParseFitAndTune)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PredictModes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Plan)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
