#include "fuzz_predict.hpp"

#include "edgeroof/reports/predict.hpp"
#include "edgeroof/reports/tune.hpp"
#include "fuzz_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace edgeroof::fuzz {
namespace {

using namespace edgeroof::reports;

// predict (layer by layer) and cost_modes (grouped, for tune) must agree on each mode's latency
// and on whether it has an energy.
void check_prediction(const Prediction& p, const std::vector<ModeCost>& costs) {
  EDGEROOF_FUZZ_REQUIRE(p.modes.size() == costs.size());
  for (std::size_t i = 0; i < costs.size(); ++i) {
    const auto& mode = p.modes[i];
    const double scale = std::max(std::fabs(mode.latency_s), std::fabs(costs[i].latency_s));
    EDGEROOF_FUZZ_REQUIRE(mode.key == costs[i].key);
    EDGEROOF_FUZZ_REQUIRE(!std::isfinite(scale) || std::fabs(mode.latency_s - costs[i].latency_s) <= 1e-9 * scale);
    EDGEROOF_FUZZ_REQUIRE(mode.energy_J.has_value() == costs[i].energy_J.has_value());
    EDGEROOF_FUZZ_REQUIRE(!std::isnan(mode.latency_s) && mode.latency_s >= 0.0);
    EDGEROOF_FUZZ_REQUIRE(!mode.energy_J || (!std::isnan(*mode.energy_J) && *mode.energy_J >= 0.0));
    for (const auto& layer : mode.layers) {
      EDGEROOF_FUZZ_REQUIRE(!std::isnan(layer.time_s) && layer.time_s >= 0.0);
      EDGEROOF_FUZZ_REQUIRE(!layer.energy_J || (!std::isnan(*layer.energy_J) && *layer.energy_J >= 0.0));
    }
  }
  (void)written(to_json(p));
}

// Every line of the stanza is one nvpmodel.conf setting: text from the rooflines file must not
// add lines of its own.
void check_stanza(const std::string& stanza) {
  std::istringstream lines(stanza);
  std::string line;
  std::size_t count = 0;
  while (std::getline(lines, line)) {
    ++count;
    bool known = false;
    for (const char* start :
         {"< POWER_MODEL ID=", "CPU_ONLINE CORE_", "CPU_A78_", "GPU M", "TPC_POWER_GATING ", "EMC MAX"})
      known = known || line.rfind(start, 0) == 0;
    EDGEROOF_FUZZ_REQUIRE(known);
  }
  EDGEROOF_FUZZ_REQUIRE(count >= 1);
}

void tune_and_write(const Rooflines& r, const std::vector<ModeCost>& costs) {
  TuneResult result;
  try {
    result = tune(costs, TuneConstraint{TuneConstraint::Kind::max_slowdown, 0.05});
  } catch (const InputError&) {
    return;  // no energy, or no mode within the bound
  }
  EDGEROOF_FUZZ_REQUIRE(result.chosen.energy_J && non_negative(*result.chosen.energy_J));
  EDGEROOF_FUZZ_REQUIRE(result.chosen.latency_s <= result.fastest.latency_s * 1.05 * (1.0 + 1e-12));
  EDGEROOF_FUZZ_REQUIRE(!result.saving_vs_maxn_pct || !std::isnan(*result.saving_vs_maxn_pct));
  for (std::size_t i = 1; i < result.pareto.size(); ++i)
    EDGEROOF_FUZZ_REQUIRE(result.pareto[i - 1].latency_s <= result.pareto[i].latency_s);
  (void)written(to_json(result));
  // The board's core count as tune assumes it without --cpu-count: the most any mode had online.
  int cpu_count = 0;
  for (const auto& m : r.modes) cpu_count = std::max(cpu_count, m.cpu_online.value_or(0));
  for (const auto& m : r.modes) {
    if (m.key != result.chosen.key) continue;
    try {
      check_stanza(nvpmodel_stanza(m, 100, cpu_count == 0 ? 12 : cpu_count));
    } catch (const InputError&) {
      // a core count no board has
    }
    return;
  }
  EDGEROOF_FUZZ_REQUIRE(!"the chosen mode is not in the rooflines");
}

}  // namespace

void predict_and_tune(const edgeroof::dnn::Workload& workload, const Rooflines& r, const std::string& backend) {
  PredictOptions options;
  options.backend = backend;
  CostedModes costed;
  try {
    costed = cost_modes(workload, r, options);
  } catch (const InputError&) {
    return;  // no mode has the ceilings
  }
  for (const auto& c : costed.costs) {
    EDGEROOF_FUZZ_REQUIRE(!std::isnan(c.latency_s) && c.latency_s >= 0.0);
    EDGEROOF_FUZZ_REQUIRE(!c.energy_J || (!std::isnan(*c.energy_J) && *c.energy_J >= 0.0));
  }
  // Only the modes that could be costed: predict refuses a mode that lacks a ceiling.
  std::vector<std::string> keys;
  for (const auto& c : costed.costs) keys.push_back(c.key);
  try {
    check_prediction(predict(workload, r, options, keys), costed.costs);
  } catch (const InputError&) {
    // two modes with the same key, one of them without the ceilings
  }
  tune_and_write(r, costed.costs);
}

}  // namespace edgeroof::fuzz
