// edgeroof compare as a user runs it: the exit status is the gate; bad input is one line.
#include "compare_runs.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

using namespace edgeroof::testing;

using edgeroof::test::fails_with;
using edgeroof::test::run_edgeroof;
using edgeroof::test::ScratchDir;
using edgeroof::test::succeeded;

edgeroof::test::ProgramRun compare_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "compare");
  return run_edgeroof(args);
}

TEST(CompareCli, ExitStatusIsTheGate) {
  const ScratchDir dir("compare_gate");
  const auto a = dir.write("a.json", gb_json(spec(1))).string();
  const auto same = dir.write("same.json", gb_json(spec(2))).string();
  RunSpec slow = spec(2);
  slow.slowdown = 1.10;
  slow.changed = fp32;
  const auto slower = dir.write("slow.json", gb_json(slow)).string();

  const auto pass = compare_cli({a, same});
  EXPECT_TRUE(succeeded(pass));
  EXPECT_NE(pass.out.find("no regression"), std::string::npos);

  const auto fail = compare_cli({a, slower, "--threshold", "5%"});
  EXPECT_EQ(fail.exit_code, 1) << fail.status();
  EXPECT_NE(fail.out.find("FAIL"), std::string::npos);
  EXPECT_TRUE(succeeded(compare_cli({a, slower, "--threshold=12%"})));

  const auto json = compare_cli({a, slower, "--format", "json"});
  EXPECT_EQ(json.exit_code, 1) << json.status();
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["regressions"], 3);
  const auto& first = doc["comparisons"][0];
  for (const char* key : {"name", "metric", "old", "new", "change", "pvalue", "repetitions", "verdict", "statistic",
                          "from", "unit", "throttled", "throttled_in"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
  EXPECT_EQ(first["name"], fp32);
  EXPECT_EQ(first["metric"], "real_time");
  EXPECT_EQ(first["verdict"], "slower");
  EXPECT_EQ(first["from"], nlohmann::json::array({"repetitions", "repetitions"}));

  const auto csv = compare_cli({a, same, "--format", "csv", "--filter", "triad"});
  EXPECT_TRUE(succeeded(csv));
  EXPECT_EQ(
      csv.out.rfind("name,metric,old,new,change,pvalue,n_old,n_new,verdict,gates,regression,statistic,throttled\n", 0),
      0u);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 7);  // header + 6 metrics
}

TEST(CompareCli, ThrottledRegressionSaysSo) {
  const ScratchDir dir("compare_throttled");
  RunSpec slow = spec(2);
  slow.slowdown = 1.10;
  slow.changed = triad;
  const auto a = dir.write("a.json", gb_json(spec(1))).string();
  const auto b = dir.write("b.json", with_throttled(gb_json(slow), triad, 2)).string();
  const auto table = compare_cli({a, b});
  EXPECT_EQ(table.exit_code, 1) << table.status();
  std::size_t marked = 0;
  for (std::size_t at = table.out.find("FAIL (throttled)"); at != std::string::npos;
       at = table.out.find("FAIL (throttled)", at + 1))
    ++marked;
  EXPECT_EQ(marked, 3u) << table.out;
  EXPECT_NE(table.out.find("3 of them on throttled runs"), std::string::npos) << table.out;
  const auto csv = compare_cli({a, b, "--format", "csv"});
  std::size_t throttled_rows = 0;
  std::istringstream lines(csv.out);
  for (std::string line; std::getline(lines, line);)
    throttled_rows += line.size() > 5 && line.substr(line.size() - 5) == ",true";
  EXPECT_EQ(throttled_rows, 6u);  // the triad's six metrics
}

TEST(CompareCli, BadInputIsOneLine) {
  const ScratchDir dir("compare_bad");
  const auto a = dir.write("a.json", gb_json(spec(1))).string();
  const std::string full = gb_json(spec(2));
  const auto cut = dir.write("cut.json", full.substr(0, full.size() / 2)).string();
  const auto not_gb = dir.write("other.json", R"({"results": []})").string();
  const auto missing = (dir.path() / "missing.json").string();

  EXPECT_TRUE(
      fails_with(compare_cli({a, not_gb}), 1,
                 "edgeroof compare: error: " + not_gb + ": not Google Benchmark results (no \"benchmarks\" array)"));
  EXPECT_TRUE(
      fails_with(compare_cli({a, missing}), 1,
                 "edgeroof compare: error: " + missing + ": cannot open for reading (No such file or directory)"));
  EXPECT_TRUE(edgeroof::test::fails_with_line_containing(compare_cli({a, cut}), 1,
                                                         "edgeroof compare: error: " + cut + ": not valid JSON ("));
  EXPECT_TRUE(
      fails_with(compare_cli({a}), 2,
                 "edgeroof compare: name two results files: OLD.json NEW.json (see 'edgeroof compare --help')"));
  EXPECT_TRUE(
      fails_with(compare_cli({a, a, "--alpha", "2"}), 2,
                 "edgeroof compare: --alpha takes a level in (0, 1], such as 0.05 (see 'edgeroof compare --help')"));
  EXPECT_EQ(compare_cli({a, a, "--threshold", "five"}).exit_code, 2);
}

TEST(CompareCli, FilterIsCheckedAndNeverEchoedWhole) {
  const ScratchDir dir("compare_filter");
  const auto a = dir.write("a.json", gb_json(spec(1))).string();
  // 100 KB of '(' made the C library's regcomp (and std::regex) overflow the stack.
  const std::string huge(100 * 1024, '(');
  EXPECT_TRUE(fails_with(compare_cli({a, a, "--filter", huge}), 2,
                         "edgeroof compare: --filter takes a pattern of at most 1024 characters, not 102400 ('" +
                             std::string(40, '(') + "... (102400 characters)') (see 'edgeroof compare --help')"));
  EXPECT_TRUE(fails_with(compare_cli({a, a, "--filter", "(["}), 2,
                         "edgeroof compare: --filter '([' is not a POSIX extended regular expression (Invalid regular "
                         "expression) (see 'edgeroof compare --help')"));
  EXPECT_TRUE(fails_with(compare_cli({a, a, "--filter", "^layer/"}), 1,
                         "edgeroof compare: error: nothing to compare between " + a + " and " + a +
                             ": no benchmark matches --filter '^layer/'"));
}

}  // namespace
