// Entering power modes: thermal zones on a fake tree (one reading junk, one disabled), settling on
// scripted temperatures and idle power, and the mode session: apply, verify with patience, settle,
// the wait recorded, and the state found restored on finish() and when an exception leaves.
#include "../data/modes/fake_orin.hpp"
#include "edgeroof/power/mode_session.hpp"
#include "edgeroof/power/thermal.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

using namespace edgeroof::power;
using edgeroof::testing::FakeOrin;

namespace {

// A scripted sequence of readings; the last one repeats.
template <typename T>
std::function<T()> script(std::vector<T> values) {
  auto i = std::make_shared<std::size_t>(0);
  return [values, i] { return values[std::min((*i)++, values.size() - 1)]; };
}

}  // namespace

TEST(ThermalZones, ReadsEveryZoneThatSaysSomethingAboutHeat) {
  const FakeOrin orin("thermal");
  orin.put("/sys/class/thermal/thermal_zone2/temp", "not a number\n");  // junk from a broken driver
  orin.put("/sys/class/thermal/thermal_zone3/temp", "-256000\n");       // a disabled zone
  orin.put("/sys/class/thermal/thermal_zone4/temp", "73250\n");
  orin.put("/sys/class/thermal/thermal_zone5/type", "no temp node\n");
  orin.put("/sys/class/thermal/cooling_device0/temp", "99000\n");  // not a zone
  EXPECT_EQ(read_thermal_zones_C(Root(orin.dir())), (std::vector<double>{41.0, 39.5, 73.25}));
  // No thermal class at all (a container, a fake tree without it): no zones, not an error.
  EXPECT_TRUE(read_thermal_zones_C(Root(orin.dir() / "sys/kernel")).empty());
}

TEST(Settle, WaitsForTemperatureAndSteadyPower) {
  SettleOptions o;
  o.timeout_s = 60;
  o.poll_s = 2;
  o.max_temp_C = 50;
  o.power_samples = 3;
  o.power_tolerance = 0.05;
  double slept = 0;
  const auto sleep = [&](double s) { slept += s; };
  // Cool from the start; power 9.0, 8.0, 7.6, 7.5, 7.4: the first window of 3 within 5% of its mean
  // (and at least 0.1 W) is 7.6, 7.5, 7.4 (spread 0.2 <= 0.375), read after 4 polls of 2 s.
  const auto r = settle(o, script<std::vector<double>>({{41.0, 39.5}}),
                        script<std::optional<double>>({9.0, 8.0, 7.6, 7.5, 7.4}), sleep, nullptr);
  EXPECT_TRUE(r.settled);
  EXPECT_DOUBLE_EQ(r.waited_s, 8.0);
  EXPECT_DOUBLE_EQ(slept, 8.0);
  EXPECT_NEAR(*r.idle_power_W, 7.5, 1e-12);
  EXPECT_DOUBLE_EQ(*r.max_temp_C, 41.0);
  // Hot until the third reading; no sensor: temperatures alone decide.
  const auto hot = settle(o, script<std::vector<double>>({{61.0}, {55.0}, {49.9}}), nullptr, sleep, nullptr);
  EXPECT_TRUE(hot.settled);
  EXPECT_DOUBLE_EQ(hot.waited_s, 4.0);
  EXPECT_FALSE(hot.idle_power_W.has_value());
  // Never cool: gives up at the timeout and says why.
  o.timeout_s = 6;
  const auto never =
      settle(o, script<std::vector<double>>({{70.0}}), script<std::optional<double>>({std::nullopt}), sleep, nullptr);
  EXPECT_FALSE(never.settled);
  EXPECT_DOUBLE_EQ(never.waited_s, 6.0);
  EXPECT_EQ(never.reason, "hottest thermal zone at 70.0 °C, limit 50.0");
  // Hot and unsteady (5, 9, 5, 9 W by the timeout): both reasons.
  const auto both = settle(o, script<std::vector<double>>({{55.0}}),
                           script<std::optional<double>>({5.0, 9.0, 5.0, 9.0}), sleep, nullptr);
  EXPECT_FALSE(both.settled);
  EXPECT_EQ(both.reason, "hottest thermal zone at 55.0 °C, limit 50.0; idle power not stable within 5%");
}

namespace {

// A controller whose clocks follow a mode `late_reads` reads after its apply, and that records what
// the session asks of it. Applying a mode keyed "refused" fails as a refused write does; verifying
// one keyed "explode" throws something unexpected, as a vanished tree or a bug would.
class ScriptedController : public ModeController {
public:
  [[nodiscard]] std::string name() const override { return "scripted"; }
  void save() override { calls.push_back("save"); }
  void apply(const PowerMode& m) override {
    calls.push_back("apply " + m.key);
    if (m.key == "refused") throw SysfsError("cannot write /sys/x: Permission denied");
    m_reads_left = late_reads;
  }
  [[nodiscard]] std::vector<std::string> verify(const PowerMode& m) const override {
    if (m.key == "explode") throw std::runtime_error("sysfs vanished");
    if (m_reads_left > 0) {
      --m_reads_left;
      return {"GPU runs at 1300500000 Hz, the mode wants 624750000"};
    }
    return {};
  }
  void restore() override {
    calls.push_back("restore");
    if (fail_restore) throw ModeError("clocks not back");
  }
  [[nodiscard]] PowerMode current() const override { return {}; }
  std::vector<std::string> calls;
  int late_reads = 0;
  bool fail_restore = false;

private:
  mutable int m_reads_left = 0;
};

PowerMode mode_keyed(const std::string& key) {
  PowerMode m;
  m.key = key;
  return m;
}

SessionOptions quick_settle() {
  SessionOptions o;
  o.settle.timeout_s = 0;
  o.read_temps_C = [] { return std::vector<double>{42.0}; };
  o.sleep_s = [](double) {};
  return o;
}

Patience no_sleep(double timeout_s) {
  Patience p;
  p.timeout_s = timeout_s;
  p.sleep_s = [](double) {};
  return p;
}

}  // namespace

TEST(ModeSession, AppliesVerifiesWithPatienceSettlesAndRestores) {
  ScriptedController c;
  c.late_reads = 3;  // the clocks follow on the fourth read
  c.set_patience(no_sleep(10.0));
  {
    ModeSession session(&c, quick_settle());
    EXPECT_EQ(c.calls, (std::vector<std::string>{"save"}));
    const auto entry = session.enter(mode_keyed("a"));
    EXPECT_EQ(entry.status, ModeEntry::Status::ready);
    ASSERT_TRUE(entry.clock_settle_s.has_value());  // measured, however short
    EXPECT_GE(*entry.clock_settle_s, 0.0);
    EXPECT_TRUE(entry.settled.settled);
    EXPECT_EQ(entry.settled.max_temp_C, 42.0);
    session.finish();
    session.finish();  // once only
  }
  EXPECT_EQ(c.calls, (std::vector<std::string>{"save", "apply a", "restore"}));
}

TEST(ModeSession, RefusedWritesAndClocksThatDoNotFollowAreFailedEntries) {
  ScriptedController c;
  c.set_patience(no_sleep(0.0));
  ModeSession session(&c, quick_settle());
  const auto refused = session.enter(mode_keyed("refused"));
  EXPECT_EQ(refused.status, ModeEntry::Status::failed);
  EXPECT_EQ(refused.stage, "apply");
  EXPECT_EQ(refused.reason, "cannot write /sys/x: Permission denied");
  c.late_reads = 1000000;
  const auto late = session.enter(mode_keyed("late"));
  EXPECT_EQ(late.status, ModeEntry::Status::failed);
  EXPECT_EQ(late.stage, "verify");
  EXPECT_EQ(late.reason, "clocks not in effect after 0.000 s: GPU runs at 1300500000 Hz, the mode wants 624750000");
  EXPECT_FALSE(late.clock_settle_s.has_value());
  // A stop while the clocks are awaited: stopped, not failed.
  auto stopping = quick_settle();
  stopping.stop = [] { return true; };
  c.set_patience(no_sleep(10.0));
  ModeSession stopped(&c, stopping);
  EXPECT_EQ(stopped.enter(mode_keyed("late")).status, ModeEntry::Status::stopped);
}

TEST(ModeSession, AnExceptionLeavingTheSessionStillRestores) {
  ScriptedController c;
  try {
    ModeSession session(&c, quick_settle());
    (void)session.enter(mode_keyed("a"));
    (void)session.enter(mode_keyed("explode"));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "sysfs vanished");
  }
  EXPECT_EQ(c.calls, (std::vector<std::string>{"save", "apply a", "apply explode", "restore"}));
  // finish() hands a failed restore to the caller, and the session does not restore again.
  c.calls.clear();
  c.fail_restore = true;
  {
    ModeSession session(&c, quick_settle());
    EXPECT_THROW(session.finish(), ModeError);
  }
  EXPECT_EQ(c.calls, (std::vector<std::string>{"save", "restore"}));
}

TEST(ModeSession, WithoutAControllerNothingIsAppliedOrRestored) {
  ModeSession session(nullptr, quick_settle());
  const auto entry = session.enter(mode_keyed("current"));
  EXPECT_EQ(entry.status, ModeEntry::Status::ready);
  EXPECT_FALSE(entry.clock_settle_s.has_value());  // nothing applied: no settle time, not a made-up 0
  EXPECT_TRUE(entry.settled.settled);
  session.finish();
}
