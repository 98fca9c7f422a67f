#include "edgeroof/power/sensor_sampler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

namespace edgeroof::power {

Clock steady_clock() {
  return [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
}

namespace detail {

void TrapezoidIntegrator::add(double t_s, const std::vector<double>& power_W) {
  if (power_W.size() != m_energy_J.size()) {
    throw SensorError("sampler: " + std::to_string(power_W.size()) + " power values for " +
                      std::to_string(m_energy_J.size()) + " rails");
  }
  if (m_samples == 0) {
    m_first_s = t_s;
  } else {
    // A clock that stands still adds nothing; one that runs backwards is not monotonic.
    const double dt = t_s - m_last_s;
    if (dt < 0.0) throw SensorError("sampler: clock went backwards");
    for (std::size_t r = 0; r < power_W.size(); ++r) m_energy_J[r] += 0.5 * (m_last_W[r] + power_W[r]) * dt;
  }
  m_last_W = power_W;
  m_last_s = t_s;
  ++m_samples;
}

void CounterAccumulator::add(const std::vector<std::uint64_t>& raw) {
  if (raw.size() != m_sum.size()) throw SensorError("counter: wrong number of counters");
  if (m_reads > 0) {
    for (std::size_t r = 0; r < raw.size(); ++r) {
      if (raw[r] >= m_last[r]) {
        m_sum[r] += raw[r] - m_last[r];
      } else if (m_ranges[r] > 0 && m_last[r] <= m_ranges[r]) {
        // Wrapped once: up to the range, then from zero.
        m_sum[r] += (m_ranges[r] - m_last[r]) + raw[r];
      } else {
        throw SensorError("counter " + std::to_string(r) + " went backwards (" + std::to_string(m_last[r]) + " -> " +
                          std::to_string(raw[r]) + ") and has no wrap-around range");
      }
    }
  }
  m_last = raw;
  ++m_reads;
}

Sampler::Sampler(Tick tick, double period_s, Clock clock)
    : m_tick(std::move(tick)), m_period_s(period_s), m_clock(std::move(clock)) {}

Sampler::~Sampler() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_quit = true;
  }
  m_cv.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void Sampler::start() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_open) throw SensorError("sampler: start() while a window is open");
  }
  // No window is open, so the thread is parked and not inside a tick: this reading is alone.
  m_tick(m_clock());
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_open = true;
    m_error = nullptr;
    m_last_tick_s = -std::numeric_limits<double>::infinity();
    ++m_window;
  }
  if (m_thread.joinable()) {
    m_cv.notify_all();
  } else {
    m_thread = std::thread([this] { run(); });
  }
}

void Sampler::run() {
  const auto period =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(m_period_s));
  std::unique_lock<std::mutex> lock(m_mutex);
  for (;;) {
    m_cv.wait(lock, [this] { return m_quit || (m_open && !m_error); });
    if (m_quit) return;
    const unsigned long window = m_window;
    // Deadlines advance by whole periods, so a late wake-up does not stretch the next interval.
    auto deadline = std::chrono::steady_clock::now() + period;
    while (!m_cv.wait_until(lock, deadline, [&] { return m_quit || !m_open || m_error || m_window != window; })) {
      m_ticking = true;
      lock.unlock();
      std::exception_ptr error;
      const double t_s = m_clock();
      try {
        m_tick(t_s);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      m_ticking = false;
      m_last_tick_s = t_s;
      if (error) m_error = error;
      m_cv.notify_all();
      deadline += period;
      const auto now = std::chrono::steady_clock::now();
      if (deadline < now) deadline = now + period;
    }
  }
}

void Sampler::stop() {
  // The window ends now, not when a tick in flight has finished: on a loaded machine that tick's
  // thread may wait a whole time slice for a core.
  const double end_s = m_clock();
  std::exception_ptr error;
  double last_tick_s = end_s;
  {
    std::unique_lock<std::mutex> lock(m_mutex);
    if (!m_open) throw SensorError("sampler: stop() without start()");
    m_open = false;
    m_cv.notify_all();
    // Only a tick already in flight is waited for; a parked or sleeping thread is not woken.
    m_cv.wait(lock, [this] { return !m_ticking; });
    error = m_error;
    m_error = nullptr;
    last_tick_s = m_last_tick_s;
  }
  if (error) std::rethrow_exception(error);
  // A tick in flight may have taken its time after end_s; the last reading keeps time monotonic.
  m_tick(std::max(end_s, last_tick_s));
}

PowerWindow::PowerWindow(std::size_t rails, Read read, double period_s, Clock clock)
    : m_rails(rails),
      m_read(std::move(read)),
      m_clock(clock),
      m_integrator(rails),
      m_power_W(rails, 0.0),
      m_sampler(
          [this](double t_s) {
            m_read(m_power_W);
            m_integrator.add(t_s, m_power_W);
          },
          period_s, clock) {}

void PowerWindow::start() {
  m_integrator = TrapezoidIntegrator(m_rails);
  m_sampler.start();
}

WindowEnergy PowerWindow::stop() {
  m_sampler.stop();
  WindowEnergy w;
  w.duration_s = m_integrator.duration_s();
  w.rail_J = m_integrator.energy_J();
  w.readings = m_integrator.samples();
  return w;
}

CounterWindow::CounterWindow(std::vector<std::uint64_t> ranges, double joules_per_count, Read read, double poll_s,
                             Clock clock)
    : m_ranges(std::move(ranges)),
      m_joules_per_count(joules_per_count),
      m_read(std::move(read)),
      m_clock(clock),
      m_raw(m_ranges.size(), 0),
      m_sampler(
          [this](double t_s) {
            m_read(m_raw);
            m_accumulator->add(m_raw);
            if (m_accumulator->reads() == 1) m_first_s = t_s;
            m_last_s = t_s;
          },
          poll_s, clock) {}

void CounterWindow::start() {
  m_accumulator.emplace(m_ranges);
  m_sampler.start();
}

WindowEnergy CounterWindow::stop() {
  m_sampler.stop();
  WindowEnergy w;
  w.duration_s = m_last_s - m_first_s;
  for (std::uint64_t counts : m_accumulator->sum())
    w.rail_J.push_back(static_cast<double>(counts) * m_joules_per_count);
  w.readings = m_accumulator->reads();
  return w;
}

std::optional<double> measure_update_period_s(const std::function<double()>& read, const Clock& clock, double max_s) {
  const double begin = clock();
  double last = read();
  std::vector<double> changes;
  for (double now = begin; now - begin < max_s && changes.size() < 12; now = clock()) {
    const double v = read();
    // A refused reading (NaN) is no change: NaN != NaN would count every poll as an update.
    if (std::isfinite(v) && v != last) {
      changes.push_back(now);
      last = v;
    }
    // Fine enough for periods of a millisecond, coarse enough to cost little.
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  // The first change ends an interval that began before the probe: only later intervals count.
  if (changes.size() < 4) return std::nullopt;
  std::vector<double> intervals;
  for (std::size_t i = 1; i < changes.size(); ++i) intervals.push_back(changes[i] - changes[i - 1]);
  std::nth_element(intervals.begin(), intervals.begin() + intervals.size() / 2, intervals.end());
  return intervals[intervals.size() / 2];
}

}  // namespace detail
}  // namespace edgeroof::power
