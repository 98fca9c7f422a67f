// A stand-in for the clock drivers of a FakeOrin tree, so that tests meet clocks as a board has
// them: a write to a limit node takes effect late. A background thread watches the limit nodes
// (cpufreq scaling_min/max_freq, GPU devfreq min/max_freq, the EMC cap) with inotify, and
// `delay_s` after a change moves the current-clock node (scaling_cur_freq, cur_freq, the bpmp EMC
// rate) to what the limits now allow: the max limit, as under the performance governor, and for
// the EMC the table rate under the cap. While it changes a clock, the node reads empty for `blank_s`,
// as a driver's node can mid-change. A limit changed again before the delay is over starts it again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace edgeroof::testing {

class FakeClockKernel {
public:
  // Takes over the current-clock nodes of the FakeOrin tree at `root`: they become plain files
  // holding what the limits allow now.
  FakeClockKernel(const std::filesystem::path& root, double delay_s, double blank_s = 0.002);
  ~FakeClockKernel();
  FakeClockKernel(const FakeClockKernel&) = delete;
  FakeClockKernel& operator=(const FakeClockKernel&) = delete;

  // How many clock changes the kernel has made.
  [[nodiscard]] int changes() const { return m_changes.load(); }

private:
  struct Clock {
    std::filesystem::path cur;
    std::function<std::optional<std::int64_t>()> target;
    std::int64_t shown = 0;
    std::optional<std::int64_t> pending;
    std::chrono::steady_clock::time_point due;
  };
  void add(const std::filesystem::path& cur, const std::vector<std::filesystem::path>& limits,
           std::function<std::optional<std::int64_t>()> target);
  void run();
  void notice(std::chrono::steady_clock::time_point now);
  void change_due(std::chrono::steady_clock::time_point now);

  std::chrono::duration<double> m_delay;
  std::chrono::duration<double> m_blank;
  std::vector<Clock> m_clocks;
  int m_inotify = -1;
  int m_wake[2] = {-1, -1};
  std::atomic<int> m_changes{0};
  std::thread m_thread;
};

}  // namespace edgeroof::testing
