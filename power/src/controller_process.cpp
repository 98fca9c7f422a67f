#include "edgeroof/power/controller_process.hpp"

#include "edgeroof/power/mode.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace edgeroof::power {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

struct sigaction g_old_int;
struct sigaction g_old_term;

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

std::optional<std::string> find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr || name.empty() || name.find('/') != std::string::npos) return std::nullopt;
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;  // an empty entry means ".", which a privileged tool must not search
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::nullopt;
}

namespace {

// Where the child's streams and working directory go; file actions run in order, so the output
// files are opened relative to the parent's directory before the child changes its own.
void add_file_actions(posix_spawn_file_actions_t& actions, const ChildOptions& options) {
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int out_flags = O_WRONLY | O_CREAT | O_TRUNC;
  if (!options.stdout_path.empty())
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, options.stdout_path.c_str(), out_flags, 0644);
  if (!options.stderr_path.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, options.stderr_path.c_str(), out_flags, 0644);
  if (!options.cwd.empty()) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
    posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
#else
    throw ModeError("starting a child in another working directory needs glibc 2.29 or later");
#endif
  }
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const ChildOptions& options)
    : m_group(options.own_process_group) {
  if (argv.empty()) throw ModeError("no command to run");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The child starts with default SIGINT/SIGTERM handling, whatever the parent installed.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGDEF;
  if (m_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);
  int err = 0;
  try {
    add_file_actions(actions, options);
    err = ::posix_spawn(&m_pid, args[0], &actions, &attr, args.data(), environ);
  } catch (...) {
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    throw;
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    m_pid = -1;
    throw ModeError("cannot run " + argv[0] + ": " + std::strerror(err));
  }
}

ChildProcess::~ChildProcess() {
  if (m_pid > 0) terminate(2.0);
}

void ChildProcess::signal(int sig) const {
  ::kill(m_group ? -m_pid : m_pid, sig);  // a group's id is its leader's pid
}

void ChildProcess::terminate(double grace_s) {
  if (m_pid <= 0) return;
  signal(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid || (r < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      signal(SIGKILL);
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  m_pid = -1;
}

std::optional<int> ChildProcess::wait(const std::function<bool()>& stop, double poll_s, double grace_s) {
  if (m_pid <= 0) throw ModeError("no child to wait for");
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
      m_pid = -1;
      return decode_status(status);
    }
    if (r < 0 && errno != EINTR) {
      m_pid = -1;
      throw ModeError(std::string("waitpid: ") + std::strerror(errno));
    }
    if (stop && stop()) {
      terminate(grace_s);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
  }
}

void run_command(const std::vector<std::string>& argv) {
  ChildProcess child(argv);
  const auto status = child.wait(nullptr);
  if (status != 0)
    throw ModeError("'" + joined(argv) + "' failed with exit status " + std::to_string(status.value_or(-1)));
}

StopSignals::StopSignals() {
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR and the flow sees the flag
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignals::~StopSignals() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
}

bool StopSignals::requested() { return g_stop_signal != 0; }
int StopSignals::signal_number() { return static_cast<int>(g_stop_signal); }
void StopSignals::reset() { g_stop_signal = 0; }

}  // namespace edgeroof::power
