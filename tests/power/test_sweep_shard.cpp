// `edgeroof sweep --shard K/N` (and EDGEROOF_SHARD_INDEX/EDGEROOF_SHARD_COUNT) over a fake Orin AGX
// tree with the stand-in benches: each shard measures exactly the modes at its positions of the list
// `edgeroof modes` prints, the shards together measure the list once, a dry run lists the share,
// bad shards are one usage line; with --plan adaptive two shards split a round's plan; `fit` over
// two boards' folders pools a mode measured twice and says so in one line.
#include "../data/modes/fake_orin.hpp"
#include "program.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using edgeroof::test::fails_with;
using edgeroof::test::ProgramOptions;
using edgeroof::test::run_edgeroof;
using edgeroof::test::succeeded;
using edgeroof::testing::FakeOrin;

namespace {

const std::string data_dir = EDGEROOF_TEST_DATA_DIR;
const std::string fake_bench = data_dir + "/modes/fake-bench.sh";
const std::string roofline_bench = data_dir + "/modes/roofline-bench.sh";
// 13 modes: 12 cores at 2.2 GHz, the EMC at 3199 MHz, every GPU clock of the fake Orin.
const std::string thirteen = "cores=12;cpu=2201600;emc=3199000000";
const std::string hint = " (see 'edgeroof sweep --help')";

std::set<std::string> results_in(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name != "failed.json" && name != "rooflines.json") names.insert(name);
  }
  return names;
}

std::string joined(const std::vector<std::string>& keys) {
  std::string text;
  for (const auto& k : keys) text += (text.empty() ? "" : ", ") + k;
  return text;
}

class SweepShard : public ::testing::Test {
protected:
  void SetUp() override {
    ::unsetenv("EDGEROOF_SHARD_INDEX");
    ::unsetenv("EDGEROOF_SHARD_COUNT");
    m_orin = std::make_unique<FakeOrin>(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  // The keys of `edgeroof modes --grid SPEC` in its order: the list the shards split, read here
  // from the command users run, not from the sweep.
  [[nodiscard]] std::vector<std::string> listed(const std::string& grid) const {
    const auto run = run_edgeroof({"modes", "--root", m_orin->dir().string(), "--grid", grid, "--format", "json"});
    EXPECT_TRUE(succeeded(run)) << run.err;
    std::vector<std::string> keys;
    const auto doc = nlohmann::json::parse(run.out);  // kept: a loop over a temporary's ["modes"] dangles
    for (const auto& m : doc["modes"]) keys.push_back(m["key"].get<std::string>());
    return keys;
  }
  [[nodiscard]] std::vector<std::string> sweep(const std::string& grid, const fs::path& out,
                                               const std::vector<std::string>& more,
                                               const std::string& bench = fake_bench) const {
    std::vector<std::string> a{"sweep", "--modes",    "grid:" + grid, "--root", m_orin->dir().string(),
                               "--out", out.string(), "--bench",      bench,    "--settle-timeout-s",
                               "0"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  std::unique_ptr<FakeOrin> m_orin;
};

// The keys at positions i of `keys` with i mod n == k, with ".json" when `files`.
std::set<std::string> expected_share(const std::vector<std::string>& keys, std::size_t k, std::size_t n) {
  std::set<std::string> share;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i % n == k) share.insert(keys[i] + ".json");
  }
  return share;
}

}  // namespace

TEST_F(SweepShard, EachShardMeasuresItsPositionsAndTogetherTheListOnce) {
  const auto keys = listed(thirteen);
  ASSERT_EQ(keys.size(), 13u);
  const fs::path dir = m_orin->dir();
  // Shard 2/3 by the flag, 0/3 by the variables, 1/3 by both (agreeing).
  const auto two = run_edgeroof(sweep(thirteen, dir / "s2", {"--shard", "2/3"}));
  ASSERT_TRUE(succeeded(two)) << two.err;
  EXPECT_NE(two.err.find("shard 2/3: 4 of 13 modes\n"), std::string::npos) << two.err;
  ProgramOptions env0;
  env0.env = {{"EDGEROOF_SHARD_INDEX", "0"}, {"EDGEROOF_SHARD_COUNT", "3"}};
  const auto zero = run_edgeroof(sweep(thirteen, dir / "s0", {}), env0);
  ASSERT_TRUE(succeeded(zero)) << zero.err;
  EXPECT_NE(zero.err.find("shard 0/3: 5 of 13 modes\n"), std::string::npos) << zero.err;
  ProgramOptions env1;
  env1.env = {{"EDGEROOF_SHARD_INDEX", "1"}, {"EDGEROOF_SHARD_COUNT", "3"}};
  const auto one = run_edgeroof(sweep(thirteen, dir / "s1", {"--shard", "1/3"}), env1);
  ASSERT_TRUE(succeeded(one)) << one.err;
  EXPECT_NE(one.err.find("shard 1/3: 4 of 13 modes\n"), std::string::npos) << one.err;

  std::multiset<std::string> all;
  for (std::size_t k = 0; k < 3; ++k) {
    const auto got = results_in(dir / ("s" + std::to_string(k)));
    EXPECT_EQ(got, expected_share(keys, k, 3)) << k;
    all.insert(got.begin(), got.end());
  }
  std::multiset<std::string> every;
  for (const auto& k : keys) every.insert(k + ".json");
  EXPECT_EQ(all, every);  // disjoint, and the whole list
  // Each file was measured in its own mode: the fake bench records the GPU clock it read as it ran.
  for (const auto& name : results_in(dir / "s2")) {
    const auto doc = nlohmann::json::parse(edgeroof::test::read_file(dir / "s2" / name));
    const auto gpu = name.substr(name.find("-gpu") + 4, name.find("-emc") - name.find("-gpu") - 4);
    EXPECT_EQ(doc["context"]["fake.gpu_cur_freq"], gpu) << name;
  }
}

TEST_F(SweepShard, DryRunListsTheShareAndAnEmptyShareMeasuresNothing) {
  const auto keys = listed(thirteen);
  ASSERT_EQ(keys.size(), 13u);
  const fs::path out = m_orin->dir() / "results";
  const auto dry = run_edgeroof(sweep(thirteen, out, {"--shard", "1/4", "--dry-run"}));
  ASSERT_TRUE(succeeded(dry)) << dry.err;
  EXPECT_NE(dry.out.find("shard 1/4: 3 of 13 modes: " + joined({keys[1], keys[5], keys[9]}) + "\n"), std::string::npos)
      << dry.out;
  std::size_t benches = 0;
  for (auto at = dry.out.find("--benchmark_out="); at != std::string::npos;
       at = dry.out.find("--benchmark_out=", at + 1))
    ++benches;
  EXPECT_EQ(benches, 3u) << dry.out;
  EXPECT_FALSE(fs::exists(out));
  // Four boards for two modes: the last two have nothing to do, and say so.
  const auto empty =
      run_edgeroof(sweep("cores=12;cpu=2201600;gpu=318750000,1300500000;emc=3199000000", out, {"--shard", "3/4"}));
  ASSERT_TRUE(succeeded(empty)) << empty.err;
  EXPECT_NE(empty.err.find("shard 3/4: 0 of 2 modes; nothing to measure\n"), std::string::npos) << empty.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(SweepShard, BadShardsAreOneUsageLineAndTouchNothing) {
  const fs::path out = m_orin->dir() / "results";
  const std::string rule = "K/N with N from 1 to 1000000 and K from 0 to N-1";
  for (const char* bad : {"3/3", "0/0", "x", "1/4/4", "+1/4", "1/1000001"}) {
    EXPECT_TRUE(fails_with(run_edgeroof(sweep(thirteen, out, {"--shard", bad})), 2,
                           "edgeroof sweep: --shard takes " + rule + ", not '" + bad + "'" + hint))
        << bad;
  }
  ProgramOptions only_index;
  only_index.env = {{"EDGEROOF_SHARD_INDEX", "1"}};
  EXPECT_TRUE(fails_with(run_edgeroof(sweep(thirteen, out, {}), only_index), 2,
                         "edgeroof sweep: EDGEROOF_SHARD_INDEX is set without EDGEROOF_SHARD_COUNT" + hint));
  ProgramOptions only_count;
  only_count.env = {{"EDGEROOF_SHARD_COUNT", "4"}};
  EXPECT_TRUE(fails_with(run_edgeroof(sweep(thirteen, out, {}), only_count), 2,
                         "edgeroof sweep: EDGEROOF_SHARD_COUNT is set without EDGEROOF_SHARD_INDEX" + hint));
  ProgramOptions past;
  past.env = {{"EDGEROOF_SHARD_INDEX", "4"}, {"EDGEROOF_SHARD_COUNT", "4"}};
  EXPECT_TRUE(fails_with(run_edgeroof(sweep(thirteen, out, {}), past), 2,
                         "edgeroof sweep: EDGEROOF_SHARD_INDEX=4 EDGEROOF_SHARD_COUNT=4: a shard is " + rule + hint));
  ProgramOptions other;
  other.env = {{"EDGEROOF_SHARD_INDEX", "2"}, {"EDGEROOF_SHARD_COUNT", "4"}};
  EXPECT_TRUE(
      fails_with(run_edgeroof(sweep(thirteen, out, {"--shard", "1/4"}), other), 2,
                 "edgeroof sweep: --shard 1/4 and EDGEROOF_SHARD_INDEX/EDGEROOF_SHARD_COUNT 2/4 disagree" + hint));
  auto current = sweep(thirteen, out, {"--shard", "0/2"});
  current[2] = "current";
  EXPECT_TRUE(fails_with(run_edgeroof(current), 2,
                         "edgeroof sweep: --shard splits a list of modes; --modes current is one mode" + hint));
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(m_orin->get("/sys/kernel/nvpmodel_emc_cap/emc_iso_cap"), "3199000000");
  // Empty variables (a CI job outside its matrix) count as unset: the whole list.
  ::setenv("EDGEROOF_SHARD_INDEX", "", 1);
  ::setenv("EDGEROOF_SHARD_COUNT", "", 1);
  const auto dry = run_edgeroof(sweep(thirteen, out, {"--dry-run"}));
  ::unsetenv("EDGEROOF_SHARD_INDEX");
  ::unsetenv("EDGEROOF_SHARD_COUNT");
  ASSERT_TRUE(succeeded(dry)) << dry.err;
  EXPECT_EQ(dry.out.find("shard "), std::string::npos) << dry.out;
}

namespace {

// "adaptive sweep: round 1: 4 of a budget of 8 measured; measuring ...: KEYS": the keys.
std::vector<std::string> planned(const std::string& log, const std::string& head) {
  const auto at = log.find(head);
  if (at == std::string::npos) return {};
  const auto from_at = at + head.size();
  const auto end = log.find('\n', from_at);
  std::vector<std::string> keys;
  const std::string rest = log.substr(from_at, end - from_at);
  for (std::size_t from = 0; from <= rest.size();) {
    const auto comma = rest.find(", ", from);
    keys.push_back(rest.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
    if (comma == std::string::npos) break;
    from = comma + 2;
  }
  return keys;
}

}  // namespace

TEST_F(SweepShard, AdaptiveShardsSplitTheRoundPlannedFromTheSharedResults) {
  const fs::path out = m_orin->dir() / "shared";
  const std::string all = "cores=12;cpu=2201600";  // 52 candidates
  auto adaptive = [&](const std::string& budget, const std::string& next, std::vector<std::string> more) {
    auto a = sweep(all, out, {"--plan", "adaptive", "--budget", budget, "--next", next}, roofline_bench);
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  // The first four modes, measured by one board into the shared folder.
  const auto first = run_edgeroof(adaptive("4", "4", {}));
  ASSERT_TRUE(succeeded(first)) << first.err;
  ASSERT_EQ(results_in(out).size(), 4u);
  // The next round as one board, and as each of two, plans from those four results.
  const std::string head = "adaptive sweep: round 1: 4 of a budget of 8 measured; measuring ";
  const auto whole = run_edgeroof(adaptive("8", "4", {"--dry-run"}));
  ASSERT_TRUE(succeeded(whole)) << whole.err;
  const auto plan = planned(whole.out, head + "4: ");
  ASSERT_EQ(plan.size(), 4u) << whole.out;
  const auto s0 = run_edgeroof(adaptive("8", "4", {"--dry-run", "--shard", "0/2"}));
  const auto s1 = run_edgeroof(adaptive("8", "4", {"--dry-run", "--shard", "1/2"}));
  ASSERT_TRUE(succeeded(s0)) << s0.err;
  ASSERT_TRUE(succeeded(s1)) << s1.err;
  EXPECT_EQ(planned(s0.out, head + "2 of the round's 4 (shard 0/2): "), (std::vector<std::string>{plan[0], plan[2]}))
      << s0.out;
  EXPECT_EQ(planned(s1.out, head + "2 of the round's 4 (shard 1/2): "), (std::vector<std::string>{plan[1], plan[3]}))
      << s1.out;
  std::set<std::string> measured = results_in(out);
  for (const auto& k : plan) EXPECT_EQ(measured.count(k + ".json"), 0u) << k;  // the plan is of new modes
  // A round of one planned mode leaves the second shard nothing: it stops, measuring nothing.
  const auto idle = run_edgeroof(adaptive("8", "1", {"--shard", "1/2"}));
  ASSERT_TRUE(idle.exited()) << idle.status();
  EXPECT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_NE(idle.err.find("adaptive sweep: round 1: none of the 1 planned modes is shard 1/2's; stopping\n"),
            std::string::npos)
      << idle.err;
  EXPECT_EQ(results_in(out), measured);
}

TEST_F(SweepShard, FitPoolsAModeTwoBoardsMeasuredAndSaysSo) {
  const std::string two = "cores=12;cpu=2201600;gpu=318750000,1300500000;emc=3199000000";
  const auto keys = listed(two);
  ASSERT_EQ(keys.size(), 2u);
  const fs::path a = m_orin->dir() / "board-a", b = m_orin->dir() / "board-b";
  // Two boards both ran shard 0/2 (a matrix entry run twice): the first mode is in both folders.
  ASSERT_TRUE(succeeded(run_edgeroof(sweep(two, a, {"--shard", "0/2"}, roofline_bench))));
  ASSERT_TRUE(succeeded(run_edgeroof(sweep(two, b, {"--shard", "0/2"}, roofline_bench))));
  ASSERT_TRUE(succeeded(run_edgeroof(sweep(two, b, {"--shard", "1/2"}, roofline_bench))));
  const fs::path fitted = m_orin->dir() / "rooflines.json";
  const auto fit = run_edgeroof({"fit", a.string(), b.string(), "-o", fitted.string()});
  ASSERT_TRUE(succeeded(fit)) << fit.err;
  const std::string line =
      "edgeroof fit: warning: mode " + keys[0] +
      " was measured in 2 results files, their repetitions pooled: " + (a / (keys[0] + ".json")).string() + ", " +
      (b / (keys[0] + ".json")).string() + "\n";
  EXPECT_NE(fit.err.find(line), std::string::npos) << fit.err;
  EXPECT_EQ(fit.err.find("was measured in", fit.err.find(line) + line.size()), std::string::npos) << fit.err;  // once
  const auto doc = nlohmann::json::parse(edgeroof::test::read_file(fitted));
  ASSERT_EQ(doc["modes"].size(), 2u);
  for (const auto& m : doc["modes"]) EXPECT_EQ(m["files"].size(), m["key"] == keys[0] ? 2u : 1u) << m["key"];
  // One board's folder alone has each mode once: no such warning.
  const auto single = run_edgeroof({"fit", b.string(), "-o", fitted.string()});
  ASSERT_TRUE(succeeded(single)) << single.err;
  EXPECT_EQ(single.err.find("was measured in"), std::string::npos) << single.err;
}
