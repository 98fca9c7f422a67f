#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/results.hpp"
#include "fit_results.hpp"
#include "synthetic_results.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

using namespace edgeroof::reports;
using edgeroof::testing::edited;
using edgeroof::testing::results_json;

TEST(Results, ParsesGoogleBenchmarkJson) {
  const auto f = parse_results(results_json(5.3e11, 4.3e10, "maxn"), "mem.json");
  ASSERT_EQ(f.benchmarks.size(), 5u);
  EXPECT_EQ(f.context_value("power_mode.key"), "maxn");
  EXPECT_EQ(f.context_value("num_cpus"), "12");
  const auto& triad = f.benchmarks[2];
  EXPECT_NEAR(triad.real_time_s, 11540e-6, 1e-12);
  EXPECT_EQ(triad.label, "level:dram");
  EXPECT_DOUBLE_EQ(*triad.counter("B/s"), 4.3e10);
  EXPECT_TRUE(f.benchmarks[4].error);
  EXPECT_EQ(repetitions_by_name(f).size(), 4u);  // the failed one is left out
}

TEST(Results, MalformedInputIsOneClearError) {
  try {
    (void)parse_results(results_json(1, 1, "x").substr(0, 200), "cut.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.json: not valid JSON"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  EXPECT_THROW((void)parse_results(R"({"context": {}})", "x.json"), InputError);
  EXPECT_THROW((void)parse_results(R"({"benchmarks": [{"name": "a", "time_unit": "ms"}]})", "x.json"), InputError);
  EXPECT_THROW((void)parse_results(R"({"benchmarks": [{"name": "a", "real_time": 1, "time_unit": "min"}]})", "x.json"),
               InputError);
  EXPECT_THROW((void)load_results("/no/such/file.json"), InputError);
}

TEST(Fit, CeilingsAreTheBestMedianOfTheirKind) {
  const auto a = parse_results(results_json(5.3e11, 4.3e10, "maxn"), "a.json");
  const auto b = parse_results(results_json(5.1e11, 4.5e10, "maxn"), "b.json");
  const auto c = parse_results(results_json(1.0e11, 2.0e10, "mode_15w"), "c.json");
  const auto r = fit_rooflines({a, b, c});
  ASSERT_EQ(r.modes.size(), 2u);
  const auto& maxn = r.modes[0];
  EXPECT_EQ(maxn.key, "maxn");
  EXPECT_EQ(maxn.files.size(), 2u);
  EXPECT_EQ(maxn.gpu_hz, 1300500000);
  // Two repetitions of ai:256 across files: median of 5.3e11 and 5.1e11.
  EXPECT_DOUBLE_EQ(maxn.compute_flops_per_s.at("cpu/fp32").value, 5.2e11);
  EXPECT_EQ(maxn.compute_flops_per_s.at("cpu/fp32").source, "compute/cpu/fp32/ai:256");
  EXPECT_DOUBLE_EQ(maxn.bandwidth_bytes_per_s.at("cpu/dram").value, 4.4e10);
  EXPECT_EQ(maxn.bandwidth_bytes_per_s.count("cpu/mixed"), 0u);  // transitional sizes are no level
  EXPECT_NEAR(maxn.ridge_points().at("cpu/fp32@dram"), 5.2e11 / 4.4e10, 1e-9);
  EXPECT_DOUBLE_EQ(r.modes[1].compute_flops_per_s.at("cpu/fp32").value, 1.0e11);
}

TEST(Fit, JsonRoundTrips) {
  const auto r = fit_rooflines({parse_results(results_json(5.3e11, 4.3e10, "maxn"), "a.json")});
  const auto back = rooflines_from_json(to_json(r), "r.json");
  ASSERT_EQ(back.modes.size(), 1u);
  EXPECT_EQ(back.modes[0].key, "maxn");
  EXPECT_EQ(back.modes[0].id, 0);
  EXPECT_DOUBLE_EQ(back.modes[0].compute_flops_per_s.at("cpu/fp32").value, 5.3e11);
  EXPECT_EQ(back.modes[0].bandwidth_bytes_per_s.at("cpu/dram").source, "memory/cpu/triad/bytes:536870912");
  EXPECT_THROW((void)rooflines_from_json(nlohmann::json::parse(R"({"modes": [{"name": "x"}]})"), "r.json"), InputError);
}

TEST(Results, ManyFilesKeepTheirOrderAndTheFirstErrorWins) {
  std::vector<std::string> texts, origins;
  for (int i = 0; i < 40; ++i) {
    texts.push_back(results_json(1e9 * (i + 1), 1e9, "m" + std::to_string(i)));
    origins.push_back("f" + std::to_string(i) + ".json");
  }
  const auto files = parse_results(texts, origins);
  ASSERT_EQ(files.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(files[static_cast<std::size_t>(i)].path, origins[static_cast<std::size_t>(i)]);
    EXPECT_EQ(files[static_cast<std::size_t>(i)].context_value("power_mode.key"), "m" + std::to_string(i));
  }
  texts[29] = "{";
  texts[7] = "{\"benchmarks\": 3}";
  try {
    (void)parse_results(texts, origins);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("f7.json:", 0), 0u) << e.what();
  }
  EXPECT_THROW((void)parse_results(texts, {"one"}), std::invalid_argument);
}

TEST(Results, NonFiniteStatisticsReadAsNull) {
  // Google Benchmark writes the cv of an all-zero counter as a bare NaN, which JSON does not allow.
  EXPECT_EQ(non_finite_to_null(R"({"a": NaN, "b": -nan, "c": inf, "d": -Infinity, "e": "NaN inf", "f": -1.5})"),
            R"({"a": null, "b": null, "c": null, "d": null, "e": "NaN inf", "f": -1.5})");
  EXPECT_EQ(non_finite_to_null(R"({"s": "a\"NaN", "n": null, "t": true})"), R"({"s": "a\"NaN", "n": null, "t": true})");
  const auto f = parse_results(R"({"benchmarks": [{"name": "compute/cpu/fp32/ai:1_cv", "run_type": "aggregate",
      "aggregate_name": "cv", "real_time": 0.01, "time_unit": "ns", "FLOP/s": NaN, "bytes": 0}]})",
                               "cv.json");
  ASSERT_EQ(f.benchmarks.size(), 1u);
  EXPECT_FALSE(f.benchmarks[0].counter("FLOP/s").has_value());  // absent, not a made-up number
  EXPECT_EQ(f.benchmarks[0].counter("bytes"), 0.0);
}

// ---- Hostile results: what cannot be real is left out and said, never fitted --------------------

namespace {

using nlohmann::json;

std::vector<std::string> lines_with(const Rooflines& r, const std::string& part) {
  std::vector<std::string> out;
  for (const auto& w : r.warnings) {
    if (w.find(part) != std::string::npos) out.push_back(w);
  }
  return out;
}

}  // namespace

// The results reader refuses some of these itself; fit does not count on it (results files in
// memory, other readers), so these are set after reading.
TEST(FitChecks, RatesThatCannotBeRealAreLeftOutWithAWarning) {
  // ai:256 claims -5.3e11 FLOP/s; ai:1's 7e10 is then the best real rate. The DRAM triad's B/s is 0.
  auto file = parse_results(results_json(5.3e11, 4.3e10, "maxn"), "neg.json");
  file.benchmarks[0].counters["FLOP/s"] = -5.3e11;
  file.benchmarks[2].counters["B/s"] = 0.0;
  const auto r = fit_rooflines({file});
  ASSERT_EQ(r.modes.size(), 1u);
  EXPECT_DOUBLE_EQ(r.modes[0].compute_flops_per_s.at("cpu/fp32").value, 7.0e10);
  EXPECT_EQ(r.modes[0].compute_flops_per_s.at("cpu/fp32").source, "compute/cpu/fp32/ai:1");
  EXPECT_EQ(r.modes[0].bandwidth_bytes_per_s.count("cpu/dram"), 0u);
  EXPECT_EQ(r.warnings, (std::vector<std::string>{
                            "neg.json: compute/cpu/fp32/ai:256: FLOP/s = -5.3e+11 is not positive; left out",
                            "neg.json: memory/cpu/triad/bytes:536870912: B/s = 0 is not positive; left out"}));
  EXPECT_EQ(r.modes[0].excluded.at("invalid"),
            (std::vector<std::string>{"compute/cpu/fp32/ai:256", "memory/cpu/triad/bytes:536870912"}));
  // What fit writes, the reader takes back.
  EXPECT_EQ(rooflines_from_json(to_json(r), "r.json").modes[0].excluded.at("invalid").size(), 2u);
}

TEST(FitChecks, ThrottledBenchmarksAreLeftOutAndListed) {
  // ai:256 at 9e11 FLOP/s would be the ceiling, but its clocks fell during the run.
  const auto counter = edited(9e11, [](json& d) {
    d["benchmarks"][0]["throttled"] = 1;
    d["benchmarks"][0]["clock_min_ratio"] = 0.62;
    d["benchmarks"][1]["throttled"] = 0;
  });
  const auto label = edited(9e11, [](json& d) { d["benchmarks"][0]["label"] = "level:dram throttled"; });
  for (const auto& text : {counter, label}) {
    const auto r = fit_rooflines({parse_results(text, "hot.json")});
    ASSERT_EQ(r.modes.size(), 1u);
    EXPECT_DOUBLE_EQ(r.modes[0].compute_flops_per_s.at("cpu/fp32").value, 7.0e10);
    EXPECT_EQ(r.modes[0].excluded.at("throttled"), std::vector<std::string>{"compute/cpu/fp32/ai:256"});
    EXPECT_EQ(r.warnings,
              std::vector<std::string>{"mode maxn: 1 throttled benchmark(s) left out: compute/cpu/fp32/ai:256"});
    EXPECT_EQ(to_json(r)["modes"][0]["excluded"]["throttled"], json::array({"compute/cpu/fp32/ai:256"}));
  }
  // A repetition throttled in one file of a mode leaves the benchmark out of the whole mode.
  const auto cool = parse_results(results_json(9e11, 4.3e10, "maxn"), "cool.json");
  const auto r = fit_rooflines({cool, parse_results(counter, "hot.json")});
  EXPECT_DOUBLE_EQ(r.modes[0].compute_flops_per_s.at("cpu/fp32").value, 7.0e10);
}

// A label holds words: the level is one of them, throttled another.
TEST(FitChecks, LabelTokens) {
  auto file = parse_results(results_json(5.3e11, 4.3e10, "maxn"), "l.json");
  file.benchmarks[2].label = "level:dram,pinned";
  EXPECT_DOUBLE_EQ(fit_rooflines({file}).modes[0].bandwidth_bytes_per_s.at("cpu/dram").value, 4.3e10);
  file.benchmarks[2].label = "pinned level:dram throttled";
  const auto r = fit_rooflines({file});
  EXPECT_EQ(r.modes[0].bandwidth_bytes_per_s.count("cpu/dram"), 0u);
  EXPECT_EQ(r.modes[0].excluded.at("throttled"), std::vector<std::string>{"memory/cpu/triad/bytes:536870912"});
}

TEST(FitChecks, AThrottledCounterThatIsNotZeroOrOneCountsAsThrottled) {
  auto file = parse_results(results_json(9e11, 4.3e10, "maxn"), "odd.json");
  file.benchmarks[0].counters["throttled"] = 0.5;
  const auto r = fit_rooflines({file});
  EXPECT_EQ(r.modes[0].excluded.at("throttled"), std::vector<std::string>{"compute/cpu/fp32/ai:256"});
  EXPECT_EQ(lines_with(r, "odd.json"), std::vector<std::string>{"odd.json: compute/cpu/fp32/ai:256: throttled = 0.5 "
                                                                "is not 0 or 1; treated as throttled"});
}

// Google Benchmark's --benchmark_report_aggregates_only: no plain repetitions, only mean, median,
// stddev and cv. The median aggregate stands for the benchmark; a mean of a throttled counter
// above 0 says some repetition was throttled.
TEST(FitChecks, AggregateOnlyFilesAreFittedFromTheirMedians) {
  json benchmarks = json::array();
  auto aggregate = [&](const std::string& run, const std::string& kind, double flops_rate, double throttled) {
    benchmarks.push_back({{"name", run + "_" + kind},
                          {"run_name", run},
                          {"run_type", "aggregate"},
                          {"aggregate_name", kind},
                          {"repetitions", 3},
                          {"threads", 1},
                          {"iterations", 3},
                          {"real_time", 1.0},
                          {"cpu_time", 1.0},
                          {"time_unit", "ms"},
                          {"FLOP/s", flops_rate},
                          {"throttled", throttled}});
  };
  for (const char* run : {"compute/cpu/fp32/ai:64", "compute/cpu/fp32/ai:256"}) {
    const bool hot = std::string(run).find("256") != std::string::npos;
    aggregate(run, "mean", hot ? 9e11 : 2.1e11, hot ? 1.0 / 3.0 : 0.0);
    aggregate(run, "median", hot ? 9e11 : 2.0e11, 0.0);
    aggregate(run, "stddev", 1e9, hot ? 0.58 : 0.0);
    aggregate(run, "cv", 0.005, 0.0);
  }
  const json doc = {{"context", {{"power_mode.key", "agg"}}}, {"benchmarks", benchmarks}};
  const auto r = fit_rooflines({parse_results(doc.dump(), "agg.json")});
  ASSERT_EQ(r.modes.size(), 1u);
  EXPECT_DOUBLE_EQ(r.modes[0].compute_flops_per_s.at("cpu/fp32").value, 2.0e11);  // the median, not the mean
  EXPECT_EQ(r.modes[0].excluded.at("throttled"), std::vector<std::string>{"compute/cpu/fp32/ai:256"});
  EXPECT_EQ(lines_with(r, "agg.json"),
            std::vector<std::string>{"agg.json: 2 benchmark(s) have only aggregates (no plain repetitions): fitted "
                                     "from their median (else mean) aggregate"});
}

TEST(FitChecks, FilesWithNothingToFit) {
  const auto empty = parse_results(R"({"context": {}, "benchmarks": []})", "empty.json");
  try {
    (void)fit_rooflines({empty});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "empty.json: nothing to fit (no benchmarks)");
  }
  const auto failed = parse_results(
      R"({"benchmarks": [{"name": "compute/cpu/fp32/ai:1", "error_occurred": true, "error_message": "x"}]})", "f.json");
  try {
    (void)fit_rooflines({empty, failed});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "nothing to fit in any of the 2 results files (first: empty.json: no benchmarks)");
  }
  // Beside a good file, a useless one is a warning, and its mode is not written empty.
  const auto r = fit_rooflines({parse_results(results_json(5.3e11, 4.3e10, "maxn"), "a.json"), failed});
  ASSERT_EQ(r.modes.size(), 1u);
  EXPECT_EQ(r.modes[0].files, std::vector<std::string>{"a.json"});
  EXPECT_EQ(r.warnings,
            std::vector<std::string>{"f.json: nothing to fit (only failed or skipped benchmarks); left out"});
}

TEST(FitChecks, ContextFiguresThatDoNotFitAreLeftOut) {
  const auto text = edited(5.3e11, [](json& d) {
    d["context"]["power_mode.id"] = "4294967296";  // used to wrap to 0, MAXN's id
    d["context"]["power_mode.gpu_hz"] = "-1300500000";
    d["context"]["power_mode.cpu_online"] = "twelve";
    d["context"]["idle_power_W"] = "nan";
  });
  const auto r = fit_rooflines({parse_results(text, "ctx.json")});
  const auto& m = r.modes[0];
  EXPECT_FALSE(m.id);
  EXPECT_FALSE(m.gpu_hz);
  EXPECT_FALSE(m.cpu_online);
  EXPECT_EQ(lines_with(r, "power_mode.id"),
            std::vector<std::string>{"ctx.json: context power_mode.id = '4294967296' is not a whole number from 0 to "
                                     "2147483647; left out"});
  EXPECT_EQ(lines_with(r, "gpu_hz").size(), 1u);
  EXPECT_EQ(lines_with(r, "cpu_online").size(), 1u);
}

TEST(FitChecks, UnknownIdlePowerIsAbsentNeverNull) {
  edgeroof::testing::SyntheticMode m;
  json doc = json::parse(edgeroof::testing::synthetic_results(m, 3));
  doc["context"]["idle_power_W"] = "nan";
  const auto r = fit_rooflines({parse_results(doc.dump(), "nan.json")});
  ASSERT_EQ(r.modes[0].energy.count("cuda"), 1u);
  EXPECT_FALSE(r.modes[0].energy.at("cuda").idle_power_W);
  EXPECT_EQ(lines_with(r, "idle_power_W"),
            std::vector<std::string>{"nan.json: context idle_power_W = 'nan' is not a finite, non-negative number; "
                                     "left out"});
  const json written = to_json(r);
  EXPECT_EQ(written.dump().find("null"), std::string::npos);
  EXPECT_FALSE(written["modes"][0]["energy"]["cuda"].contains("idle_power_W"));
  EXPECT_FALSE(written["modes"][0]["energy"]["cuda"].contains("static_vs_idle_W"));
  EXPECT_NO_THROW((void)rooflines_from_json(written, "r.json"));
}

TEST(FitChecks, EnergiesThatCannotBeRealStayOutOfTheEnergyFit) {
  edgeroof::testing::SyntheticMode m;
  auto file = parse_results(edgeroof::testing::synthetic_results(m, 4), "e.json");
  file.benchmarks[0].counters["energy_J"] = -0.5;
  const auto r = fit_rooflines({file});
  const std::string name = file.benchmarks[0].name;
  EXPECT_EQ(
      lines_with(r, "energy_J"),
      std::vector<std::string>{"e.json: " + name + ": energy_J = -0.5 is not positive; left out of the energy fit"});
  const auto& fit = r.modes[0].energy.at("cuda");
  for (const auto& [dtype, eps] : fit.eps_flop_J) EXPECT_GE(eps, 0.0) << dtype;
  EXPECT_GE(fit.static_W, 0.0);
}

// ---- rooflines.json as read by predict, tune and plot -------------------------------------------

TEST(RooflinesChecks, EveryImpossibleFigureIsOneLineNamingFileModeAndPath) {
  const json good = to_json(fit_rooflines({parse_results(results_json(5.3e11, 4.3e10, "maxn"), "a.json")}));
  const std::vector<std::pair<std::string, json>> cases = {
      {"/modes/0/compute_flops_per_s/cpu~1fp32", -5.3e11},
      {"/modes/0/bandwidth_bytes_per_s/cpu~1dram", 0.0},
      {"/modes/0/gpu_hz", 0},
      {"/modes/0/cpu_online", 2000},
      {"/modes/0/files", "a.json"},
      {"/modes/0/context/num_cpus", 12},
      {"/modes/0/excluded", json{{"throttled", {1}}}},
      {"/modes/0/key", ""},
  };
  const std::vector<std::string> expected = {
      "r.json: modes[0] (maxn): compute_flops_per_s.cpu/fp32 = -530000000000.0 is not positive",
      "r.json: modes[0] (maxn): bandwidth_bytes_per_s.cpu/dram = 0.0 is not positive",
      "r.json: modes[0] (maxn): gpu_hz = 0 is not positive",
      "r.json: modes[0] (maxn): cpu_online = 2000 is out of range (1 to 1024)",
      "r.json: modes[0] (maxn): files is a string \"a.json\", not an array",
      "r.json: modes[0] (maxn): context.num_cpus is a number, not a string",
      "r.json: modes[0] (maxn): excluded.throttled[0] is a number, not a string",
      "r.json: modes[0]: key is empty",
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    json doc = good;
    doc[json::json_pointer(cases[i].first)] = cases[i].second;
    try {
      (void)rooflines_from_json(doc, "r.json");
      ADD_FAILURE() << cases[i].first << ": no error";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), expected[i]);
    }
  }
  json no_key = good;
  no_key["modes"][0].erase("key");
  EXPECT_THROW((void)rooflines_from_json(no_key, "r.json"), InputError);
  try {
    (void)rooflines_from_json(no_key, "r.json");
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "r.json: modes[0]: key is missing");
  }
}
