#include "edgeroof/power/mode_session.hpp"

#include "text.hpp"

#include <chrono>
#include <exception>
#include <thread>

namespace edgeroof::power {
namespace {

std::string verify_failure(const ClockWait& wait, double timeout_s) {
  if (wait.unreadable) return wait.diffs.at(0);
  return "clocks not in effect after " + detail::fixed(timeout_s, 3) + " s: " + detail::joined(wait.diffs, "; ");
}

}  // namespace

ModeSession::ModeSession(ModeController* controller, SessionOptions options)
    : m_controller(controller), m_options(std::move(options)) {
  if (!m_options.sleep_s) {
    m_options.sleep_s = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
  }
  if (m_controller == nullptr) return;
  m_controller->save();
  m_guard.emplace(*m_controller);
}

ModeEntry ModeSession::enter(const PowerMode& mode) {
  ModeEntry entry;
  const auto stop = [this] { return stop_requested(); };
  if (m_controller != nullptr) {
    const auto since = std::chrono::steady_clock::now();
    try {
      m_controller->apply(mode);
    } catch (const std::exception& e) {
      entry.status = ModeEntry::Status::failed;
      entry.stage = "apply";
      entry.reason = e.what();
      return entry;
    }
    const auto wait = m_controller->await_mode(mode, since, stop);
    if (wait.stopped) {
      entry.status = ModeEntry::Status::stopped;
      return entry;
    }
    if (!wait.diffs.empty()) {
      entry.status = ModeEntry::Status::failed;
      entry.stage = "verify";
      entry.reason = verify_failure(wait, m_controller->patience().timeout_s);
      return entry;
    }
    entry.clock_settle_s = wait.waited_s;
  }
  entry.settled = settle(m_options.settle, m_options.read_temps_C, m_options.read_power_W, m_options.sleep_s, stop);
  if (stop()) entry.status = ModeEntry::Status::stopped;
  return entry;
}

void ModeSession::finish() {
  if (!m_guard) return;
  m_guard->dismiss();
  m_guard.reset();
  m_controller->restore();  // its errors reach the caller, unlike the guard's
}

}  // namespace edgeroof::power
