// Integration of power traces whose exact energy is known, counters that wrap, and the sampler
// thread driven by a fake clock. This file is also built with -fsanitize=thread.
#include "edgeroof/power/sensor_sampler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

using namespace edgeroof::power;
using namespace edgeroof::power::detail;

namespace {

// Integrates `power(t)` sampled every `dt_s` over [0, end_s] with the trapezoid integrator.
template <class Trace>
double integrate(Trace power, double end_s, double dt_s) {
  TrapezoidIntegrator integ(1);
  const long steps = std::lround(end_s / dt_s);
  for (long i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) * dt_s;
    integ.add(t, {power(t)});
  }
  EXPECT_NEAR(integ.duration_s(), end_s, 1e-9);
  return integ.energy_J()[0];
}

// A fake monotonic clock: every reading advances it by one step, so timestamps do not depend on
// how the threads are scheduled. peek() is the last reading.
class FakeClock {
public:
  explicit FakeClock(double step_s) : m_step_s(step_s) {}
  Clock clock() {
    return [this] { return static_cast<double>(++m_ticks) * m_step_s; };
  }
  [[nodiscard]] double peek() const { return static_cast<double>(m_ticks.load()) * m_step_s; }

private:
  double m_step_s;
  std::atomic<long> m_ticks{0};
};

}  // namespace

TEST(Trapezoid, StepOf10To30WattsOverTwoSecondsIs40Joules) {
  // 10 W for 1 s then 30 W for 1 s: 40 J exactly. The step costs at most (30-10)/2 x dt.
  const double e = integrate([](double t) { return t < 1.0 ? 10.0 : 30.0; }, 2.0, 1e-3);
  EXPECT_NEAR(e, 40.0, 40.0 * 0.01);
  EXPECT_NEAR(e, 40.0, 0.5 * 20.0 * 1e-3 + 1e-9);
}

TEST(Trapezoid, RampIsExact) {
  // p = 5 + 10 t on [0, 2]: 5*2 + 10*2^2/2 = 30 J; the trapezoid rule is exact on lines.
  EXPECT_NEAR(integrate([](double t) { return 5.0 + 10.0 * t; }, 2.0, 0.01), 30.0, 1e-9);
}

TEST(Trapezoid, ParabolaWithinOnePercent) {
  // p = 3 t^2 on [0, 3]: t^3 = 27 J; the rule overestimates by (b-a) h^2 f''/12 = 3 x 0.01 x 6 / 12.
  const double e = integrate([](double t) { return 3.0 * t * t; }, 3.0, 0.1);
  EXPECT_NEAR(e, 27.0, 27.0 * 0.01);
  EXPECT_NEAR(e, 27.0 + 0.015, 1e-9);
}

TEST(Trapezoid, RejectsClockGoingBackwardsAndWrongRailCount) {
  TrapezoidIntegrator integ(2);
  integ.add(1.0, {1.0, 2.0});
  EXPECT_THROW(integ.add(0.5, {1.0, 2.0}), SensorError);
  EXPECT_THROW(integ.add(2.0, {1.0}), SensorError);
}

TEST(Counter, WrapsOnceAtItsRange) {
  // RAPL package: 262143000000 uJ, then wraps at 262143328850 and reads 1000000: 1328850 uJ.
  CounterAccumulator acc({262143328850ULL, 0});
  acc.add({262143000000ULL, 100});
  acc.add({262143300000ULL, 600});
  acc.add({1000000ULL, 1600});
  EXPECT_EQ(acc.sum()[0], 1328850ULL);
  EXPECT_EQ(acc.sum()[1], 1500ULL);
  EXPECT_EQ(acc.reads(), 3u);
}

TEST(Counter, BackwardsWithoutRangeIsAnError) {
  CounterAccumulator acc({0});
  acc.add({500});
  EXPECT_THROW(acc.add({100}), SensorError);
}

TEST(Sampler, ThreadIntegratesAStepAndRampTraceWithinOnePercent) {
  // Trace in fake time: 20 W + 10 W steps every 0.1 s, plus a ramp of 4 W/s. Exact integral of
  // p over [a, b] is F(b) - F(a) with F below.
  auto power = [](double t) { return 20.0 + (static_cast<long>(std::floor(t / 0.1)) % 2 == 1 ? 10.0 : 0.0) + 4.0 * t; };
  auto F = [](double t) {
    const double periods = std::floor(t / 0.2);
    const double in_period = t - periods * 0.2;
    const double high = periods * 0.1 + std::max(0.0, in_period - 0.1);
    return 20.0 * t + 10.0 * high + 2.0 * t * t;
  };
  FakeClock fake(1e-3);
  std::atomic<int> reads{0};
  // Each reading happens right after its timestamp was taken, and no other reading runs then, so
  // peek() inside the reader is the sample's time; the first is the window's start.
  std::atomic<double> first_s{-1.0};
  PowerWindow window(
      1,
      [&](std::vector<double>& p) {
        const double t = fake.peek();
        if (reads++ == 0) first_s = t;
        p[0] = power(t);
      },
      0.0002, fake.clock());
  window.start();
  while (reads.load() < 1000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const WindowEnergy w = window.stop();
  const double last_s = fake.peek();
  EXPECT_NEAR(w.duration_s, last_s - first_s.load(), 1e-9);
  EXPECT_GE(w.readings, 1000u);
  const double exact = F(last_s) - F(first_s.load());
  EXPECT_GT(exact, 20.0);
  EXPECT_NEAR(w.rail_J[0], exact, exact * 0.01);
}

TEST(Sampler, ManyShortWindowsOnOneParkedThread) {
  // Windows opened and closed in quick succession (a benchmark's estimation runs) reuse the
  // thread; each window's energy covers only its own readings. 2 W constant: 2 J per second.
  FakeClock fake(1e-3);
  PowerWindow window(
      1, [](std::vector<double>& p) { p[0] = 2.0; }, 0.0001, fake.clock());
  for (int i = 0; i < 200; ++i) {
    window.start();
    if (i % 2 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
    const WindowEnergy w = window.stop();
    ASSERT_GE(w.readings, 2u);
    EXPECT_NEAR(w.rail_J[0], 2.0 * w.duration_s, 1e-9);
  }
}

TEST(Sampler, AReadingThatFailsInTheThreadIsReportedByStop) {
  FakeClock fake(1e-3);
  std::atomic<int> reads{0};
  PowerWindow window(
      1,
      [&](std::vector<double>& p) {
        if (++reads > 3) throw SensorError("cannot read /sys/fake/in1_input: No such file or directory");
        p[0] = 1.0;
      },
      0.0005, fake.clock());
  window.start();
  while (reads.load() < 4) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  try {
    (void)window.stop();
    FAIL() << "stop() must report the failed reading";
  } catch (const SensorError& e) {
    EXPECT_NE(std::string(e.what()).find("in1_input"), std::string::npos);
  }
  // The window can be used again once the file is back.
  reads = -1000;
  window.start();
  EXPECT_NO_THROW((void)window.stop());
}

TEST(Sampler, CounterWindowSumsDeltasInJoules) {
  FakeClock fake(0.01);
  std::atomic<std::uint64_t> counter_mJ{5000};
  CounterWindow window(
      {0}, 1e-3, [&](std::vector<std::uint64_t>& raw) { raw[0] = counter_mJ.load(); }, 0.001, fake.clock());
  window.start();
  counter_mJ = 7500;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  counter_mJ = 12500;
  const WindowEnergy w = window.stop();
  EXPECT_DOUBLE_EQ(w.rail_J[0], 7.5);
  EXPECT_GT(w.duration_s, 0.0);
}

TEST(UpdatePeriod, MedianIntervalBetweenChanges) {
  // A value that changes every 3 ms of fake time, polled at 0.1 ms of fake time per reading.
  FakeClock fake(1e-4);
  const auto period = measure_update_period_s([&] { return std::floor(fake.peek() / 0.003); }, fake.clock(), 0.5);
  ASSERT_TRUE(period.has_value());
  EXPECT_NEAR(*period, 0.003, 1.5e-4);
}

TEST(UpdatePeriod, SteadyValueHasNoPeriod) {
  FakeClock fake(1e-3);
  EXPECT_FALSE(measure_update_period_s([] { return 42.0; }, fake.clock(), 0.05).has_value());
}
