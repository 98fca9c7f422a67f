// The mode-space model and the planner on a physics board (modespace_board.hpp): accuracy over a
// 4,368-mode grid from 44 measured modes, interval coverage, error falling with the budget, the
// refusals (a knob never varied, a bad modes file), extrapolation marks, and the planner's
// determinism and contract.
#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "edgeroof/reports/plan.hpp"
#include "edgeroof/reports/predict.hpp"
#include "edgeroof/reports/tune.hpp"
#include "modespace_board.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

namespace edgeroof::reports {
namespace {

using testing::PhysicsBoard;

// The figures' noise unit (modespace_board.hpp scales it per kind): 0.5% on ceilings, as a median
// of 3 repetitions at 1% gives; 1.5% on ε_flop, 2% on ε_byte and 1% on π0, as the energy fit of
// about 25 benchmarks at 1.5% noise leaves them.
constexpr double kNoise = 0.005;

struct Measured {
  Rooflines rooflines;
  std::vector<ModeKnobs> all;
};

// The figures of the modes `keys` with noise, as fit would have given them. Each mode's noise
// depends on its key and the seed only, as a stand-in board's results do: measuring a mode
// again with the same seed gives the same figures.
Rooflines measure(const PhysicsBoard& board, const std::vector<ModeKnobs>& all, const std::vector<std::string>& keys,
                  double noise, unsigned seed) {
  const std::set<std::string> wanted(keys.begin(), keys.end());
  Rooflines r;
  for (const auto& m : all) {
    if (!wanted.count(m.key)) continue;
    std::seed_seq mixed(m.key.begin(), m.key.end());
    std::mt19937 key_rng(mixed);
    std::mt19937 rng(key_rng() ^ seed);
    r.modes.push_back(board.mode(m, noise, rng));
  }
  return r;
}

std::vector<std::string> random_keys(const std::vector<ModeKnobs>& all, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> keys;
  for (const auto& m : all) keys.push_back(m.key);
  for (std::size_t i = keys.size(); i > 1; --i) std::swap(keys[i - 1], keys[rng() % i]);
  keys.resize(n);
  return keys;
}

// Plans and measures in rounds of `step` until `budget`, as `sweep --plan adaptive` does.
Rooflines planned(const PhysicsBoard& board, const std::vector<ModeKnobs>& all, std::size_t budget, std::size_t step,
                  double noise) {
  Rooflines measured;
  std::vector<std::string> keys;
  while (keys.size() < budget) {
    PlanOptions o;
    o.budget = budget;
    o.next = step;
    const auto plan = plan_modes(all, measured, o);
    if (plan.measure.empty()) break;
    keys.insert(keys.end(), plan.measure.begin(), plan.measure.end());
    measured = measure(board, all, keys, noise, 7);
  }
  return measured;
}

struct Errors {
  double latency_mape = 0.0, energy_mape = 0.0, coverage = 0.0;
};

// MAPE of the watched workloads' latency and energy over every mode, and the share of modes whose
// true static power lies in the modeled interval.
Errors errors(const Rooflines& predicted, const Rooflines& truth) {
  const auto p = watched_predictions(predicted), t = watched_predictions(truth);
  std::map<std::pair<std::string, std::string>, const WatchedPrediction*> truth_of;
  for (const auto& w : t) truth_of[{w.mode, w.model}] = &w;
  Errors e;
  std::size_t n = 0;
  for (const auto& w : p) {
    const auto* tw = truth_of.at({w.mode, w.model});
    e.latency_mape += std::abs(w.latency_s / tw->latency_s - 1.0);
    e.energy_mape += std::abs(*w.energy_J / *tw->energy_J - 1.0);
    ++n;
  }
  e.latency_mape /= static_cast<double>(n);
  e.energy_mape /= static_cast<double>(n);
  std::size_t covered = 0, modeled = 0;
  for (std::size_t i = 0; i < predicted.modes.size(); ++i) {
    const auto& m = predicted.modes[i];
    if (m.source != "modeled") continue;
    ++modeled;
    const double truth_W = truth.modes[i].energy.at("cuda").static_W;
    const auto& ci = *m.energy.at("cuda").static_ci95;
    if (truth_W >= ci.lo && truth_W <= ci.hi) ++covered;
  }
  e.coverage = static_cast<double>(covered) / static_cast<double>(modeled);
  return e;
}

class ModeSpace : public ::testing::Test {
protected:
  PhysicsBoard board;
  std::vector<ModeKnobs> all = board.modes();
  // Every mode measured (the seed planned() measures with): what the predictions are judged by.
  Rooflines truth = measure(board, all, keys_of(all), kNoise, 7);

  static std::vector<std::string> keys_of(const std::vector<ModeKnobs>& modes) {
    std::vector<std::string> k;
    for (const auto& m : modes) k.push_back(m.key);
    return k;
  }
};

TEST_F(ModeSpace, TheGridHas4368Modes) { EXPECT_EQ(all.size(), 4368u); }

TEST_F(ModeSpace, FortyFourPlannedModesPredictEveryModeWithin3Percent) {
  const auto measured = planned(board, all, 44, 11, kNoise);
  ASSERT_EQ(measured.modes.size(), 44u);
  const auto predicted = predict_modes(measured, all);
  ASSERT_EQ(predicted.modes.size(), 4368u);
  const auto e = errors(predicted, truth);
  std::printf("planned 44: latency MAPE %.2f%%, energy MAPE %.2f%%, static_W coverage %.1f%%\n", 100 * e.latency_mape,
              100 * e.energy_mape, 100 * e.coverage);
  EXPECT_LT(e.latency_mape, 0.03);
  EXPECT_LT(e.energy_mape, 0.03);
  EXPECT_GT(e.coverage, 0.70);  // π0 alone; all figures together: IntervalsCoverAMeasurementAtTheirRate
}

// tune --max-slowdown 5% on the predicted rooflines, judged on the board's physics without noise:
// the chosen mode keeps the bound (within 6% of the true fastest) and, for ResNet-50, spends at
// most 1% more than the true optimum. BERT-large's optimum lies 4.8% below the top GPU clock,
// where the noise of the measured fastest mode decides (printed, not asserted: see the note).
TEST_F(ModeSpace, TuningOnPredictionsKeepsTheBound) {
  const auto predicted = decision_rooflines(predict_modes(planned(board, all, 44, 11, kNoise), all));
  const auto physics = measure(board, all, keys_of(all), 0.0, 7);
  const TuneConstraint bound{TuneConstraint::Kind::max_slowdown, 0.05};
  for (const char* name : {"resnet50", "bert_large"}) {
    dnn::WorkloadOptions o;
    o.batch = std::string(name) == "resnet50" ? 16 : 1;
    const auto w = dnn::build_workload(name, o);
    const auto chosen = tune(cost_modes(w, predicted, {}).costs, bound).chosen;
    const auto true_costs = cost_modes(w, physics, {}).costs;
    const auto best = tune(true_costs, bound);
    const auto it = std::find_if(true_costs.begin(), true_costs.end(), [&](auto& c) { return c.key == chosen.key; });
    const double slowdown = it->latency_s / best.fastest.latency_s - 1.0;
    const double extra = *it->energy_J / *best.chosen.energy_J - 1.0;
    std::printf("%s: chose %s, %.2f%% slower than the fastest, %.2f%% more energy than the optimum %s\n", name,
                chosen.key.c_str(), 100 * slowdown, 100 * extra, best.chosen.key.c_str());
    EXPECT_LE(slowdown, 0.06);
    if (std::string(name) == "resnet50") {
      EXPECT_LE(extra, 0.01);
    }
  }
}

TEST_F(ModeSpace, ErrorFallsWithTheBudget) {
  const auto small = errors(predict_modes(planned(board, all, 12, 12, kNoise), all), truth);
  const auto large = errors(predict_modes(planned(board, all, 48, 12, kNoise), all), truth);
  std::printf("planned 12: latency %.2f%% energy %.2f%%; planned 48: latency %.2f%% energy %.2f%%\n",
              100 * small.latency_mape, 100 * small.energy_mape, 100 * large.latency_mape, 100 * large.energy_mape);
  EXPECT_LT(large.latency_mape + large.energy_mape, small.latency_mape + small.energy_mape);
}

TEST_F(ModeSpace, RandomModesPredictTooButLessWell) {
  const auto measured = measure(board, all, random_keys(all, 44, 3), kNoise, 5);
  const auto e = errors(predict_modes(measured, all), truth);
  std::printf("random 44: latency MAPE %.2f%%, energy MAPE %.2f%%, coverage %.1f%%\n", 100 * e.latency_mape,
              100 * e.energy_mape, 100 * e.coverage);
  EXPECT_LT(e.latency_mape, 0.05);
  EXPECT_LT(e.energy_mape, 0.05);
}

// A run the fit did not know was throttled pulls a measured mode's ceilings down by 15%: the
// robust fit keeps the others' predictions.
TEST_F(ModeSpace, AThrottledModeDoesNotPullThePredictions) {
  auto measured = planned(board, all, 44, 11, kNoise);
  for (std::size_t i = 5; i < 20; i += 5) {
    for (auto& [k, c] : measured.modes[i].compute_flops_per_s) c.value *= 0.85;
    for (auto& [k, c] : measured.modes[i].bandwidth_bytes_per_s) c.value *= 0.85;
  }
  const auto e = errors(predict_modes(measured, all), truth);
  std::printf("3 of 44 throttled by 15%%: latency MAPE %.2f%%, energy MAPE %.2f%%\n", 100 * e.latency_mape,
              100 * e.energy_mape);
  EXPECT_LT(e.latency_mape, 0.02);
}

// The intervals are for what measuring the mode would give: they cover a noisy measurement of
// each modeled mode at about their stated rate.
TEST_F(ModeSpace, IntervalsCoverAMeasurementAtTheirRate) {
  const auto predicted = predict_modes(planned(board, all, 44, 11, kNoise), all);
  const auto remeasured = measure(board, all, keys_of(all), kNoise, 99);
  std::size_t covered = 0, n = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& p = predicted.modes[i];
    if (p.source != "modeled") continue;
    const auto& t = remeasured.modes[i];
    auto count = [&](double truth, const Interval& ci) {
      ++n;
      covered += truth >= ci.lo && truth <= ci.hi ? 1 : 0;
    };
    for (const auto& [k, c] : p.compute_flops_per_s) count(t.compute_flops_per_s.at(k).value, *c.ci95);
    for (const auto& [k, c] : p.bandwidth_bytes_per_s) count(t.bandwidth_bytes_per_s.at(k).value, *c.ci95);
    const auto& e = p.energy.at("cuda");
    const auto& te = t.energy.at("cuda");
    count(te.static_W, *e.static_ci95);
    for (const auto& [k, v] : e.eps_flop_ci95) count(te.eps_flop_J.at(k), v);
    for (const auto& [k, v] : e.eps_byte_ci95) count(te.eps_byte_J.at(k), v);
  }
  const double rate = static_cast<double>(covered) / static_cast<double>(n);
  std::printf("95%% intervals cover %.1f%% of %zu remeasured figures\n", 100 * rate, n);
  EXPECT_GT(rate, 0.90);
  EXPECT_LT(rate, 0.995);
}

TEST_F(ModeSpace, MeasuredModesKeepTheirFiguresAndTheOthersAreModeled) {
  const auto measured = measure(board, all, random_keys(all, 20, 4), kNoise, 5);
  const auto predicted = predict_modes(measured, all);
  std::size_t n_measured = 0;
  for (const auto& m : predicted.modes) {
    if (m.source == "measured") {
      ++n_measured;
      const auto it =
          std::find_if(measured.modes.begin(), measured.modes.end(), [&](auto& x) { return x.key == m.key; });
      EXPECT_EQ(m.compute_flops_per_s.at("cuda/fp32").value, it->compute_flops_per_s.at("cuda/fp32").value);
    } else {
      EXPECT_EQ(m.source, "modeled");
      EXPECT_TRUE(m.compute_flops_per_s.at("cuda/fp32").ci95.has_value());
    }
  }
  EXPECT_EQ(n_measured, 20u);
  EXPECT_EQ(predicted.modes.front().key, all.front().key);
}

TEST_F(ModeSpace, KnobsOutsideTheMeasuredRangeAreMarkedExtrapolated) {
  std::vector<std::string> keys;
  for (const auto& k : random_keys(all, all.size(), 1)) {
    const auto& m = *std::find_if(all.begin(), all.end(), [&](auto& x) { return x.key == k; });
    if (*m.gpu_hz >= 522750000 && *m.emc_hz >= 665600000 && keys.size() < 30) keys.push_back(k);
  }
  const auto some = measure(board, all, keys, 0.0, 1);
  const auto predicted = predict_modes(some, all);
  std::size_t gpu = 0, emc = 0;
  for (const auto& m : predicted.modes) {
    const bool low_gpu = *m.gpu_hz < 522750000, low_emc = *m.emc_hz < 665600000;
    const auto has = [&](const char* k) {
      return std::find(m.extrapolated.begin(), m.extrapolated.end(), k) != m.extrapolated.end();
    };
    EXPECT_EQ(has("gpu_hz"), low_gpu) << m.key;
    EXPECT_EQ(has("emc_hz"), low_emc) << m.key;
    gpu += low_gpu, emc += low_emc;
  }
  EXPECT_EQ(gpu, 6u * 14 * 4 * 4);
  EXPECT_EQ(emc, 6u * 14 * 13);
  ASSERT_EQ(predicted.warnings.size(), 2u);
  EXPECT_EQ(predicted.warnings[1],
            "1344 modeled mode(s) have gpu_hz outside the measured range: their figures are extrapolated");
}

TEST_F(ModeSpace, AKnobTheMeasuredModesNeverVariedCannotBePredicted) {
  std::vector<std::string> keys;
  for (const auto& k : random_keys(all, all.size(), 2)) {
    if (k.size() > 13 && k.compare(k.size() - 13, 13, "emc3199000000") == 0 && keys.size() < 10) keys.push_back(k);
  }
  const auto same_emc = measure(board, all, keys, 0.0, 1);
  try {
    (void)predict_modes(same_emc, all);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "emc_hz cannot be predicted: every measured mode has emc_hz = 3199000000, and mode "
              "c2-cpu268800-gpu114750000-emc204000000 has 204000000 (measure modes that vary it)");
  }
  Rooflines two(same_emc);
  two.modes.resize(2);
  try {
    (void)predict_modes(two, all);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "the mode-space model needs at least 3 measured modes; 2 measured");
  }
}

// A GPU whose only knob is its locked clock (NVML): five clocks measured predict the other eight.
TEST(ModeSpaceOneKnob, LockedGpuClocksOnly) {
  PhysicsBoard board;
  board.cores = {12};
  board.cpu_khz = {2201600};
  board.emc_hz = {3199000000};
  const auto all = board.modes();
  ASSERT_EQ(all.size(), 13u);
  std::mt19937 rng(3);
  Rooflines measured;
  for (std::size_t i : {0, 3, 6, 9, 12}) measured.modes.push_back(board.mode(all[i], 0.005, rng));
  const auto predicted = predict_modes(measured, all);
  double worst = 0.0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto truth = board.mode(all[i], 0.0, rng);
    for (const char* k : {"cuda/dram", "cuda/l2"})
      worst = std::max(worst, std::abs(predicted.modes[i].bandwidth_bytes_per_s.at(k).value /
                                           truth.bandwidth_bytes_per_s.at(k).value -
                                       1.0));
    worst = std::max(worst, std::abs(predicted.modes[i].compute_flops_per_s.at("cuda/fp32").value /
                                         truth.compute_flops_per_s.at("cuda/fp32").value -
                                     1.0));
  }
  EXPECT_LT(worst, 0.03);
  EXPECT_TRUE(predicted.warnings.empty());
}

// Deciding by a measured mode: its measurement and the model's prediction, weighted by precision.
TEST(DecisionRooflines, WeighTheMeasurementAgainstTheModel) {
  RooflineMode measured;
  measured.key = "m";
  measured.compute_flops_per_s["cuda/fp32"] = {100.0, "b",
                                               Interval{100.0 / std::exp(0.0392), 100.0 * std::exp(0.0392)}};
  measured.bandwidth_bytes_per_s["cuda/dram"] = {50.0, "b", std::nullopt};
  EnergyFit e;
  e.static_W = 10.0;
  e.static_ci95 = Interval{9.608, 10.392};  // σ = 0.2 W
  measured.energy["cuda"] = e;
  auto model = std::make_shared<RooflineMode>(measured);
  model->compute_flops_per_s["cuda/fp32"] = {110.0, "model",
                                             Interval{110.0 / std::exp(0.0392), 110.0 * std::exp(0.0392)}};
  model->bandwidth_bytes_per_s["cuda/dram"] = {60.0, "model", Interval{55.0, 65.0}};
  model->energy["cuda"].static_W = 11.0;
  model->energy["cuda"].static_ci95 = Interval{11.0 - 0.784, 11.0 + 0.784};  // σ = 0.4 W
  measured.modeled = model;
  RooflineMode modeled = *model;
  modeled.key = "p";
  const auto d = decision_rooflines(Rooflines{{measured, modeled}, {}});
  EXPECT_NEAR(d.modes[0].compute_flops_per_s.at("cuda/fp32").value, std::sqrt(100.0 * 110.0), 1e-9);  // equal σ in log
  EXPECT_NEAR(d.modes[0].energy.at("cuda").static_W, (10.0 / 0.04 + 11.0 / 0.16) / (1 / 0.04 + 1 / 0.16), 1e-9);
  EXPECT_NEAR(d.modes[0].energy.at("cuda").static_ci95->hi - d.modes[0].energy.at("cuda").static_W,
              1.96 / std::sqrt(1 / 0.04 + 1 / 0.16), 1e-9);
  EXPECT_EQ(d.modes[0].bandwidth_bytes_per_s.at("cuda/dram").value, 50.0);  // no interval of its own: kept
  EXPECT_EQ(d.modes[1].compute_flops_per_s.at("cuda/fp32").value, 110.0);   // a modeled mode: as it is
}

TEST(ModesFile, RefusesWhatIsNotAModesList) {
  auto error = [](const char* text) {
    try {
      (void)modes_from_json(nlohmann::json::parse(text), "modes.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error(R"({"modes": []})"), "modes.json: modes is empty");
  EXPECT_EQ(error(R"([1])"),
            "modes.json: not a modes file (no \"modes\" array; write one with `edgeroof modes --format json`)");
  EXPECT_EQ(error(R"({"modes": [{"key": "a", "gpu_max_hz": -5}]})"),
            "modes.json: modes[0]: gpu_max_hz = -5 is not positive");
  EXPECT_EQ(error(R"({"modes": [{"key": "a"}, {"key": "a"}]})"),
            "modes.json: modes[1]: key a is also that of modes[0]");
  EXPECT_EQ(error(R"({"modes": [{"name": "x"}]})"), "modes.json: modes[0]: key is missing");
  const auto ok =
      modes_from_json(nlohmann::json::parse(R"({"modes": [{"key": "nvp1", "name": "MODE_15W", "id": 1, "cpu_online": 4,
        "cpu_max_khz": 1113600, "gpu_max_hz": 408000000, "emc_max_hz": 2133000000, "tpc_pg_mask": 248}]})"),
                      "m");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(*ok[0].tpc_pg_mask, 248);
  EXPECT_EQ(*ok[0].cpu_khz, 1113600);
}

TEST_F(ModeSpace, ThePlanIsDeterministicAndKeepsTheBudget) {
  PlanOptions o;
  o.budget = 44;
  o.next = 11;
  const auto first = plan_modes(all, Rooflines{}, o);
  EXPECT_EQ(to_json(first).dump(), to_json(plan_modes(all, Rooflines{}, o)).dump());
  ASSERT_EQ(first.measure.size(), 11u);
  EXPECT_EQ(first.measure.front(), "c12-cpu2201600-gpu1300500000-emc3199000000");  // the all-top corner
  const std::set<std::string> unique(first.measure.begin(), first.measure.end());
  EXPECT_EQ(unique.size(), 11u);
  const auto measured = measure(board, all, first.measure, kNoise, 3);
  o.next.reset();
  const auto rest = plan_modes(all, measured, o);
  EXPECT_EQ(rest.measured, 11u);
  EXPECT_EQ(rest.measure.size(), 33u);
  for (const auto& k : rest.measure) EXPECT_EQ(unique.count(k), 0u) << k;
  const auto j = to_json(rest);
  EXPECT_EQ(j["budget"], 44);
  EXPECT_EQ(j["measured"], 11);
  o.budget = 11;
  EXPECT_TRUE(plan_modes(all, measured, o).measure.empty());
  o.budget = 0;
  EXPECT_THROW((void)plan_modes(all, measured, o), InputError);
}

}  // namespace
}  // namespace edgeroof::reports
