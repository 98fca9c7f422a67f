// edgeroof plan as a user runs it: the JSON contract, determinism, the results so far counting
// against the budget, and one line for every bad input.
#include "mode_space_fixtures.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

using edgeroof::test::fails_with;
using edgeroof::test::fails_with_line_containing;
using edgeroof::test::run_edgeroof;
using edgeroof::test::ScratchDir;
using edgeroof::test::succeeded;
using nlohmann::json;

namespace {

std::set<std::string> keys_of(const json& modes) {
  std::set<std::string> keys;
  for (const auto& m : modes["modes"]) keys.insert(m["key"].get<std::string>());
  return keys;
}

// Checks a plan's JSON against the contract and the list; returns the keys it picks.
std::vector<std::string> checked_plan(const std::string& out, const json& modes, std::size_t measured,
                                      std::size_t budget) {
  const auto doc = json::parse(out);
  std::set<std::string> fields;
  for (const auto& [k, v] : doc.items()) fields.insert(k);
  EXPECT_EQ(fields, (std::set<std::string>{"budget", "measure", "measured", "reasons"}));
  EXPECT_EQ(doc["measured"].get<std::size_t>(), measured);
  EXPECT_EQ(doc["budget"].get<std::size_t>(), budget);
  EXPECT_EQ(doc["reasons"].size(), doc["measure"].size());
  const auto all = keys_of(modes);
  std::vector<std::string> picked;
  for (const auto& k : doc["measure"]) {
    EXPECT_EQ(all.count(k.get<std::string>()), 1u) << k;
    picked.push_back(k.get<std::string>());
  }
  EXPECT_EQ(std::set<std::string>(picked.begin(), picked.end()).size(), picked.size()) << "a mode picked twice";
  return picked;
}

}  // namespace

TEST(PlanCli, TheStartIsDeterministicAndFollowsTheContract) {
  const ScratchDir dir("plan_start");
  const auto modes = edgeroof::test::grid_modes();
  const auto file = dir.write("modes.json", modes.dump(2)).string();
  const std::vector<std::string> args = {"plan", "--modes-file", file,  "--budget", "8", "--next",
                                         "3",    "--format",     "json"};
  const auto first = run_edgeroof(args);
  ASSERT_TRUE(succeeded(first));
  EXPECT_EQ(first.err, "");
  EXPECT_EQ(checked_plan(first.out, modes, 0, 8).size(), 3u);
  const auto second = run_edgeroof(args);
  ASSERT_TRUE(succeeded(second));
  EXPECT_EQ(second.out, first.out);
  // Without --next: the whole budget.
  const auto whole = run_edgeroof({"plan", "--modes-file", file, "--budget", "8", "--format", "json"});
  ASSERT_TRUE(succeeded(whole));
  EXPECT_EQ(checked_plan(whole.out, modes, 0, 8).size(), 8u);
  // A budget above the list picks every mode once.
  const auto all = run_edgeroof({"plan", "--modes-file", file, "--budget", "100", "--format", "json"});
  ASSERT_TRUE(succeeded(all));
  EXPECT_EQ(checked_plan(all.out, modes, 0, 100).size(), 52u);
}

TEST(PlanCli, TheResultsSoFarCountAndAreNotPickedAgain) {
  const ScratchDir dir("plan_results");
  const auto modes = edgeroof::test::grid_modes();
  const auto file = dir.write("modes.json", modes.dump()).string();
  const auto results = edgeroof::test::write_measured(dir);
  // What a sweep leaves beside the results is not read as results.
  (void)dir.write("results/failed.json", R"({"failed": []})");
  (void)dir.write("results/rooflines.json", R"({"modes": []})");
  const std::vector<std::string> args = {"plan",     "--modes-file", file,       "--results", results,
                                         "--budget", "10",           "--format", "json"};
  const auto r = run_edgeroof(args);
  ASSERT_TRUE(succeeded(r)) << r.err;
  const auto picked = checked_plan(r.out, modes, 6, 10);
  EXPECT_EQ(picked.size(), 4u);
  for (const auto& [gpu, emc] : edgeroof::test::kMeasuredModes) {
    const auto key = edgeroof::test::grid_mode_key(gpu, emc);
    EXPECT_EQ(std::count(picked.begin(), picked.end(), key), 0) << key << " was measured already";
  }
  const auto again = run_edgeroof(args);
  ASSERT_TRUE(succeeded(again));
  EXPECT_EQ(again.out, r.out);
  const auto next = run_edgeroof(
      {"plan", "--modes-file", file, "--results", results, "--budget", "10", "--next", "1", "--format", "json"});
  ASSERT_TRUE(succeeded(next));
  EXPECT_EQ(checked_plan(next.out, modes, 6, 10).size(), 1u);
  // The budget is spent: nothing more to measure.
  const auto spent = run_edgeroof({"plan", "--modes-file", file, "--results", results, "--budget", "6"});
  ASSERT_TRUE(succeeded(spent));
  EXPECT_EQ(spent.out, "measure  reason\n0 to measure next; 6 measured of a budget of 6\n");
}

TEST(PlanCli, TheTableHasOneRowPerMode) {
  const ScratchDir dir("plan_table");
  const auto file = dir.write("modes.json", edgeroof::test::grid_modes().dump()).string();
  const auto r = run_edgeroof({"plan", "--modes-file", file, "--budget", "5"});
  ASSERT_TRUE(succeeded(r));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 7);
  EXPECT_EQ(r.out.rfind("measure", 0), 0u);
  EXPECT_NE(r.out.find("\n5 to measure next; 0 measured of a budget of 5\n"), std::string::npos);
}

TEST(PlanCli, BadNumbersAreUsageErrors) {
  const ScratchDir dir("plan_usage");
  const auto file = dir.write("modes.json", edgeroof::test::grid_modes().dump()).string();
  const std::string hint = " (see 'edgeroof plan --help')";
  EXPECT_TRUE(fails_with(run_edgeroof({"plan", "--modes-file", file, "--budget", "0"}), 2,
                         "edgeroof plan: --budget takes a whole number from 1 to 1000000, not '0'" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof({"plan", "--modes-file", file, "--budget", "ten"}), 2,
                         "edgeroof plan: --budget takes a whole number from 1 to 1000000, not 'ten'" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof({"plan", "--modes-file", file, "--budget", "4", "--next", "0"}), 2,
                         "edgeroof plan: --next takes a whole number from 1 to 1000000, not '0'" + hint));
  EXPECT_TRUE(
      fails_with(run_edgeroof({"plan", "--modes-file", file}), 2,
                 "edgeroof plan: --budget N is required (modes to measure in all, the measured ones included)" + hint));
  EXPECT_TRUE(
      fails_with(run_edgeroof({"plan", "--budget", "4"}), 2,
                 "edgeroof plan: --modes-file FILE is required (the output of 'edgeroof modes --format json')" + hint));
  EXPECT_TRUE(fails_with(run_edgeroof({"plan", "--modes-file", file, "--budget", "4", "--format", "xml"}), 2,
                         "edgeroof plan: --format takes table, csv or json, not 'xml'" + hint));
}

TEST(PlanCli, ABadModesFileIsOneLine) {
  const ScratchDir dir("plan_bad");
  auto plan = [](const std::string& file) { return run_edgeroof({"plan", "--modes-file", file, "--budget", "4"}); };
  const std::string prefix = "edgeroof plan: error: ";
  const auto missing = (dir.path() / "missing.json").string();
  EXPECT_TRUE(fails_with_line_containing(plan(missing), 1, prefix + missing));
  const auto text = dir.write("text.json", "modes: all of them").string();
  EXPECT_TRUE(fails_with_line_containing(plan(text), 1, prefix + text));
  auto doc = edgeroof::test::grid_modes();
  doc["modes"][1]["gpu_max_hz"] = "fast";
  const auto typed = dir.write("typed.json", doc.dump()).string();
  const auto r = plan(typed);
  EXPECT_TRUE(fails_with_line_containing(r, 1, prefix + typed));
  EXPECT_NE(r.err.find("modes[1]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gpu_max_hz"), std::string::npos) << r.err;
  doc = edgeroof::test::grid_modes();
  doc["modes"][2]["key"] = doc["modes"][0]["key"];
  const auto twice = dir.write("twice.json", doc.dump()).string();
  const auto t = plan(twice);
  EXPECT_TRUE(fails_with_line_containing(t, 1, prefix + twice));
  EXPECT_NE(t.err.find("modes[2]"), std::string::npos) << t.err;
  EXPECT_NE(t.err.find(doc["modes"][0]["key"].get<std::string>()), std::string::npos) << t.err;
  const auto empty = dir.write("empty.json", R"({"modes": []})").string();
  EXPECT_TRUE(fails_with_line_containing(plan(empty), 1, prefix + empty));
}
