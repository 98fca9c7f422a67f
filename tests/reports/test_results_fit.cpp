#include "edgeroof/reports/fit.hpp"
#include "edgeroof/reports/results.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace edgeroof::reports;

namespace {

// A results file in Google Benchmark's JSON format, as edgeroof-bench writes it.
std::string results_json(double cpu_fp32_rate, double dram_rate, const std::string& mode_key) {
  return R"({
  "context": {"date": "2026-11-27T07:00:00+00:00", "host_name": "orin", "num_cpus": 12, "mhz_per_cpu": 2201,
              "edgeroof.version": "0.1.0", "device.name": "Orin", "power_mode.key": ")" +
         mode_key + R"(",
              "power_mode.name": "MAXN", "power_mode.id": "0", "power_mode.gpu_hz": "1300500000"},
  "benchmarks": [
    {"name": "compute/cpu/fp32/ai:256", "run_name": "compute/cpu/fp32/ai:256", "run_type": "iteration",
     "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 5, "real_time": 129.0, "cpu_time": 129.0,
     "time_unit": "ms", "B/s": 2e9, "FLOP/s": )" +
         std::to_string(cpu_fp32_rate) + R"(, "ai": 256, "bytes": 2.68e8, "flops": 6.87e10},
    {"name": "compute/cpu/fp32/ai:1", "run_name": "compute/cpu/fp32/ai:1", "run_type": "iteration",
     "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 190, "real_time": 3.79, "cpu_time": 3.79,
     "time_unit": "ms", "B/s": 6.5e10, "FLOP/s": 7.0e10, "ai": 1, "bytes": 2.68e8, "flops": 2.68e8},
    {"name": "memory/cpu/triad/bytes:536870912", "run_name": "memory/cpu/triad/bytes:536870912",
     "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 59,
     "real_time": 11540, "cpu_time": 11527, "time_unit": "us", "B/s": )" +
         std::to_string(dram_rate) + R"(,
     "FLOP/s": 3.8e9, "ai": 0.083, "bytes": 5.37e8, "flops": 4.47e7, "label": "level:dram"},
    {"name": "memory/cpu/triad/bytes:33554432", "run_name": "memory/cpu/triad/bytes:33554432",
     "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 10,
     "real_time": 1000, "cpu_time": 1000, "time_unit": "us", "B/s": 9e12, "FLOP/s": 1, "ai": 0.083,
     "bytes": 1, "flops": 1, "label": "level:mixed"},
    {"name": "memory/cpu/copy/bytes:16384", "run_name": "memory/cpu/copy/bytes:16384", "run_type": "iteration",
     "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 0, "real_time": 0, "cpu_time": 0,
     "time_unit": "ns", "error_occurred": true, "error_message": "result check failed"}
  ]
})";
}

}  // namespace

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

TEST(Names, SplitIntoFamilyBackendWhatParameter) {
  const auto n = parse_benchmark_name("memory/cuda/triad/bytes:1024");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->family, "memory");
  EXPECT_EQ(n->backend, "cuda");
  EXPECT_EQ(n->what, "triad");
  EXPECT_EQ(n->param_key, "bytes");
  EXPECT_EQ(n->param_value, "1024");
  EXPECT_FALSE(parse_benchmark_name("BM_Foo"));
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
