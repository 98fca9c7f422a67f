// The mode-space model and the planner on a physics board (modespace_board.hpp): accuracy over a
// 4,368-mode grid from 44 measured modes, interval coverage, error falling with the budget, the
// refusals (a knob never varied, a bad modes file), extrapolation marks, and the planner's
// determinism and contract.
#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/modespace.hpp"
#include "edgeroof/reports/plan.hpp"
#include "edgeroof/reports/predict.hpp"
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

struct Measured {
  Rooflines rooflines;
  std::vector<ModeKnobs> all;
};

// The figures of the modes `keys` with noise, as fit would have given them.
Rooflines measure(const PhysicsBoard& board, const std::vector<ModeKnobs>& all, const std::vector<std::string>& keys,
                  double noise, unsigned seed) {
  std::mt19937 rng(seed);
  const std::set<std::string> wanted(keys.begin(), keys.end());
  Rooflines r;
  for (const auto& m : all) {
    if (wanted.count(m.key)) r.modes.push_back(board.mode(m, noise, rng));
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
  Rooflines truth = measure(board, all, keys_of(all), 0.0, 1);

  static std::vector<std::string> keys_of(const std::vector<ModeKnobs>& modes) {
    std::vector<std::string> k;
    for (const auto& m : modes) k.push_back(m.key);
    return k;
  }
};

TEST_F(ModeSpace, TheGridHas4368Modes) { EXPECT_EQ(all.size(), 4368u); }

TEST_F(ModeSpace, FortyFourPlannedModesPredictEveryModeWithin3Percent) {
  const auto measured = planned(board, all, 44, 11, 0.01);
  ASSERT_EQ(measured.modes.size(), 44u);
  const auto predicted = predict_modes(measured, all);
  ASSERT_EQ(predicted.modes.size(), 4368u);
  const auto e = errors(predicted, truth);
  std::printf("planned 44: latency MAPE %.2f%%, energy MAPE %.2f%%, static_W coverage %.1f%%\n", 100 * e.latency_mape,
              100 * e.energy_mape, 100 * e.coverage);
  EXPECT_LT(e.latency_mape, 0.03);
  EXPECT_LT(e.energy_mape, 0.03);
  EXPECT_GT(e.coverage, 0.85);
}

TEST_F(ModeSpace, ErrorFallsWithTheBudget) {
  const auto small = errors(predict_modes(planned(board, all, 12, 12, 0.01), all), truth);
  const auto large = errors(predict_modes(planned(board, all, 48, 12, 0.01), all), truth);
  std::printf("planned 12: latency %.2f%% energy %.2f%%; planned 48: latency %.2f%% energy %.2f%%\n",
              100 * small.latency_mape, 100 * small.energy_mape, 100 * large.latency_mape, 100 * large.energy_mape);
  EXPECT_LT(large.latency_mape + large.energy_mape, small.latency_mape + small.energy_mape);
}

TEST_F(ModeSpace, RandomModesPredictTooButLessWell) {
  const auto measured = measure(board, all, random_keys(all, 44, 3), 0.01, 5);
  const auto e = errors(predict_modes(measured, all), truth);
  std::printf("random 44: latency MAPE %.2f%%, energy MAPE %.2f%%, coverage %.1f%%\n", 100 * e.latency_mape,
              100 * e.energy_mape, 100 * e.coverage);
  EXPECT_LT(e.latency_mape, 0.05);
  EXPECT_LT(e.energy_mape, 0.05);
}

}  // namespace
}  // namespace edgeroof::reports
