#include "program.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace edgeroof::test {

namespace fs = std::filesystem;

std::string ProgramRun::status() const {
  if (timed_out) return "timed out";
  if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  if (exit_code < 0) return "did not run";
  return "exit " + std::to_string(exit_code);
}

fs::path edgeroof_exe() { return EDGEROOF_EXE; }
fs::path bench_exe() { return EDGEROOF_BENCH_EXE; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

std::vector<std::string> environment(const ProgramOptions& options) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    if (options.env.count(key) != 0) continue;
    if (std::find(options.unset_env.begin(), options.unset_env.end(), key) != options.unset_env.end()) continue;
    out.push_back(entry);
  }
  for (const auto& [key, value] : options.env) out.push_back(key + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

ProgramRun run_program(const fs::path& program, const std::vector<std::string>& args, const ProgramOptions& options) {
  ProgramRun run;
  run.program = program.filename().string();
  if (::access(program.c_str(), X_OK) != 0) {
    ADD_FAILURE() << program << " cannot be executed: " << std::strerror(errno);
    return run;
  }
  char dir_template[] = "/tmp/edgeroof_program_XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return run;
  }
  const fs::path io_dir = dir_template;
  const std::string out_path = (io_dir / "stdout").string(), err_path = (io_dir / "stderr").string(),
                    in_path = (io_dir / "stdin").string();
  if (options.stdin_text) std::ofstream(in_path, std::ios::binary) << *options.stdin_text;

  std::vector<std::string> argv_strings{program.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = environment(options);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);
  const std::string cwd = options.cwd.string();
  const std::string in_file = options.stdin_text ? in_path : "/dev/null";

  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open(in_file.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) _exit(126);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
    ::setpgid(0, 0);  // its own process group, so a timeout ends its children too
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    fs::remove_all(io_dir);
    return run;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options.timeout_s);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      run.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!run.timed_out) {
    if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  }
  run.out = read_file(out_path);
  run.err = read_file(err_path);
  fs::remove_all(io_dir);
  return run;
}

ProgramRun run_edgeroof(const std::vector<std::string>& args, const ProgramOptions& options) {
  return run_program(edgeroof_exe(), args, options);
}

namespace {

::testing::AssertionResult one_line(const ProgramRun& run, int exit_code) {
  if (!run.exited() || run.exit_code != exit_code) {
    return ::testing::AssertionFailure() << run.program << ": wanted exit " << exit_code << ", got " << run.status()
                                         << "\nstderr: " << run.err;
  }
  if (!run.out.empty()) return ::testing::AssertionFailure() << run.program << " wrote on stdout: " << run.out;
  if (run.err.empty() || run.err.back() != '\n' || std::count(run.err.begin(), run.err.end(), '\n') != 1) {
    return ::testing::AssertionFailure() << run.program << ": wanted one line on stderr, got: [" << run.err << "]";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult fails_with(const ProgramRun& run, int exit_code, const std::string& line) {
  auto r = one_line(run, exit_code);
  if (!r) return r;
  const std::string got = run.err.substr(0, run.err.size() - 1);
  if (got != line) {
    return ::testing::AssertionFailure() << run.program << ": wanted the line\n  " << line << "\ngot\n  " << got;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult fails_with_line_containing(const ProgramRun& run, int exit_code, const std::string& part) {
  auto r = one_line(run, exit_code);
  if (!r) return r;
  if (run.err.find(part) == std::string::npos) {
    return ::testing::AssertionFailure() << run.program << ": wanted a line containing\n  " << part << "\ngot\n  "
                                         << run.err;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult succeeded(const ProgramRun& run) {
  if (run.exited() && run.exit_code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << run.program << ": " << run.status() << "\nstderr: " << run.err;
}

ScratchDir::ScratchDir(const std::string& tag) {
  std::string name = (fs::temp_directory_path() / ("edgeroof_" + tag + "_XXXXXX")).string();
  if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp " + name + ": " + std::strerror(errno));
  m_path = name;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

fs::path ScratchDir::write(const std::string& name, const std::string& text) const {
  const fs::path p = m_path / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

}  // namespace edgeroof::test
