// A stretch of work in power modes: the state found is saved when the session opens, each mode is
// applied, verified with patience (the clocks read back until they follow) and settled, and the
// state found is restored when the session ends, on the exception paths too.
#pragma once

#include "edgeroof/power/controller.hpp"
#include "edgeroof/power/mode.hpp"
#include "edgeroof/power/settle.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace edgeroof::power {

struct SessionOptions {
  SettleOptions settle;
  std::function<std::vector<double>()> read_temps_C;    // empty: no zones
  std::function<std::optional<double>()> read_power_W;  // empty: no sensor
  std::function<void(double)> sleep_s;                  // empty: sleeps
  std::function<bool()> stop;                           // empty: never
};

// How entering one mode went.
struct ModeEntry {
  enum class Status { ready, failed, stopped };
  Status status = Status::ready;
  std::string stage;   // failed: "apply" (the machine refused a write) or "verify" (clocks did not follow)
  std::string reason;  // failed: why, one line
  // How long the clocks took to read back as the mode's after the first write (measured);
  // absent where nothing was applied.
  std::optional<double> clock_settle_s;
  SettleResult settled;  // ready: how the wait for cool and steady went
};

class ModeSession {
public:
  // Saves the state found (controller->save()). With nullptr the machine's mode is used as it is:
  // nothing is applied or restored, modes are only settled.
  ModeSession(ModeController* controller, SessionOptions options);
  // Restores the state found unless finish() ran; a failure is reported on stderr, as a
  // destructor cannot throw.
  ~ModeSession() = default;
  ModeSession(const ModeSession&) = delete;
  ModeSession& operator=(const ModeSession&) = delete;

  // Applies the mode, reads the clocks back until they follow (within the controller's
  // patience()), then settles. A refused apply or clocks that do not follow make a failed entry;
  // stop() turning true a stopped one. Anything else thrown leaves here, and the session restores
  // when it goes.
  [[nodiscard]] ModeEntry enter(const PowerMode& mode);
  // Restores the state found; its errors reach the caller. Later calls do nothing.
  void finish();
  [[nodiscard]] bool stop_requested() const { return m_options.stop && m_options.stop(); }

private:
  ModeController* m_controller;
  SessionOptions m_options;
  std::optional<RestoreGuard> m_guard;  // restores when the session goes without finish()
};

}  // namespace edgeroof::power
