// A short real run of edgeroof-bench's CPU families: the JSON it writes parses and carries the
// counters and context of the contract (README.md, "Contracts"), with the stable names. And the command line it
// refuses: exit 2 and one line for a wrong flag or results path, exit 1 for a path the system refuses, before any
// benchmark runs and without leaving a file behind.
#include "program.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace edgeroof::test;

namespace {

ProgramRun bench(const std::vector<std::string>& args) { return run_program(bench_exe(), args); }

json load(const fs::path& p) { return json::parse(read_file(p)); }

}  // namespace

TEST(BenchRun, CpuFamiliesWriteCountersAndContext) {
  const ScratchDir dir("bench_run");
  const auto out = dir.path() / "cpu.json";
  const std::string filter = "compute/cpu/fp(32|64)/ai:(0.125|64)/|memory/cpu/(read|triad)/bytes:(16384|67108864)/";
  ASSERT_TRUE(succeeded(bench({"--benchmark_filter=" + filter, "--benchmark_min_time=0.01", "--dram-factor=1",
                               "--benchmark_out=" + out.string()})));
  ASSERT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
  const json doc = load(out);

  const auto& ctx = doc.at("context");
  for (const char* key : {"edgeroof.version", "device.name", "device.backend", "cpu.threads", "cpu.isa", "caches"}) {
    EXPECT_TRUE(ctx.contains(key)) << key;
  }
  EXPECT_EQ(ctx.at("device.backend").get<std::string>().find("cpu") != std::string::npos, true);
  const bool sampled = ctx.contains("clocks.sampled");

  std::set<std::string> names;
  for (const auto& b : doc.at("benchmarks")) {
    const std::string name = b.at("name");
    names.insert(name);
    EXPECT_FALSE(b.value("error_occurred", false)) << name << ": " << b.value("error_message", "");
    for (const char* counter : {"flops", "bytes", "ai", "FLOP/s", "B/s"})
      EXPECT_TRUE(b.contains(counter)) << name << " " << counter;
    // Where this machine's clocks can be read the run says whether it was throttled; where not,
    // the counters are absent rather than made up.
    EXPECT_EQ(b.contains("clock_min_ratio"), sampled && ctx.at("clocks.sampled") != "nvml.reasons") << name;
    EXPECT_EQ(b.contains("throttled"), sampled) << name;
    const double t = b.at("real_time").get<double>();
    ASSERT_GT(t, 0.0);
    // ai is flops/bytes, and the rates are the per-iteration work over the per-iteration time.
    EXPECT_NEAR(b.at("ai").get<double>(), b.at("flops").get<double>() / b.at("bytes").get<double>(), 1e-9);
    const double seconds = t * (b.at("time_unit") == "ms" ? 1e-3 : b.at("time_unit") == "us" ? 1e-6 : 1e-9);
    EXPECT_NEAR(b.at("B/s").get<double>(), b.at("bytes").get<double>() / seconds, 0.02 * b.at("B/s").get<double>())
        << name;
    if (name.rfind("memory/", 0) == 0) {
      EXPECT_EQ(b.at("label").get<std::string>().rfind("level:", 0), 0u) << name;
    }
  }
  EXPECT_TRUE(names.count("compute/cpu/fp32/ai:0.125"));
  EXPECT_TRUE(names.count("compute/cpu/fp64/ai:64"));
  EXPECT_TRUE(names.count("memory/cpu/triad/bytes:16384"));
  EXPECT_TRUE(names.count("memory/cpu/read/bytes:67108864"));
  EXPECT_EQ(names.size(), 8u);  // 2 dtypes x 2 intensities + 2 kernels x 2 sizes
}

TEST(BenchRun, RepetitionsWithNonFiniteStatisticsAreWritten) {
  // With repetitions Google Benchmark adds stddev and cv aggregates; a cv of an all-zero counter
  // is written as a bare NaN, which must not cost the run its results.
  const ScratchDir dir("bench_reps");
  const auto out = dir.path() / "reps.json";
  ASSERT_TRUE(
      succeeded(bench({"--sensor=none", "--idle-s=0", "--benchmark_filter=memory/cpu/write/bytes:16384/",
                       "--benchmark_repetitions=3", "--benchmark_min_time=0.01", "--benchmark_out=" + out.string()})));
  const json doc = load(out);
  std::set<std::string> names;
  for (const auto& b : doc.at("benchmarks")) names.insert(b.at("name").get<std::string>());
  EXPECT_TRUE(names.count("memory/cpu/write/bytes:16384"));
  EXPECT_TRUE(names.count("memory/cpu/write/bytes:16384_mean"));
  EXPECT_TRUE(names.count("memory/cpu/write/bytes:16384_cv"));
}

TEST(BenchRun, FilterThatMatchesNothingWritesNothing) {
  const ScratchDir dir("bench_nothing");
  const auto out = dir.path() / "none.json";
  // Google Benchmark matches the filter only when it runs, and says so itself first.
  const auto run =
      bench({"--sensor=none", "--idle-s=0", "--benchmark_filter=no/such/family", "--benchmark_out=" + out.string()});
  EXPECT_EQ(run.exit_code, 1) << run.status();
  const std::string last = "edgeroof-bench: error: no benchmark matched the filter; nothing written\n";
  ASSERT_GE(run.err.size(), last.size());
  EXPECT_EQ(run.err.substr(run.err.size() - last.size()), last) << run.err;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(BenchRun, WrongFlagsAreUsageErrors) {
  const ScratchDir dir("bench_flags");
  const auto out = "--benchmark_out=" + (dir.path() / "x.json").string();
  // Google Benchmark's own words, before the sensor or anything else is set up.
  EXPECT_TRUE(fails_with(bench({"--no-such-flag", out}), 2,
                         bench_exe().string() + ": error: unrecognized command-line flag: --no-such-flag"));
  EXPECT_TRUE(fails_with(bench({"--benchmark_no_such_flag=1", out}), 2,
                         bench_exe().string() + ": error: unrecognized command-line flag: --benchmark_no_such_flag=1"));
  const std::vector<std::pair<std::string, std::string>> usage = {
      {"--clock-period-s=0.0001", "--clock-period-s takes 0 (off) or 0.001 to 10 seconds"},
      {"--clock-period-s=nan", "--clock-period-s takes seconds >= 0, not 'nan'"},
      {"--cuda-device=x", "--cuda-device takes a whole number, not 'x'"},
      {"--sensor=tegrastats", "--sensor: unknown sensor 'tegrastats' (auto, ina3221, nvml, rapl or none)"},
      {"--idle-s=-1", "--idle-s takes seconds >= 0, not '-1'"},
      {"--benchmark_out_format=xml", "--benchmark_out_format takes json, console or csv, not 'xml'"},
  };
  for (const auto& [flag, message] : usage) {
    EXPECT_TRUE(fails_with(bench({flag, out}), 2, "edgeroof-bench: " + message + " (see edgeroof-bench --help)"));
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(BenchRun, ResultsPathIsCheckedBeforeAnyBenchmarkRuns) {
  const ScratchDir dir("bench_out");
  const std::string d = dir.path().string();
  dir.write("file", "not a directory\n");
  // No filter: a run that got past the check would take minutes and print results on stdout.
  const std::vector<std::pair<std::string, std::string>> usage = {
      {"", "--benchmark_out needs a file name"},
      {d, "--benchmark_out=" + d + " is a directory: name a file"},
      {d + "/new/", "--benchmark_out=" + d + "/new/ is a directory: name a file"},
      {d + "/missing/x.json",
       "--benchmark_out=" + d + "/missing/x.json: the directory " + d + "/missing does not exist"},
      {d + "/file/x.json", "--benchmark_out=" + d + "/file/x.json: " + d + "/file is not a directory"},
  };
  for (const auto& [path, message] : usage) {
    EXPECT_TRUE(fails_with(bench({"--benchmark_out=" + path}), 2,
                           "edgeroof-bench: " + message + " (see edgeroof-bench --help)"));
  }
  // The system refuses: /proc takes no new files, even from root.
  EXPECT_TRUE(fails_with_line_containing(bench({"--benchmark_out=/proc/edgeroof-results.json"}), 1,
                                         "edgeroof-bench: error: cannot write /proc/edgeroof-results.json.partial: "));
  EXPECT_FALSE(fs::exists("/proc/edgeroof-results.json.partial"));
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);  // only "file"
}

TEST(BenchRun, HelpDescribesEdgeroofFlags) {
  const auto run = bench({"--help"});
  ASSERT_TRUE(succeeded(run));
  for (const char* flag : {"--sensor=KIND", "--idle-s=SECONDS", "--clock-period-s=S", "clock_min_ratio", "throttled"})
    EXPECT_NE(run.out.find(flag), std::string::npos) << flag;
}

// Google Benchmark writes its own "threads" field from a user counter of that name, so a counter
// called "threads" turned the stddev rows of an aggregates-only run into "threads: 0", which the
// reader rightly refuses. Such a run must be fitted end to end.
TEST(BenchRun, AnAggregatesOnlyRunIsFitted) {
  const ScratchDir dir("bench_aggregates");
  const auto out = dir.path() / "agg.json";
  ASSERT_TRUE(succeeded(bench({"--benchmark_filter=compute/cpu/fp32/ai:64/|memory/cpu/triad/bytes:16384/",
                               "--benchmark_min_time=0.01", "--benchmark_repetitions=2",
                               "--benchmark_report_aggregates_only=true", "--benchmark_out=" + out.string()})));
  const json doc = load(out);
  std::size_t aggregates = 0;
  for (const auto& b : doc.at("benchmarks")) {
    EXPECT_EQ(b.value("run_type", ""), "aggregate") << b.at("name");
    EXPECT_FALSE(b.contains("threads") && b.at("threads") == 0) << b.at("name");
    ++aggregates;
  }
  EXPECT_EQ(aggregates, 8u);  // mean, median, stddev, cv of each
  const auto rooflines = dir.path() / "rooflines.json";
  const auto fit = run_edgeroof({"fit", out.string(), "-o", rooflines.string()});
  ASSERT_TRUE(succeeded(fit));
  const json r = load(rooflines);
  EXPECT_TRUE(r.at("modes").at(0).at("compute_flops_per_s").contains("cpu/fp32"));
}
