// Child processes started from an argv vector (posix_spawn, never a shell), and the SIGINT/SIGTERM
// flag that lets a sweep stop its child, restore the power mode and exit from its main flow.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace edgeroof::power {

// The full path of an executable found in $PATH; nullopt when there is none.
[[nodiscard]] std::optional<std::string> find_in_path(const std::string& name);

// How a child starts, beyond its argv.
struct ChildOptions {
  std::string cwd;          // its working directory; empty: the parent's
  std::string stdout_path;  // its standard output goes to this file (created or truncated); empty: inherited
  std::string stderr_path;  // the same for its standard error
  // It leads a new process group, which terminate() signals as a whole: helpers the child started
  // end with it. It then no longer receives a terminal's Ctrl-C itself.
  bool own_process_group = false;
};

class ChildProcess {
public:
  // Starts argv[0] (a path; no $PATH search) with argv. stdin is /dev/null so that a child that
  // asks a question (nvpmodel's reboot prompt) cannot wait forever. Throws ModeError.
  explicit ChildProcess(const std::vector<std::string>& argv) : ChildProcess(argv, ChildOptions{}) {}
  ChildProcess(const std::vector<std::string>& argv, const ChildOptions& options);
  ~ChildProcess();  // a child still running is terminated and reaped
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits for the exit, checking `stop` every poll_s; when stop() turns true the child gets
  // SIGTERM (SIGKILL after grace_s) and nullopt is returned. Otherwise the exit status, or 128 +
  // the signal that ended it.
  std::optional<int> wait(const std::function<bool()>& stop, double poll_s = 0.05, double grace_s = 10.0);
  [[nodiscard]] pid_t pid() const { return m_pid; }

private:
  void terminate(double grace_s);
  void signal(int sig) const;
  pid_t m_pid = -1;
  bool m_group = false;
};

// Runs argv to completion; throws ModeError naming the command unless it exits with 0.
void run_command(const std::vector<std::string>& argv);

// While alive, SIGINT and SIGTERM only set a flag (the handlers before are put back on
// destruction). The main flow polls requested() and cleans up itself.
class StopSignals {
public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  [[nodiscard]] static bool requested();
  [[nodiscard]] static int signal_number();  // 0 when none arrived
  static void reset();                       // for tests
};

}  // namespace edgeroof::power
