// findings: Spearman's rho against values ranked by hand (ties included), the savings at 0/5/10%
// slowdown on hand-made mode tables (recomputed here by brute force), the compute-bound share and
// energy split of the toy workload (derived by hand in test_predict.cpp), the rank correlation of
// a mode's measured benchmarks in Google Benchmark's JSON, and the provenance labels.
#include "edgeroof/reports/findings.hpp"
#include "edgeroof/reports/si.hpp"
#include "edgeroof/reports/stats.hpp"

#include "workload_file.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace edgeroof::reports;
using nlohmann::json;

namespace {

const std::string data_dir = std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/";

edgeroof::dnn::Workload toy() { return edgeroof::test::workload_file(data_dir + "toy_workload.json"); }

ModeCost mode(const std::string& key, double latency_ms, double energy_J, std::optional<int> id = std::nullopt) {
  ModeCost m;
  m.key = m.name = key;
  m.id = id;
  m.latency_s = latency_ms * 1e-3;
  m.energy_J = energy_J;
  return m;
}

TuneConstraint slowdown(double s) { return {TuneConstraint::Kind::max_slowdown, s}; }

// The least energy among the modes within (1 + s) of the fastest: what tune must choose when no
// mode has an interval (no margin).
const ModeCost& brute_force(const std::vector<ModeCost>& modes, double s) {
  double fastest = modes.front().latency_s;
  for (const auto& m : modes) fastest = std::min(fastest, m.latency_s);
  const ModeCost* best = nullptr;
  for (const auto& m : modes) {
    if (m.latency_s <= fastest * (1.0 + s) && (best == nullptr || *m.energy_J < *best->energy_J)) best = &m;
  }
  return *best;
}

// One repetition of a benchmark as Google Benchmark writes it (times in ms).
json benchmark(const std::string& name, double flops, double time_ms, std::optional<double> energy_J,
               int throttled = 0) {
  json b = {{"name", name},         {"run_name", name},      {"run_type", "iteration"},
            {"repetitions", 1},     {"repetition_index", 0}, {"iterations", 10},
            {"real_time", time_ms}, {"cpu_time", time_ms},   {"time_unit", "ms"},
            {"flops", flops},       {"bytes", 1e6},          {"throttled", throttled}};
  if (energy_J) b["energy_J"] = *energy_J;
  return b;
}

ResultsFile results_of(const std::string& mode_key, const json& benchmarks) {
  const json doc = {{"context", {{"power_mode.key", mode_key}, {"power_mode.name", mode_key}}},
                    {"benchmarks", benchmarks}};
  return parse_results(doc.dump(), mode_key + ".json");
}

// FLOP/s 1e11, 4e11, 8e11, 1.6e12 (ranks 1 2 3 4) and FLOP/J 2e9, 4e9, 8e9, 4e9 (ranks 1 2.5 4
// 2.5): rho = 3 / sqrt(5 · 4.5). Beside them what the correlation must leave out: a kernel with no
// FLOPs, another backend, a whole model, a throttled kernel and an impossible energy.
json maxn_benchmarks() {
  return json::array(
      {benchmark("compute/cuda/fp16/ai:1", 1e9, 10, 0.5), benchmark("compute/cuda/fp16/ai:4", 4e9, 10, 1.0),
       benchmark("compute/cuda/fp16/ai:16", 1.6e10, 20, 2.0), benchmark("compute/cuda/fp16/ai:64", 6.4e10, 40, 16.0),
       benchmark("memory/cuda/copy/bytes:1048576", 0, 1, 0.01), benchmark("compute/cpu/fp32/ai:1", 1e9, 100, 0.1),
       benchmark("model/cuda/toy/inference/bs:4", 9e9, 9, 0.2),
       benchmark("compute/cuda/fp16/ai:256", 2.56e11, 100, 40.0, 1),
       benchmark("compute/cuda/fp16/ai:2", 2e9, 10, 0.0)});
}

const ModeFinding& finding(const Findings& f, const std::string& key) {
  for (const auto& m : f.modes) {
    if (m.key == key) return m;
  }
  throw std::runtime_error("no finding for mode " + key);
}

}  // namespace

TEST(Spearman, TiesShareTheirAverageRank) {
  EXPECT_EQ(average_ranks({3.0, 1.0, 3.0, 2.0}), (std::vector<double>{3.5, 1.0, 3.5, 2.0}));
  // x ranks 1 2.5 2.5 4 5, y ranks 2 1 3.5 3.5 5 (mean 3): sxy = 7.25, sxx = syy = 9.5.
  const auto rho = spearman_rho({1, 2, 2, 3, 4}, {2, 1, 3, 3, 5});
  ASSERT_TRUE(rho);
  EXPECT_NEAR(*rho, 7.25 / 9.5, 1e-15);
  EXPECT_NEAR(*spearman_rho({1, 2, 3}, {30, 20, 10}), -1.0, 1e-15);
  EXPECT_FALSE(spearman_rho({1, 2, 3}, {5, 5, 5}));  // nothing to rank
  EXPECT_FALSE(spearman_rho({1}, {2}));
  EXPECT_THROW((void)spearman_rho({1, 2}, {1}), std::invalid_argument);
  EXPECT_THROW((void)spearman_rho({1, NAN}, {1, 2}), std::invalid_argument);
}

TEST(Findings, SavingsWhereMaxnIsNotTheMostEfficient) {
  // "a" ties MAXN's latency for less energy, so even 0% slowdown saves; d is the cheapest at +20%.
  const std::vector<ModeCost> modes = {mode("nvp0-maxn", 10.0, 1.00, 0),
                                       mode("a", 10.0, 0.95),
                                       mode("b", 10.3, 0.85),
                                       mode("c", 10.6, 0.80),
                                       mode("d", 12.0, 0.70),
                                       mode("f", 20.0, 0.75)};
  const auto f = headline_findings(modes, tune(modes, slowdown(0.05)));
  ASSERT_TRUE(f.baseline);
  EXPECT_EQ(f.baseline->key, "nvp0-maxn");
  EXPECT_EQ(f.baseline_is_most_efficient, false);
  EXPECT_EQ(f.most_efficient.key, "d");
  EXPECT_NEAR(*f.most_efficient_saving_J, 1.00 - 0.70, 1e-12);
  EXPECT_NEAR(*f.most_efficient_saving_pct, 100.0 * (1.00 - 0.70) / 1.00, 1e-10);
  EXPECT_NEAR(f.most_efficient_slowdown, 12.0 / 10.0 - 1.0, 1e-12);
  ASSERT_EQ(f.savings.size(), 3u);
  const double slowdowns[] = {0.0, 0.05, 0.10};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& s = f.savings[i];
    const auto& expected = brute_force(modes, slowdowns[i]);
    EXPECT_EQ(s.max_slowdown, slowdowns[i]);
    EXPECT_EQ(s.chosen.key, expected.key) << slowdowns[i];
    EXPECT_NEAR(*s.saving_J, 1.00 - *expected.energy_J, 1e-12);
    EXPECT_NEAR(*s.saving_pct, 100.0 * (1.00 - *expected.energy_J), 1e-10);
    EXPECT_EQ(s.provenance, "derived");
  }
  EXPECT_EQ(f.savings[0].chosen.key, "a");  // the brute force agrees: 5%, 15%, 20%
  EXPECT_EQ(f.savings[2].chosen.key, "c");
  const auto lines = findings_lines(f);
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[1].rfind("the baseline nvp0-maxn (" + si(1.0, "J") +
                               ") is not the most energy-efficient mode: d at " + si(0.7, "J") + " and +20.0% latency",
                           0),
            0u)
      << lines[1];
  EXPECT_NE(lines[1].find("saving " + si(0.3, "J") + " (30.0%) [derived]"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[3], "within 5.0% of the fastest mode's latency: b, " + si(0.85, "J") + ", saving " + si(0.15, "J") +
                          " (15.0%) vs the baseline [derived]");
}

TEST(Findings, MaxnThatIsTheMostEfficientIsSaidToBe) {
  const std::vector<ModeCost> modes = {mode("maxn", 10.0, 0.60), mode("b", 10.3, 0.85), mode("c", 30.0, 0.61)};
  const auto f = headline_findings(modes, tune(modes, slowdown(0.05)));
  ASSERT_TRUE(f.baseline_is_most_efficient);
  EXPECT_TRUE(*f.baseline_is_most_efficient);
  EXPECT_EQ(f.most_efficient.key, "maxn");
  EXPECT_EQ(*f.most_efficient_saving_J, 0.0);
  for (const auto& s : f.savings) {
    EXPECT_EQ(s.chosen.key, "maxn");
    EXPECT_EQ(*s.saving_pct, 0.0);
  }
  EXPECT_EQ(findings_lines(f)[1],
            "the baseline maxn is the most energy-efficient mode (" + si(0.6, "J") + ") [derived]");
  EXPECT_EQ(to_json(f)["baseline_is_most_efficient"], true);
}

TEST(Findings, WithoutABaselineThereIsNoSaving) {
  const std::vector<ModeCost> modes = {mode("x", 10.0, 0.9), mode("y", 11.0, 0.5)};
  const auto f = headline_findings(modes, tune(modes, slowdown(0.05)));
  EXPECT_FALSE(f.baseline);
  EXPECT_FALSE(f.baseline_is_most_efficient);
  EXPECT_FALSE(f.savings[2].saving_J);
  EXPECT_EQ(f.savings[2].chosen.key, "y");  // within 10%
  EXPECT_EQ(findings_lines(f)[1].rfind("no baseline (MAXN) among the modes: no saving to report", 0), 0u);
  const auto j = to_json(f);
  EXPECT_TRUE(j["baseline"].is_null());
  EXPECT_TRUE(j["baseline_is_most_efficient"].is_null());
  EXPECT_TRUE(j["savings"][2]["saving_J"].is_null());
}

// MAXN of the toy rooflines (test_predict.cpp): conv1 2 ms compute-bound, relu1 2 ms and fc 5 ms
// memory-bound; FLOPs 8e9·1e-12 + 1e7·2e-12 + 1e9·1e-12 J, bytes 8e8·1e-10 J, static 10 W · 9 ms.
TEST(Findings, ComputeShareAndEnergySplitOfTheToyWorkload) {
  const auto workload = toy();
  const auto rooflines = load_rooflines(data_dir + "toy_rooflines.json");
  const PredictOptions options;
  const auto costs = cost_modes(workload, rooflines, options).costs;
  const auto tuned = tune(costs, slowdown(0.05));
  const std::vector<ResultsFile> none;
  const auto f = compute_findings({workload, rooflines, options, costs, tuned, none});
  EXPECT_EQ(f.model, "toy");
  EXPECT_EQ(f.batch, 4);
  // no-tensor runs the tensor layers at 1e12: 15 ms and 0.24802 J, so MAXN (0.17902 J) is the best.
  EXPECT_EQ(f.most_efficient.key, "nvp0-maxn");
  EXPECT_EQ(f.baseline_is_most_efficient, true);
  const auto& maxn = finding(f, "nvp0-maxn");
  EXPECT_EQ(maxn.roles, (std::vector<std::string>{"baseline", "most_efficient", "fastest", "chosen_0.0%", "chosen_5.0%",
                                                  "chosen_10.0%"}));
  EXPECT_NEAR(maxn.compute_bound_share, 2.0 / 9.0, 1e-12);
  ASSERT_TRUE(maxn.energy);
  EXPECT_NEAR(maxn.energy->flops_J, 8e9 * 1e-12 + 1e7 * 2e-12 + 1e9 * 1e-12, 1e-15);
  EXPECT_NEAR(maxn.energy->bytes_J, 8e8 * 1e-10, 1e-15);
  EXPECT_NEAR(maxn.energy->static_J, 10.0 * 9e-3, 1e-15);
  EXPECT_NEAR(maxn.energy->total_J(), *maxn.energy_J, 1e-12 * *maxn.energy_J);  // the split sums to the energy
  EXPECT_NEAR(*maxn.energy_J, 0.17902, 1e-12);
  ASSERT_EQ(f.modes.size(), 1u);  // without results, only the modes with a role
  // The share is predict's: the time of the layers whose LayerPrediction::bound is "compute".
  const auto p = predict(workload, rooflines, options, {"no-tensor"});
  double compute_s = 0.0;
  for (const auto& l : p.modes[0].layers) compute_s += l.bound == "compute" ? l.time_s : 0.0;
  const WorkloadCoster coster(workload, options);
  const auto plain = mode_breakdown(coster, workload, rooflines.modes[1]);
  EXPECT_NEAR(plain.compute_bound_share, compute_s / p.modes[0].latency_s, 1e-12);
  ASSERT_TRUE(plain.energy);
  EXPECT_NEAR(plain.energy->total_J(), *p.modes[0].energy_J, 1e-12);
  EXPECT_FALSE(mode_breakdown(coster, workload, rooflines.modes[2]).energy);  // no sensor: no split
  const auto j = to_json(f)["modes"][0];
  EXPECT_EQ(j["provenance"], "derived");
  EXPECT_NEAR(j["energy_split"]["total_J"].get<double>(), 0.17902, 1e-12);
  EXPECT_TRUE(j["time_vs_energy"]["spearman_rho"].is_null());
}

TEST(Findings, RankCorrelationOfAModesMeasuredBenchmarks) {
  const auto workload = toy();
  const auto rooflines = load_rooflines(data_dir + "toy_rooflines.json");
  const PredictOptions options;
  const auto costs = cost_modes(workload, rooflines, options).costs;
  const auto tuned = tune(costs, slowdown(0.05));
  const std::vector<ResultsFile> files = {
      results_of("nvp0-maxn", maxn_benchmarks()),
      results_of("no-tensor", json::array({maxn_benchmarks()[0], maxn_benchmarks()[1]})),
      results_of("no-sensor", json::array({benchmark("compute/cuda/fp16/ai:1", 1e9, 10, std::nullopt)}))};
  const auto f = compute_findings({workload, rooflines, options, costs, tuned, files});
  const auto& c = finding(f, "nvp0-maxn").time_vs_energy;
  ASSERT_TRUE(c.rho) << c.reason;
  EXPECT_EQ(c.n, 4u);
  EXPECT_NEAR(*c.rho, 3.0 / std::sqrt(5.0 * 4.5), 1e-15);
  // Left out and said: the throttled kernel and the impossible energy, each naming file and benchmark.
  ASSERT_EQ(f.warnings.size(), 2u);
  EXPECT_EQ(f.warnings[0],
            "nvp0-maxn.json: benchmark compute/cuda/fp16/ai:2: energy_J (0) is not a positive finite "
            "number; left out of the rank correlation");
  EXPECT_EQ(f.warnings[1],
            "nvp0-maxn.json: benchmark compute/cuda/fp16/ai:256: throttled; left out of the rank "
            "correlation");
  // n < 3: no figure, and why.
  const auto& few = finding(f, "no-tensor").time_vs_energy;
  EXPECT_FALSE(few.rho);
  EXPECT_EQ(few.n, 2u);
  EXPECT_EQ(few.reason, "only 2 benchmark(s) on cuda with flops and energy_J; 3 are needed");
  const auto j = to_json(f)["modes"][1];
  EXPECT_EQ(j["key"], "no-tensor");
  EXPECT_TRUE(j["time_vs_energy"]["spearman_rho"].is_null());
  EXPECT_EQ(j["time_vs_energy"]["n"], 2);
  EXPECT_EQ(j["time_vs_energy"]["reason"], few.reason);
  // Without energy_J: no split, and the reason names the sensor.
  const auto& blind = finding(f, "no-sensor");
  EXPECT_TRUE(blind.roles.empty());
  EXPECT_FALSE(blind.energy);
  EXPECT_EQ(blind.time_vs_energy.reason,
            "no benchmark on cuda carries flops and energy_J (measured without a sensor?)");
  std::vector<std::string> warnings;
  const auto dark = time_energy_correlation(
      {results_of("m", json::array({benchmark("compute/cuda/fp16/ai:1", 1e9, 10, std::nullopt)}))}, "m", false,
      warnings);
  EXPECT_EQ(dark.n, 0u);
  EXPECT_EQ(dark.reason, "no benchmark carries flops and energy_J (measured without a sensor?)");
}

// A modeled mode cheaper than MAXN: the figures that involve it are "modeled", MAXN's "derived".
TEST(Findings, ProvenanceOfAMeasuredAndAModeledMode) {
  const auto workload = toy();
  auto rooflines = load_rooflines(data_dir + "toy_rooflines.json");
  rooflines.modes.resize(1);
  RooflineMode modeled = rooflines.modes[0];
  modeled.key = modeled.name = "c8-gpu1300500000";
  modeled.id.reset();
  modeled.source = "modeled";
  modeled.energy["cuda"].static_W = 8.0;
  for (auto& [key, c] : modeled.compute_flops_per_s) c.value *= 0.99;  // 1% slower, cheaper
  rooflines.modes.push_back(modeled);
  const PredictOptions options;
  const auto costs = cost_modes(workload, rooflines, options).costs;
  const auto tuned = tune(costs, slowdown(0.05));
  const std::vector<ResultsFile> none;
  const auto f = compute_findings({workload, rooflines, options, costs, tuned, none});
  EXPECT_EQ(f.most_efficient.key, "c8-gpu1300500000");
  EXPECT_EQ(f.most_efficient_provenance, "modeled");
  EXPECT_EQ(f.savings[0].chosen.key, "nvp0-maxn");  // at 0% only the fastest
  EXPECT_EQ(f.savings[0].provenance, "derived");
  EXPECT_EQ(f.savings[1].provenance, "modeled");
  EXPECT_EQ(finding(f, "nvp0-maxn").provenance, "derived");
  EXPECT_EQ(finding(f, "c8-gpu1300500000").provenance, "modeled");
  const auto j = to_json(f);
  EXPECT_EQ(j["baseline"]["provenance"], "derived");
  EXPECT_EQ(j["most_efficient"]["provenance"], "modeled");
  EXPECT_EQ(j["most_efficient"]["source"], "modeled");
  EXPECT_EQ(j["savings"][1]["provenance"], "modeled");
  const auto lines = findings_lines(f);
  EXPECT_NE(lines[1].find("[modeled]"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("[derived]"), std::string::npos) << lines[2];
}
