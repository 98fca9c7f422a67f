// How a window's joules are made from readings: the trapezoid rule over timestamped power samples
// (INA3221, NVML power), deltas of cumulative counters with wrap-around (RAPL, NVML energy), and
// the sampler thread that takes the readings at the sensor's own update period.
#pragma once

#include "edgeroof/power/sensor.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace edgeroof::power::detail {

// Trapezoid rule: energy += (p_prev + p_now) / 2 * (t_now - t_prev), per rail.
class TrapezoidIntegrator {
public:
  explicit TrapezoidIntegrator(std::size_t rails = 0) : m_energy_J(rails, 0.0) {}
  void add(double t_s, const std::vector<double>& power_W);
  [[nodiscard]] const std::vector<double>& energy_J() const { return m_energy_J; }
  [[nodiscard]] double duration_s() const { return m_samples > 1 ? m_last_s - m_first_s : 0.0; }
  [[nodiscard]] std::size_t samples() const { return m_samples; }

private:
  std::vector<double> m_energy_J;
  std::vector<double> m_last_W;
  double m_first_s = 0.0;
  double m_last_s = 0.0;
  std::size_t m_samples = 0;
};

// Sums the increments of cumulative counters (raw units), one per rail. A counter that went
// backwards wrapped once at its range (RAPL's max_energy_range_uj); a range of 0 means the
// counter never wraps, so going backwards is an error (the device was reset).
class CounterAccumulator {
public:
  explicit CounterAccumulator(std::vector<std::uint64_t> ranges)
      : m_ranges(std::move(ranges)), m_sum(m_ranges.size(), 0) {}
  // Throws SensorError when a counter without a range went backwards.
  void add(const std::vector<std::uint64_t>& raw);
  [[nodiscard]] const std::vector<std::uint64_t>& sum() const { return m_sum; }
  [[nodiscard]] std::size_t reads() const { return m_reads; }

private:
  std::vector<std::uint64_t> m_ranges;
  std::vector<std::uint64_t> m_sum;
  std::vector<std::uint64_t> m_last;
  std::size_t m_reads = 0;
};

// Calls `tick(now)` once in start() (on the caller's thread), then every `period_s` on its own
// thread, then once more in stop() (on the caller's thread again), so the first and last readings
// are the window's edges. The thread is made once and parked between windows, so opening and
// closing a window costs no thread start or join: stop() waits only for a tick in flight. An
// exception thrown by a tick on the thread ends that window's sampling and is rethrown by stop().
// The period is waited with the steady clock; the timestamps come from `clock`.
class Sampler {
public:
  using Tick = std::function<void(double t_s)>;
  Sampler(Tick tick, double period_s, Clock clock);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void start();
  void stop();
  [[nodiscard]] double period_s() const { return m_period_s; }

private:
  void run();

  Tick m_tick;
  double m_period_s;
  Clock m_clock;
  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_open = false;         // a window is open: the thread ticks
  bool m_ticking = false;      // the thread is inside a tick
  bool m_quit = false;         // the destructor wants the thread to end
  unsigned long m_window = 0;  // counts start()s, so a quick stop()/start() restarts the period
  std::exception_ptr m_error;  // a tick's failure on the thread, until stop() reports it
  double m_last_tick_s = 0.0;  // timestamp of the thread's last tick in this window
};

// A window over a sensor that gives power: samples every period, trapezoid rule.
class PowerWindow {
public:
  using Read = std::function<void(std::vector<double>& power_W)>;
  PowerWindow(std::size_t rails, Read read, double period_s, Clock clock);
  void start();
  [[nodiscard]] WindowEnergy stop();

private:
  std::size_t m_rails;
  Read m_read;
  Clock m_clock;
  TrapezoidIntegrator m_integrator;
  std::vector<double> m_power_W;
  Sampler m_sampler;
};

// A window over cumulative energy counters: read at the edges, and polled in between so a counter
// never wraps twice unseen. `joules_per_count` turns raw counts (uJ, mJ) into joules.
class CounterWindow {
public:
  using Read = std::function<void(std::vector<std::uint64_t>& raw)>;
  CounterWindow(std::vector<std::uint64_t> ranges, double joules_per_count, Read read, double poll_s, Clock clock);
  void start();
  [[nodiscard]] WindowEnergy stop();

private:
  std::vector<std::uint64_t> m_ranges;
  double m_joules_per_count;
  Read m_read;
  Clock m_clock;
  std::optional<CounterAccumulator> m_accumulator;
  std::vector<std::uint64_t> m_raw;
  double m_first_s = 0.0;
  double m_last_s = 0.0;
  Sampler m_sampler;
};

// The update period of a value that changes only when the hardware refreshes it: polls `read`
// for at most `max_s` and returns the median interval between changes, or nullopt when fewer than
// four changes were seen (a steady value, a fake tree).
[[nodiscard]] std::optional<double> measure_update_period_s(const std::function<double()>& read, const Clock& clock,
                                                            double max_s);

}  // namespace edgeroof::power::detail
