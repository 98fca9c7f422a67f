// The predict, tune and plot commands as a user runs them: exit status, JSON on stdout, one error
// line on stderr, files written atomically or not at all.
#include "edgeroof/power/nvpmodel.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

const std::string data_dir = std::string(EDGEROOF_TEST_DATA_DIR) + "/reports/";

struct CliRun {
  int status = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ReportCli : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("edgeroof_test_report_cli_" + std::to_string(::getpid()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  // edgeroof ARGS with the given PATH, run in m_dir, without a shell.
  CliRun run(std::vector<std::string> args, const std::string& path_env = "/usr/local/bin:/usr/bin:/bin") {
    args.insert(args.begin(), std::string(EDGEROOF_BINARY_DIR) + "/reports/edgeroof");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string path_var = "PATH=" + path_env;
    char* envp[] = {path_var.data(), nullptr};
    const std::string out = (m_dir / "stdout").string(), err = (m_dir / "stderr").string(), dir = m_dir.string();
    CliRun r;
    const pid_t pid = fork();
    if (pid == 0) {
      const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644),
                e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(dir.c_str()) != 0) _exit(126);
      execve(argv[0], argv.data(), envp);
      _exit(127);
    }
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.status = WEXITSTATUS(status);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path m_dir;
};

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_F(ReportCli, PredictJsonWithMeasuredLayers) {
  const auto r = run({"predict", "--workload", data_dir + "toy_workload.json", "--rooflines",
                      data_dir + "toy_rooflines.json", "--results", data_dir + "toy_layers.json", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"], "toy");
  EXPECT_EQ(j["modes"].size(), 3u);
  EXPECT_NEAR(j["modes"][0]["energy_J"].get<double>(), 0.17902, 1e-12);  // test_predict.cpp derives it
  EXPECT_NEAR(j["modes"][0]["layers"][0]["error"].get<double>(), -0.2, 1e-12);
  EXPECT_TRUE(j["modes"][2]["energy_J"].is_null());
}

TEST_F(ReportCli, TuneWritesTheBoardConfWithTheNewMode) {
  const auto conf_out = (m_dir / "edgeroof.conf").string();
  const auto r =
      run({"tune", "--workload", data_dir + "toy_workload.json", "--rooflines", data_dir + "toy_rooflines.json",
           "--nvpmodel-conf", std::string(EDGEROOF_TEST_DATA_DIR) + "/modes/nvpmodel_p3701_0000.conf", "--conf-out",
           conf_out, "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // Of the two modes with energy, MAXN (9 ms, 0.179 J) is fastest and no other is within 5%.
  EXPECT_EQ(j["chosen"]["key"], "nvp0-maxn");
  EXPECT_EQ(j["saving_vs_maxn_pct"].get<double>(), 0.0);
  EXPECT_EQ(j["nvpmodel"]["id"], 4);  // the board's modes are 0..3
  EXPECT_EQ(j["nvpmodel"]["command"], "sudo nvpmodel -f " + conf_out + " -m 4");
  const auto conf = edgeroof::power::parse_nvpmodel_conf(slurp(conf_out));
  ASSERT_NE(conf.find_mode(4), nullptr);
  EXPECT_NE(conf.find_mode(1), nullptr);  // the board's own modes are kept
  EXPECT_EQ(conf.find_mode(4)->value("GPU", "MAX_FREQ"), 1300500000);
  EXPECT_FALSE(conf.params.empty());
}

TEST_F(ReportCli, TuneConstraintsAreExclusive) {
  const auto r = run({"tune", "--workload", data_dir + "toy_workload.json", "--rooflines",
                      data_dir + "toy_rooflines.json", "--max-slowdown", "5%", "--max-power-W", "30"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
}

TEST_F(ReportCli, TruncatedRooflinesAreOneErrorLine) {
  const std::string text = slurp(data_dir + "toy_rooflines.json");
  std::ofstream(m_dir / "cut.json") << text.substr(0, text.size() / 2);
  for (const char* cmd : {"predict", "tune"}) {
    const auto r =
        run({cmd, "--workload", data_dir + "toy_workload.json", "--rooflines", (m_dir / "cut.json").string()});
    EXPECT_EQ(r.status, 1) << cmd;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("cut.json: not valid JSON"), std::string::npos) << r.err;
  }
  const auto r = run({"plot", (m_dir / "cut.json").string(), "-o", (m_dir / "report").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_FALSE(fs::exists(m_dir / "report"));
}

TEST_F(ReportCli, PlotWithoutGnuplotOnPathIsOneClearError) {
  fs::create_directories(m_dir / "empty-bin");
  const auto r =
      run({"plot", data_dir + "toy_rooflines.json", "-o", (m_dir / "report").string()}, (m_dir / "empty-bin").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "edgeroof plot: error: gnuplot not found on PATH (install gnuplot-nox, e.g. 'sudo apt-get install "
            "gnuplot-nox', or pass --gnuplot PATH)\n");
  EXPECT_FALSE(fs::exists(m_dir / "report"));
}
