// Running the project's programs from tests: by their target file, without a shell, with both
// streams captured, a time limit, and a crash told apart from an exit. One helper for every CLI
// test, so a missing binary or a crash fails a test instead of passing for a non-zero status.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::test {

struct ProgramOptions {
  std::filesystem::path cwd;               // empty: the test's own working directory
  std::map<std::string, std::string> env;  // set (or, with an empty value, kept) on top of the test's
  std::vector<std::string> unset_env;      // removed from the environment
  std::optional<std::string> stdin_text;   // none: /dev/null
  double timeout_s = 120.0;                // then the program is killed (SIGKILL) and timed_out set
};

struct ProgramRun {
  std::string program;  // what ran, for messages
  int exit_code = -1;   // -1 unless it exited
  int signal = 0;       // the signal that ended it, 0 when it exited
  bool timed_out = false;
  std::string out;
  std::string err;

  [[nodiscard]] bool exited() const { return exit_code >= 0; }
  // "exit 1", "killed by signal 11", "timed out after 120 s": for failure messages.
  [[nodiscard]] std::string status() const;
};

// The target files, as CMake built them (edgeroof_add_test passes their paths).
[[nodiscard]] std::filesystem::path edgeroof_exe();
[[nodiscard]] std::filesystem::path bench_exe();

// Runs `program args...`. A program that does not exist or cannot be executed fails the test
// (ADD_FAILURE) and gives exit_code -1.
ProgramRun run_program(const std::filesystem::path& program, const std::vector<std::string>& args,
                       const ProgramOptions& options = {});
// `edgeroof args...`
ProgramRun run_edgeroof(const std::vector<std::string>& args, const ProgramOptions& options = {});

// The program exited with `exit_code`, wrote nothing on stdout and exactly one line on stderr,
// and that line is `line` (exact match).
[[nodiscard]] ::testing::AssertionResult fails_with(const ProgramRun& run, int exit_code, const std::string& line);
// The same, but the one line only has to contain `part`.
[[nodiscard]] ::testing::AssertionResult fails_with_line_containing(const ProgramRun& run, int exit_code,
                                                                    const std::string& part);
// The program exited with 0.
[[nodiscard]] ::testing::AssertionResult succeeded(const ProgramRun& run);

// A scratch directory removed when the object goes.
class ScratchDir {
public:
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
  // Writes `text` to path()/name and returns the full path.
  std::filesystem::path write(const std::string& name, const std::string& text) const;

private:
  std::filesystem::path m_path;
};

[[nodiscard]] std::string read_file(const std::filesystem::path& path);

}  // namespace edgeroof::test
