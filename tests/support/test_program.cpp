// The CLI tests' runner must tell a crash, a missing binary and a hang apart from an error exit,
// or a negative test passes for the wrong reason.
#include "program.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace edgeroof::test {
namespace {

TEST(RunProgram, ExitCodeAndStreams) {
  const auto r = run_program("/bin/sh", {"-c", "echo out; echo 'sh: one line' >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "sh: one line\n");
  EXPECT_FALSE(fails_with(r, 3, "sh: one line"));  // stdout is not empty
  const auto quiet = run_program("/bin/sh", {"-c", "echo 'sh: one line' >&2; exit 3"});
  EXPECT_TRUE(fails_with(quiet, 3, "sh: one line"));
  EXPECT_FALSE(fails_with(quiet, 1, "sh: one line"));
  EXPECT_FALSE(fails_with(quiet, 3, "sh: another line"));
  EXPECT_TRUE(fails_with_line_containing(quiet, 3, "one"));
}

TEST(RunProgram, TwoLinesAreNotOne) {
  const auto r = run_program("/bin/sh", {"-c", "printf 'a\\nb\\n' >&2; exit 1"});
  EXPECT_FALSE(fails_with_line_containing(r, 1, "a"));
}

TEST(RunProgram, ACrashIsNotAnExit) {
  const auto r = run_program("/bin/sh", {"-c", "echo 'x: error' >&2; kill -SEGV $$"});
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, 11);
  EXPECT_FALSE(fails_with_line_containing(r, 1, "error"));
  EXPECT_FALSE(succeeded(r));
  EXPECT_NE(r.status().find("signal 11"), std::string::npos);
}

TEST(RunProgram, AMissingBinaryFailsTheTest) {
  ProgramRun r;
  EXPECT_NONFATAL_FAILURE(r = run_program("/no/such/edgeroof", {"--help"}), "cannot be executed");
  EXPECT_FALSE(r.exited());
}

TEST(RunProgram, AHangIsKilled) {
  ProgramOptions options;
  options.timeout_s = 0.2;
  const auto r = run_program("/bin/sleep", {"30"}, options);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(succeeded(r));
}

TEST(RunProgram, EnvironmentStdinAndDirectory) {
  ScratchDir dir("support");
  ProgramOptions options;
  options.env["EDGEROOF_SUPPORT_TEST"] = "42";
  options.stdin_text = "from stdin";
  options.cwd = dir.path();
  const auto r = run_program("/bin/sh", {"-c", "cat; echo \" $EDGEROOF_SUPPORT_TEST\"; pwd"}, options);
  ASSERT_TRUE(succeeded(r));
  EXPECT_EQ(r.out, "from stdin 42\n" + dir.path().string() + "\n");
}

TEST(RunProgram, TheProjectsBinariesAreThere) {
  EXPECT_TRUE(succeeded(run_edgeroof({"--help"})));
  EXPECT_TRUE(succeeded(run_program(bench_exe(), {"--help"})));
}

}  // namespace
}  // namespace edgeroof::test
